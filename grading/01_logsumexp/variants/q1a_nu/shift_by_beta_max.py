"""Wrong: shifts by beta * max(x), which is not the largest exponent when
beta < 0 (exp overflows or underflows there); the self-check only tries beta > 0."""

POINTS = 1.5
SELF_CHECK = "passes"
MESSAGE = "shift by the largest exponent max(beta x)"

import math

import torch


def nu(x, beta=1.0):
    x = torch.as_tensor(x, dtype=torch.float64)
    beta = float(beta)
    if x.ndim == 0 or x.shape[-1] == 0 or beta == 0 or not math.isfinite(beta):
        raise ValueError("bad input")
    shift = beta * x.amax(dim=-1, keepdim=True)
    total = torch.exp(beta * x - shift).sum(dim=-1)
    return (shift.squeeze(-1) + torch.log(total)) / beta
