"""Wrong: reduces over dim=1, which is the last dimension only for the
self-check's 2-D batch; a 1-D input fails."""

POINTS = 0
SELF_CHECK = "passes"
MESSAGE = "Dimension out of range"

import torch


def smooth_min(x, beta):
    x = torch.as_tensor(x, dtype=torch.float64)
    return -torch.logsumexp(-beta * x, dim=1) / beta
