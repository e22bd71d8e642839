"""q2b_output_size: the public case (the chapter's self-check) and the hidden tests: layers beyond
its grid, sizes too large for floats, and every kind of bad input."""

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
def test_a_grid_against_pytorch(output_size):
    """output_size agrees with PyTorch's conv2d on a grid, refusals included"""
    import itertools

    import torch
    import torch.nn.functional as F

    sizes = range(1, 17), range(1, 8), range(1, 5), range(4), (1, 2, 3)
    for n, k, s, p, d in itertools.product(*sizes):
        x = torch.empty(1, 1, n, n, device="meta")
        try:
            want = F.conv2d(x, x.new_empty(1, 1, k, k), None, s, p, d).shape[-1]
        except RuntimeError:  # a window wider than the padded input
            want = "a refusal"
        try:
            got = output_size(n, k, s, p, d)
        except ValueError:
            got = "a refusal"
        assert got == want, (
            f"output_size(n={n}, k={k}, s={s}, p={p}, d={d}) gave {got}, PyTorch's "
            f"conv2d gives {want}"
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
        got = output_size(n, k, s, p, d)
        assert got == want, (
            f"output_size(n={n}, k={k}, s={s}, p={p}, d={d}) = {got!r}, PyTorch gives "
            f"{want}: floor((n + 2p - d(k - 1) - 1) / s) + 1"
        )
    huge = [(10**18 + 7, 3, 1, 1, 1), (2**62 + 1, 11, 4, 0, 1)]
    for n, k, s, p, d in [*huge, (10**17 + 5, 5, 3, 2, 3)]:
        want = len(range(0, n + 2 * p - d * (k - 1), s))  # the window starts, exactly
        got = output_size(n, k, s, p, d)
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
    got = output_size(5, 3, 1, 0, 2)
    assert got == 1, (
        f"output_size(5, 3, 1, 0, 2) = {got!r}: a dilated window that just fits "
        "(d(k - 1) + 1 = n + 2p) has exactly one position"
    )
