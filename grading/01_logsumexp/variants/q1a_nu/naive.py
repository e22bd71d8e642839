"""Wrong: the formula as written, exp before the sum: it overflows (and underflows)
on large entries, which the self-check catches."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "exp(1000) overflows"

import torch


def nu(x, beta=1.0):
    x = torch.as_tensor(x, dtype=torch.float64)
    if beta == 0:
        raise ValueError("beta must be nonzero")
    return torch.log(torch.exp(beta * x).sum(dim=-1)) / beta
