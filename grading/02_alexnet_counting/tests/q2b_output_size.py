"""Hidden tests for q2b_output_size: sizes, strides, paddings and dilations beyond the self-check's grid,
sizes too large for floats, and every kind of bad input."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q2b_output_size"
points = 1


@test_case(points=None, hidden=True)
def test_matches_pytorch_beyond_the_grid(output_size):
    import torch

    for n in (17, 31, 100, 227, 1001):
        for k in (1, 3, 8, 11):
            for s in (1, 2, 5, 7):
                for p in (0, 1, 5):
                    for d in (1, 2, 4):
                        if n + 2 * p < d * (k - 1) + 1:
                            continue
                        x = torch.empty(1, 1, n, device="meta")
                        w = torch.empty(1, 1, k, device="meta")
                        want = torch.nn.functional.conv1d(
                            x, w, stride=s, padding=p, dilation=d
                        ).shape[-1]
                        got = output_size(n, k, s, p, d)
                        assert got == want, (
                            f"output_size(n={n}, k={k}, s={s}, p={p}, d={d}) = {got!r}, "
                            f"PyTorch gives {want}: floor((n + 2p - d(k - 1) - 1) / s) + 1"
                        )


@test_case(points=None, hidden=True)
def test_exact_for_sizes_too_large_for_floats(output_size):
    for n, k, s, p, d in [
        (10**18 + 7, 3, 1, 1, 1),
        (2**62 + 1, 11, 4, 0, 1),
        (10**17 + 5, 5, 3, 2, 3),
    ]:
        span = d * (k - 1) + 1
        want = len(range(0, n + 2 * p - span + 1, s))  # the window starts, exactly
        got = output_size(n, k, s, p, d)
        assert got == want, (
            f"output_size({n}, {k}, {s}, {p}, {d}) is off by {got - want}: compute in integers "
            "(// rounds down exactly); a float has 53 bits and loses the last digits"
        )


@test_case(points=None, hidden=True)
def test_bad_input_is_refused(output_size):
    bad = {
        "stride 0": (10, 3, 0, 0, 1),
        "kernel size 0": (10, 0, 1, 0, 1),
        "dilation 0": (10, 3, 1, 0, 0),
        "negative padding": (10, 3, 1, -1, 1),
        "a dilated window wider than the input": (4, 3, 1, 0, 3),
        "a window wider than the padded input": (2, 7, 1, 2, 1),
    }
    for what, args in bad.items():
        dlbook.must_raise(
            ValueError,
            output_size,
            *args,
            what=f"output_size{args} ({what})",
            instead="not return a size",
        )
    got = output_size(5, 3, 1, 0, 2)
    assert got == 1, (
        f"output_size(5, 3, 1, 0, 2) = {got!r}: a dilated window that just fits (d(k - 1) + 1 = "
        "n + 2p) has exactly one position"
    )


# The book's helper module from the autograder zip, never the notebook's own copy (the
# tests above use it when otter runs them, after it has read this whole file).
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)
