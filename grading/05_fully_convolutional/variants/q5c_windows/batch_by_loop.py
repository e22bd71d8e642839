"""Wrong: the batch is the loop, so the net is called once per position."""

POINTS = 1
SELF_CHECK = "passes"
MESSAGE = "asks for 1 call(s)"

import torch

WINDOW = 32


def window_grid(x, window):
    """(rows, cols) of the windows' positions in x; a ValueError if x is not a batch of
    images (N, C, H, W) of at least window×window pixels."""
    if x.dim() != 4 or x.shape[2] < window or x.shape[3] < window:
        raise ValueError(
            f"expected images (N, C, H, W) of at least {window}×{window} pixels, got "
            f"shape {tuple(x.shape)}"
        )
    return x.shape[2] - window + 1, x.shape[3] - window + 1


def scores_loop(net, x, window=WINDOW):
    """net on every window of x, one position at a time: a map (N, classes, rows, cols)."""
    rows, cols = window_grid(x, window)
    scores = [
        net(x[:, :, i : i + window, j : j + window])
        for i in range(rows)
        for j in range(cols)
    ]  # rows·cols score tensors (N, classes), row-major
    return torch.stack(scores, dim=2).reshape(len(x), -1, rows, cols)


def scores_batched(net, x, window=WINDOW):
    return scores_loop(net, x, window)
