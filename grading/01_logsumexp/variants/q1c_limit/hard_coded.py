"""Wrong: the limits at the self-check's inputs typed in; its permuted inputs
catch it, and every hidden test fails."""

POINTS = 0
SELF_CHECK = "fails"
MESSAGE = "permuting the entries of x changed your answer"

import torch


def grad_limit(x):
    return torch.tensor(
        [
            [1, 0, 0],
            [0.5, 0, 0.5],
            [1 / 3, 1 / 3, 1 / 3],
            [0, 0.5, 0.5],
            [0, 1, 0],
            [0.5, 0.5, 0],
        ],
        dtype=torch.float64,
    )
