"""q2b_output_size: the self-check and the hidden tests (unseen layers, sizes too large for
floats, bad input). Every call that computes a size refuses convolutions (from_the_geometry)."""

import itertools
import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q2b_output_size"
points = 1


@test_case(points=0, hidden=False)
def test_seven_layers_and_two_misfits(output_size):
    """output_size gives the sizes of seven layers and refuses two that do not fit"""
    cases = {  # (n, k, s, p, d): the output size, computed once; None: a refusal
        "AlexNet's first layer (stride 4)": ((227, 11, 4, 0, 1), 55),
        "a stride that does not divide": ((8, 3, 2, 0, 1), 3),
        "padding 1": ((13, 3, 1, 1, 1), 13),
        "a window that fits thanks to its padding": ((3, 5, 1, 1, 1), 1),
        "dilation 2": ((10, 3, 1, 0, 2), 6),
        "stride, padding and dilation": ((7, 3, 2, 2, 2), 4),
        "a dilated window that just fits": ((5, 3, 1, 0, 2), 1),
        "a window wider than the input": ((3, 5, 1, 0, 1), None),
        "a dilated window wider than the input": ((4, 3, 1, 0, 2), None),
    }
    for case, (args, want) in cases.items():
        call = f"{case}: output_size{args}"
        if want is None:
            dlbook.must_raise(
                ValueError, output_size, *args, what=call, instead="it was not refused"
            )
            continue
        try:
            got = dlbook.from_the_geometry(output_size, *args)
        except ValueError as error:
            raise AssertionError(f"{call} refused ({error}), expected {want}") from None
        assert got == want, (
            f"{call} gave {got!r}, expected {want}: {dlbook.symptom(got, want)}"
        )


@dlbook.hidden_case(0.5)
def test_pytorchs_sizes_beyond_the_grid_and_beyond_floats(output_size):
    import torch

    sizes = (17, 31, 100, 227, 1001), (1, 3, 8, 11), (1, 2, 5, 7), (0, 1, 5), (1, 2, 4)
    for n, k, s, p, d in itertools.product(*sizes):
        if n + 2 * p < d * (k - 1) + 1:
            continue
        x, w = torch.empty(1, 1, n, device="meta"), torch.empty(1, 1, k, device="meta")
        want = torch.nn.functional.conv1d(x, w, None, s, p, d).shape[-1]
        got = dlbook.from_the_geometry(output_size, n, k, s, p, d)
        assert got == want, (
            f"output_size(n={n}, k={k}, s={s}, p={p}, d={d}) = {got!r}, PyTorch gives "
            f"{want}: floor((n + 2p - d(k - 1) - 1) / s) + 1"
        )
    huge = [(10**18 + 7, 3, 1, 1, 1), (2**62 + 1, 11, 4, 0, 1)]
    for n, k, s, p, d in [*huge, (10**17 + 5, 5, 3, 2, 3)]:
        want = len(range(0, n + 2 * p - d * (k - 1), s))  # the window starts, exactly
        got = dlbook.from_the_geometry(output_size, n, k, s, p, d)
        assert got == want, (
            f"output_size({n}, {k}, {s}, {p}, {d}) is off by {got - want}: compute in "
            "integers (// rounds down exactly); a float has 53 bits and loses the last digits"
        )


@dlbook.hidden_case(0.5)
def test_bad_input_is_refused(output_size):
    bad = {"stride 0": (10, 3, 0, 0, 1), "kernel size 0": (10, 0, 1, 0, 1)}
    bad |= {"dilation 0": (10, 3, 1, 0, 0), "negative padding": (10, 3, 1, -1, 1)}
    bad["a dilated window wider than the input"] = (4, 3, 1, 0, 3)
    bad["a window wider than the padded input"] = (2, 7, 1, 2, 1)
    for what, args in bad.items():
        what, instead = f"output_size{args} ({what})", "not return a size"
        dlbook.must_raise(ValueError, output_size, *args, what=what, instead=instead)
    got = dlbook.from_the_geometry(output_size, 5, 3, 1, 0, 2)
    assert got == 1, (
        f"output_size(5, 3, 1, 0, 2) = {got!r}: a dilated window that just fits "
        "(d(k - 1) + 1 = n + 2p) has exactly one position"
    )
