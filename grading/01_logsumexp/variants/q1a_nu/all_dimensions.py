"""Wrong: reduces over every entry of a batch, not over the last dimension
only; the self-check's (4, 3) batch catches it."""

POINTS = 0.5
SELF_CHECK = "fails"
MESSAGE = "reduce over the last dimension only"

import torch


def nu(x, beta=1.0):
    x = torch.as_tensor(x, dtype=torch.float64)
    if beta == 0:
        raise ValueError("beta must be nonzero")
    scaled = beta * x.flatten()
    shift = scaled.max()
    return (shift + torch.log(torch.exp(scaled - shift).sum())) / beta
