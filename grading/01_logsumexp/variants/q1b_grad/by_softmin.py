"""Wrong: PyTorch's softmin of -beta x, a softmax in disguise; refused like
torch.softmax."""

POINTS = 0.5
SELF_CHECK = "fails"
MESSAGE = "grad_nu called PyTorch's softmax"

import math

import torch


def grad_nu(x, beta=1.0):
    if float(beta) == 0 or not math.isfinite(float(beta)):
        raise ValueError("bad beta")
    x = torch.as_tensor(x, dtype=torch.float64)
    return torch.nn.functional.softmin(-beta * x, -1)
