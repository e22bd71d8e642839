"""q1a_nu: the self-check (public) and hidden tests of what it lets through."""

import math
import os
from runpy import run_path
from types import SimpleNamespace

import torch
from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False
name = "q1a_nu"
points = 2


@test_case(points=0, hidden=False)
def test_small_large_and_batched_values(nu):
    """nu is log-sum-exp on small and large values and per row, and refuses beta = 0"""
    import math

    import torch

    small = math.log(math.exp(1.0) + math.exp(-2.0) + math.exp(4.0)) / 2
    overflow = "exp(1000) overflows, but the exact value is finite: so must yours be"
    rows = "reduce over the last dimension only"
    for x, beta, want, mistake in [
        ([0.5, -1.0, 2.0], 2.0, small, "is it (1/beta) log sum_i exp(beta x_i)?"),
        ([1000.0, 1000.0], 1.0, 1000 + math.log(2), overflow),
        ([[0.0] * 3] * 4, 1.0, [math.log(3)] * 4, rows),
    ]:
        x, want = (torch.tensor(v, dtype=torch.float64) for v in (x, want))
        got = torch.as_tensor(dlbook.by_hand(nu, x, beta), dtype=torch.float64)
        assert got.shape == want.shape and (got - want).abs().max() < 1e-12, (
            f"nu({x.tolist()}, {beta}) = {got.tolist()}, expected {want.tolist()}: "
            + mistake
        )
    dlbook.must_raise(ValueError, nu, x, 0.0, what="nu(x, beta=0)")


@dlbook.hidden_case(0.5)
def test_bad_input_is_refused(nu):
    for shape, b in [(3, 0.0), (3, float("inf")), (3, float("nan")), ((2, 0), 1.0)]:
        x = torch.ones(shape, dtype=torch.float64)
        what = f"nu of shape {shape}, beta={b}"
        dlbook.must_raise(ValueError, dlbook.by_hand, nu, x, b, what=what)


@dlbook.hidden_case(1)
def test_matches_logsumexp_on_unseen_shapes_and_betas(nu):
    generator = torch.Generator().manual_seed(1)
    for shape in [(1,), (7,), (3, 5), (2, 3, 4)]:
        x = 4 * torch.randn(*shape, generator=generator, dtype=torch.float64)
        for beta in (0.1, 1.0, 3.0, 25.0):
            want = torch.logsumexp(beta * x, dim=-1) / beta
            got = torch.as_tensor(dlbook.by_hand(nu, x, beta), dtype=torch.float64)
            assert got.shape == want.shape and torch.allclose(got, want, atol=1e-12), (
                f"nu on shape {shape} with beta={beta} differs from torch.logsumexp"
                "(beta x, dim=-1) / beta: reduce over the last dimension only"
            )


@dlbook.hidden_case(0.5)
def test_negative_beta_and_extreme_values(nu):
    for x, beta in [([-1e3, -1e3, 5.0], -1.0), ([-1e3, -1e3], 1.0)]:  # the -1000s tie
        got = float(dlbook.by_hand(nu, torch.tensor(x, dtype=torch.float64), beta))
        assert math.isclose(got, -1000 + math.log(2) / beta, abs_tol=1e-9), (
            f"nu({x}, beta={beta}) = {got!r}: exp(-1000) underflows to 0; for beta < 0 "
            "shift by the largest exponent max(beta x), not by beta * max(x)"
        )
