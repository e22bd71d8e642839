"""Correct: the loop fills a preallocated map; the batch cuts the windows with Tensor.unfold on both spatial dimensions (a view) and one reshape."""

POINTS = 2
SELF_CHECK = "passes"


def _grid(x, window):
    if x.dim() != 4 or min(x.shape[2:]) < window:
        raise ValueError(
            f"need (N, C, H, W) images of at least {window}×{window}, got {tuple(x.shape)}"
        )
    return x.shape[2] - window + 1, x.shape[3] - window + 1


def scores_loop(net, x, window=32):
    rows, cols = _grid(x, window)
    out = None
    for i in range(rows):
        for j in range(cols):
            s = net(x[:, :, i : i + window, j : j + window])
            if out is None:
                out = s.new_empty(len(x), s.shape[1], rows, cols)
            out[:, :, i, j] = s
    return out


def scores_batched(net, x, window=32):
    rows, cols = _grid(x, window)
    n, c = x.shape[:2]
    windows = x.unfold(2, window, 1).unfold(3, window, 1)  # (N, C, rows, cols, w, w)
    windows = windows.permute(0, 2, 3, 1, 4, 5).reshape(-1, c, window, window)
    return net(windows).unflatten(0, (n, rows, cols)).permute(0, 3, 1, 2)
