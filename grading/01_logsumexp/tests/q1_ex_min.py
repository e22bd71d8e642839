"""q1_ex_min: its self-check (public) and hidden tests (unseen shapes, extremes)."""

import math
import os
from runpy import run_path
from types import SimpleNamespace

import torch
from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False
name = "q1_ex_min"
points = 1


@test_case(points=0, hidden=False)
def test_below_the_minimum_and_closing_in(smooth_min):
    """smooth_min(x, beta) lies below min x and closes in on it as beta grows"""
    import torch

    generator = torch.Generator().manual_seed(3)
    x = torch.randn(200, 6, generator=generator, dtype=torch.float64)
    rows, n = x.shape
    for beta in (1.0, 10.0, 1000.0):
        gap = torch.as_tensor(smooth_min(x, beta), dtype=torch.float64) - x.amin(dim=1)
        assert (gap <= 1e-12).all(), (
            f"smooth_min(x, {beta}) exceeds min x, by up to {float(gap.max()):.3g}"
        )
        assert beta > 1 or (gap < -1e-9).all(), (
            f"smooth_min(x, 1) equals min x on some of {rows} vectors of {n} entries:"
            " a smooth minimum lies strictly below it (the hard minimum is its limit)"
        )
    assert float(gap.abs().max()) < 1e-2, (
        f"smooth_min(x, 1000) is {float(gap.abs().max()):.3g} from min x: "
        "it does not close in on min x as beta grows"
    )


@dlbook.hidden_case(0.5)
def test_extreme_values(smooth_min):
    got = float(smooth_min(torch.tensor([1e3, 1e3], dtype=torch.float64), 1.0))
    assert math.isclose(got, 1000.0 - math.log(2.0), abs_tol=1e-9), (
        f"smooth_min([1000, 1000]) = {got!r}, expected 1000 - log 2"
    )


@dlbook.hidden_case(0.5)
def test_matches_minus_logsumexp_of_minus_x(smooth_min):
    generator = torch.Generator().manual_seed(4)
    for shape in [(1,), (5,), (3, 4)]:
        x = 3 * torch.randn(*shape, generator=generator, dtype=torch.float64)
        for beta in (0.3, 2.0, 50.0):
            want = -torch.logsumexp(-beta * x, dim=-1) / beta
            got = torch.as_tensor(smooth_min(x, beta), dtype=torch.float64)
            assert got.shape == want.shape and torch.allclose(got, want, atol=1e-12), (
                f"smooth_min on shape {shape}, beta={beta}: expected -nu_beta(-x)"
            )
