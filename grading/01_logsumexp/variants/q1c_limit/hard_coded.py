"""Wrong: the self-check's expected answer typed in; every hidden test fails."""

POINTS = 0
SELF_CHECK = "passes"
MESSAGE = "share the mass equally"

import torch


def softmax_limit(x):
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
