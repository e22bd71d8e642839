"""Hidden tests for q1b_grad: beta other than 1, batches, extreme values."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q1b_grad"
points = 2


@test_case(points=None, hidden=True)
def test_no_overflow_for_large_beta(grad_nu):
    import torch

    x = torch.tensor([[1.0, 3.0, 3.0], [-5.0, 2.0, 1.0]], dtype=torch.float64)
    got = dlbook.by_hand(grad_nu, x, 1000.0, autograd=False)
    got = torch.as_tensor(got, dtype=torch.float64)
    want = torch.tensor([[0.0, 0.5, 0.5], [0.0, 1.0, 0.0]], dtype=torch.float64)
    assert torch.isfinite(got).all() and torch.allclose(got, want, atol=1e-12), (
        f"grad_nu(x, beta=1000) = {got.tolist()}: exp(beta x) overflows; shift first"
    )


@test_case(points=None, hidden=True)
def test_matches_autograd_for_any_beta_and_shape(grad_nu):
    import torch

    generator = torch.Generator().manual_seed(2)
    for shape in [(1,), (6,), (4, 5), (2, 2, 3)]:
        for beta in (0.5, 3.0, -2.0):
            x = 2 * torch.randn(*shape, generator=generator, dtype=torch.float64)
            x.requires_grad_()
            (want,) = torch.autograd.grad(
                (torch.logsumexp(beta * x, -1) / beta).sum(), x
            )
            got = dlbook.by_hand(grad_nu, x.detach(), beta, autograd=False)
            got = torch.as_tensor(got, dtype=torch.float64)
            assert got.shape == want.shape and torch.allclose(got, want, atol=1e-12), (
                f"grad_nu on shape {shape} with beta={beta} differs from autograd: the "
                "gradient is softmax(beta x) over the last dimension"
            )


@test_case(points=None, hidden=True)
def test_bad_beta_is_refused(grad_nu):
    import torch

    x = torch.ones(3, dtype=torch.float64)
    dlbook.must_raise(
        ValueError,
        dlbook.by_hand,
        grad_nu,
        x,
        0.0,
        autograd=False,
        what="grad_nu(x, beta=0)",
    )


# The book's helper module from the autograder zip, never the notebook's own copy (the
# tests above use it when otter runs them, after it has read this whole file).
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)
