"""Wrong: nu_beta(x), the smooth maximum, for the minimum; the self-check
catches it."""

POINTS = 0
SELF_CHECK = "fails"
MESSAGE = "exceeds min x"

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


def smooth_min(x, beta):
    return nu(torch.as_tensor(x, dtype=torch.float64), beta)
