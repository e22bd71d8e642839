"""Hidden tests for q4_ex_spread: random stacks against the spread of path counts measured with PyTorch's
conv1d, and one-layer stacks."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q4_ex_spread"
points = 2


def _measured(stack):
    """Standard deviation of the normalised path counts of an interior unit, by convolution."""
    import torch

    r, jump, P = 1, 1, 0
    for g in stack:
        r, P, jump = r + g.d * (g.k - 1) * jump, P + g.p * jump, jump * g.s
    n = r + 2 * P + 2 * jump
    y = torch.eye(n, dtype=torch.float64).unsqueeze(1)
    for g in stack:
        y = torch.nn.functional.conv1d(
            y, torch.ones(1, 1, g.k, dtype=torch.float64), None, g.s, g.p, g.d
        )
    counts = y[:, 0, :]
    u = next(u for u in range(counts.shape[1]) if u * jump - P >= 0)
    share = counts[:, u] / counts[:, u].sum()
    x = torch.arange(n, dtype=torch.float64)
    mean = (share * x).sum()
    return float((share * (x - mean) ** 2).sum().sqrt())


@test_case(points=None, hidden=True)
def test_random_stacks_match_measured_spread(path_spread, Geometry):
    import math
    import random

    rng = random.Random(46)
    for _ in range(40):
        # 1 to 5 layers: k in 1..5, s in 1..3, p in 0..2, d in 1..3
        stack = dlbook.random_layers(rng, Geometry, 5, (1, 5), (1, 3), (0, 2), (1, 3))
        want, got = (
            _measured(stack),
            float(dlbook.from_the_geometry(path_spread, stack)),
        )
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (
            f"path_spread({stack}) = {got}, the path counts spread {want} (the standard "
            "deviation of an interior unit's normalised path counts)"
        )
    # 40 stride-2 layers: a field of about 2^41 pixels, beyond any convolution; a formula
    # is instant. Its exact variance: the sum of 4^l (3^2 - 1) / 12 over the layers.
    deep = [Geometry(3, 2)] * 40
    want = math.sqrt((4**40 - 1) // 3 * 8 / 12)
    try:
        got = float(dlbook.from_the_geometry(path_spread, deep))
    except Exception as error:  # noqa: BLE001 - any failure here has the same cause
        raise AssertionError(
            f"path_spread([Geometry(3, 2)] * 40) raised {type(error).__name__}: 40 "
            "stride-2 layers have a field of about 2^41 pixels; compute the spread from "
            "the layers' numbers, not from pixels"
        ) from None
    assert math.isclose(got, want, rel_tol=1e-9), (
        f"path_spread([Geometry(3, 2)] * 40) = {got}, expected {want}"
    )


@test_case(points=None, hidden=True)
def test_one_layer_spreads(path_spread, Geometry):
    import math

    for g in [Geometry(1), Geometry(2), Geometry(4, 3, 1, 3), Geometry(6, 1, 0, 2)]:
        want = g.d * math.sqrt((g.k**2 - 1) / 12)
        got = float(dlbook.from_the_geometry(path_spread, [g]))
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (
            f"path_spread([{g}]) = {got}, expected {want}: one layer's taps are uniform on "
            "k positions d apart"
        )


# The book's helper module from the autograder zip, never the notebook's own copy (the
# tests above use it when otter runs them, after it has read this whole file).
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)
