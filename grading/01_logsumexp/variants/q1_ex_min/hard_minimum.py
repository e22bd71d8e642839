"""Wrong: the hard minimum, not a smooth one; the self-check catches it."""

POINTS = 0
SELF_CHECK = "fails"
MESSAGE = "a smooth minimum lies strictly below it"

import torch


def smooth_min(x, beta):
    return torch.as_tensor(x, dtype=torch.float64).amin(dim=-1)
