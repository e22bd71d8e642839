"""Correct: the batch stacks the crops the loop would cut and makes one call; the loop stacks row by row."""

POINTS = 2
SELF_CHECK = "passes"

import torch


def _check(x, window):
    if x.dim() != 4 or x.shape[-2] < window or x.shape[-1] < window:
        raise ValueError(
            f"x must be (N, C, H, W) with H, W >= {window}; got {tuple(x.shape)}"
        )


def scores_loop(net, x, window=32):
    _check(x, window)
    rows = range(x.shape[2] - window + 1)
    cols = range(x.shape[3] - window + 1)
    return torch.stack(
        [
            torch.stack(
                [net(x[:, :, i : i + window, j : j + window]) for j in cols], -1
            )
            for i in rows
        ],
        -2,
    )


def scores_batched(net, x, window=32):
    _check(x, window)
    rows, cols = x.shape[2] - window + 1, x.shape[3] - window + 1
    crops = [
        x[n, :, i : i + window, j : j + window]
        for n in range(len(x))
        for i in range(rows)
        for j in range(cols)
    ]
    scores = net(torch.stack(crops))
    return scores.view(len(x), rows, cols, -1).permute(0, 3, 1, 2)
