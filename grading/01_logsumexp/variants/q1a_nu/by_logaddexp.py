"""Wrong: PyTorch's torch.logaddexp folded along the last dimension, a log-sum-exp of
two terms at a time; refused like torch.logsumexp, as the statement says."""

POINTS = 0.5
SELF_CHECK = "fails"
MESSAGE = "nu called PyTorch's logaddexp"

import functools
import math

import torch


def nu(x, beta=1.0):
    x = torch.as_tensor(x, dtype=torch.float64)
    beta = float(beta)
    if x.ndim == 0 or x.shape[-1] == 0 or beta == 0 or not math.isfinite(beta):
        raise ValueError("bad input")
    return functools.reduce(torch.logaddexp, (beta * x).unbind(-1)) / beta
