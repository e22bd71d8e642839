"""Wrong: the batch keeps only the first image."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "every image of the batch"

import torch
import torch.nn.functional as F

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
    if x.dim() != 4 or x.shape[2] < window or x.shape[3] < window:
        raise ValueError(f"expected (N, C, H, W) of at least {window}×{window}")
    channels = x.shape[1]
    rows, cols = x.shape[2] - window + 1, x.shape[3] - window + 1
    windows = F.unfold(x, window)[0].T.reshape(-1, channels, window, window)
    return net(windows).T.reshape(1, -1, rows, cols)
