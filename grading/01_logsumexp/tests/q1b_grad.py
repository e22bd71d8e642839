"""Hidden tests for q1b_grad: beta other than 1, batches, extreme values."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q1b_grad"
points = 2


# The book's helper module from the autograder zip, never the notebook's own copy.
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)


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

    try:
        dlbook.by_hand(grad_nu, torch.ones(3, dtype=torch.float64), 0.0, autograd=False)
    except ValueError:
        return
    raise AssertionError("grad_nu(x, beta=0) must raise ValueError")
