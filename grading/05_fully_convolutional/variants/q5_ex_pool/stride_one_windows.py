"""Wrong: every window, as for stride-1 features (the theorem's case)."""

POINTS = 0.5
SELF_CHECK = "fails"
MESSAGE = "score the windows the twin scores, not every 32×32 window"

import torch


def scores_by_windows(net, x, window=32):
    rows, cols = x.shape[2] - window + 1, x.shape[3] - window + 1
    crops = torch.cat(
        [
            x[:, :, i : i + window, j : j + window]
            for i in range(rows)
            for j in range(cols)
        ]
    )
    with torch.no_grad():
        return net(crops).T.reshape(1, -1, rows, cols)
