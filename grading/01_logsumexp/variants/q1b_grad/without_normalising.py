"""Wrong: exp(beta x) without dividing by the sum; the self-check
catches it."""

POINTS = 0
SELF_CHECK = "fails"
MESSAGE = "the gradient is softmax(beta x)"

import torch


def grad_nu(x, beta=1.0):
    return torch.exp(beta * torch.as_tensor(x, dtype=torch.float64))
