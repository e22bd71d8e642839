"""q1b_grad: its self-check (public) and hidden tests (any beta, batches, overflow)."""

import os
from runpy import run_path
from types import SimpleNamespace

import torch
from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False
name = "q1b_grad"
points = 2


@test_case(points=0, hidden=False)
def test_against_autograd_and_no_overflow(grad_nu):
    """grad_nu(x, 1) equals autograd's gradient of log-sum-exp, without overflow"""
    import torch

    x = torch.tensor([0.3, -1.2, 2.0, 0.7], dtype=torch.float64, requires_grad=True)
    (want,) = torch.autograd.grad(torch.logsumexp(x, dim=-1), x)
    got = dlbook.by_hand(grad_nu, x.detach(), 1.0, autograd=False)
    got = torch.as_tensor(got, dtype=torch.float64)
    assert got.shape == want.shape and torch.allclose(got, want, atol=1e-12), (
        f"grad_nu({x.tolist()}, 1) = {got.tolist()}, autograd gives {want.tolist()}: "
        "the values differ from the gradient of log-sum-exp"
    )
    x, want = torch.tensor([1000.0, 1000.0]), torch.tensor([0.5, 0.5])
    got = torch.as_tensor(dlbook.by_hand(grad_nu, x, 1.0, autograd=False))
    assert torch.allclose(got.float(), want), (
        f"grad_nu([1000, 1000], 1) = {got.tolist()}, expected [0.5, 0.5]: exp(1000) "
        "overflows, but the exact gradient is finite: so must yours be"
    )


@dlbook.hidden_case(0.5)
def test_no_overflow_for_large_beta(grad_nu):
    x = torch.tensor([[1.0, 3.0, 3.0], [-5.0, 2.0, 1.0]], dtype=torch.float64)
    got = dlbook.by_hand(grad_nu, x, 1e3, autograd=False)
    got = torch.as_tensor(got, dtype=torch.float64)
    want = torch.tensor([[0.0, 0.5, 0.5], [0.0, 1.0, 0.0]], dtype=torch.float64)
    assert torch.isfinite(got).all() and torch.allclose(got, want, atol=1e-12), (
        f"grad_nu(x, beta=1000) = {got.tolist()}: exp(beta x) overflows; shift first"
    )


@dlbook.hidden_case(1)
def test_matches_autograd_for_any_beta_and_shape(grad_nu):
    generator = torch.Generator().manual_seed(2)
    for shape in [(1,), (6,), (4, 5), (2, 2, 3)]:
        for beta in (0.5, 3.0, -2.0):
            x = 2 * torch.randn(*shape, generator=generator, dtype=torch.float64)
            x.requires_grad_()
            (want,) = torch.autograd.grad(torch.logsumexp(beta * x, -1).sum() / beta, x)
            got = dlbook.by_hand(grad_nu, x.detach(), beta, autograd=False)
            got = torch.as_tensor(got, dtype=torch.float64)
            assert got.shape == want.shape and torch.allclose(got, want, atol=1e-12), (
                f"grad_nu on shape {shape} with beta={beta} differs from autograd: the "
                "gradient is softmax(beta x) over the last dimension"
            )


@dlbook.hidden_case(0.5)
def test_bad_beta_is_refused(grad_nu):
    x, what = torch.ones(3, dtype=torch.float64), "grad_nu(x, beta=0)"
    dlbook.must_raise(
        ValueError, dlbook.by_hand, grad_nu, x, 0.0, what=what, autograd=False
    )
