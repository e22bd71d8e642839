"""Wrong: PyTorch's log-sum-exp in disguise (the last entry of logcumsumexp);
refused like torch.logsumexp."""

POINTS = 0.5
SELF_CHECK = "fails"
MESSAGE = "nu called PyTorch's logcumsumexp"

import math

import torch


def nu(x, beta=1.0):
    x = torch.as_tensor(x, dtype=torch.float64)
    beta = float(beta)
    if x.ndim == 0 or x.shape[-1] == 0 or beta == 0 or not math.isfinite(beta):
        raise ValueError("bad input")
    return torch.logcumsumexp(beta * x, dim=-1)[..., -1] / beta
