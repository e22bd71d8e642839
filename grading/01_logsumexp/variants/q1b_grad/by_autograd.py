"""Wrong: autograd of the answer's nu, which the question rules out; refused by
the self-check and by every hidden test that computes a value."""

POINTS = 0.5
SELF_CHECK = "fails"
MESSAGE = "grad_nu called autograd"

import math

import torch


def nu(x, beta=1.0):
    x = torch.as_tensor(x, dtype=torch.float64)
    beta = float(beta)
    if x.ndim == 0 or x.shape[-1] == 0 or beta == 0 or not math.isfinite(beta):
        raise ValueError("nu needs a nonempty last dimension and a finite beta != 0")
    scaled = beta * x
    shift = scaled.amax(dim=-1, keepdim=True)
    return (shift.squeeze(-1) + torch.log(torch.exp(scaled - shift).sum(dim=-1))) / beta


def grad_nu(x, beta=1.0):
    if float(beta) == 0 or not math.isfinite(float(beta)):
        raise ValueError("bad beta")
    x = torch.as_tensor(x, dtype=torch.float64).detach().requires_grad_()
    (gradient,) = torch.autograd.grad(nu(x, beta).sum(), x)
    return gradient
