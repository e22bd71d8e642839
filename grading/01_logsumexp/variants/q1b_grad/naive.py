"""Wrong: exp(beta x) / sum exp(beta x) without the shift: nan for large beta x,
which the self-check catches."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "exp(1000) overflows"

import torch


def grad_nu(x, beta=1.0):
    x = torch.as_tensor(x, dtype=torch.float64)
    return torch.exp(beta * x) / torch.exp(beta * x).sum(dim=-1, keepdim=True)
