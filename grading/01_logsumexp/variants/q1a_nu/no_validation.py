"""Wrong: right values but no ValueError for beta = 0 (it returns nan); the
self-check catches it."""

POINTS = 1.5
SELF_CHECK = "fails"
MESSAGE = "must raise ValueError"

import torch


def nu(x, beta=1.0):
    x = torch.as_tensor(x, dtype=torch.float64)
    scaled = beta * x
    shift = scaled.amax(dim=-1, keepdim=True)
    return (shift.squeeze(-1) + torch.log(torch.exp(scaled - shift).sum(dim=-1))) / beta
