"""Hidden tests for q1_ex_min: the smooth minimum on unseen shapes and extreme values."""

from otter.test_files import test_case

OK_FORMAT = False

name = "q1_ex_min"
points = 1


@test_case(points=None, hidden=True)
def test_extreme_values(smooth_min):
    import math

    import torch

    got = float(smooth_min(torch.tensor([1000.0, 1000.0], dtype=torch.float64), 1.0))
    assert math.isclose(got, 1000.0 - math.log(2.0), abs_tol=1e-9), (
        f"smooth_min([1000, 1000]) = {got!r}, expected 1000 - log 2"
    )


@test_case(points=None, hidden=True)
def test_matches_minus_logsumexp_of_minus_x(smooth_min):
    import torch

    generator = torch.Generator().manual_seed(4)
    for shape in [(1,), (5,), (3, 4)]:
        x = 3 * torch.randn(*shape, generator=generator, dtype=torch.float64)
        for beta in (0.3, 2.0, 50.0):
            want = -torch.logsumexp(-beta * x, dim=-1) / beta
            got = torch.as_tensor(smooth_min(x, beta), dtype=torch.float64)
            assert got.shape == want.shape and torch.allclose(got, want, atol=1e-12), (
                f"smooth_min on shape {shape}, beta={beta}: expected -nu_beta(-x)"
            )
