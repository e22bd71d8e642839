"""Wrong: PyTorch's own torch.logsumexp, the grader's reference, is the answer;
refused by the self-check and by every hidden test that computes a value."""

POINTS = 0.5
SELF_CHECK = "fails"
MESSAGE = "nu called PyTorch's logsumexp"

import math

import torch


def nu(x, beta=1.0):
    x = torch.as_tensor(x, dtype=torch.float64)
    beta = float(beta)
    if x.ndim == 0 or x.shape[-1] == 0 or beta == 0 or not math.isfinite(beta):
        raise ValueError("bad input")
    return torch.logsumexp(beta * x, dim=-1) / beta
