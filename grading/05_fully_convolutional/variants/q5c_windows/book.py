"""The chapter's answer: a loop over positions, and F.unfold for the batch."""

POINTS = 2
SELF_CHECK = "passes"

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
    """net on all windows of x in one batch: a map (N, classes, rows, cols)."""
    rows, cols = window_grid(x, window)
    n, channels = x.shape[:2]
    patches = F.unfold(x, window)  # (N, C·window·window, rows·cols), row-major
    windows = patches.transpose(1, 2).reshape(-1, channels, window, window)
    scores = net(windows)  # (N·rows·cols, classes): image by image, row-major
    return scores.view(n, rows * cols, -1).transpose(1, 2).reshape(n, -1, rows, cols)
