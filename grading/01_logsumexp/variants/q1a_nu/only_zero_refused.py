"""Wrong: refuses beta = 0 but returns nan or a number for an infinite or nan
beta and for an empty last dimension; the self-check only tries beta = 0."""

POINTS = 1.5
SELF_CHECK = "passes"
MESSAGE = "must raise ValueError"

import torch


def nu(x, beta=1.0):
    x = torch.as_tensor(x, dtype=torch.float64)
    if beta == 0:
        raise ValueError("beta must be nonzero")
    scaled = beta * x
    shift = scaled.amax(dim=-1, keepdim=True)
    return (shift.squeeze(-1) + torch.log(torch.exp(scaled - shift).sum(dim=-1))) / beta
