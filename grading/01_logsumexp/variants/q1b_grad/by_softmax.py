"""Wrong: PyTorch's torch.softmax, the reference; refused by the self-check and
by every hidden test that computes a value (the refusal of beta = 0 still passes)."""

POINTS = 0.5
SELF_CHECK = "fails"
MESSAGE = "grad_nu called PyTorch's softmax"

import math

import torch


def grad_nu(x, beta=1.0):
    if float(beta) == 0 or not math.isfinite(float(beta)):
        raise ValueError("bad beta")
    return torch.softmax(beta * torch.as_tensor(x, dtype=torch.float64), dim=-1)
