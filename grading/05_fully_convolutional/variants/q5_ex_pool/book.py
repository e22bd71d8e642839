"""The chapter's answer: the jump is the product of the features' strides."""

POINTS = 1
SELF_CHECK = "passes"

import torch


def scores_by_windows(net, x, window=32):
    # pixels between neighbouring map entries: the product of the features' strides
    jump = 1
    for module in net.features.modules():
        step = getattr(module, "stride", 1)
        jump *= step[0] if isinstance(step, tuple) else step
    rows = (x.shape[2] - window) // jump + 1
    cols = (x.shape[3] - window) // jump + 1
    crops = torch.cat(
        [
            x[:, :, i * jump : i * jump + window, j * jump : j * jump + window]
            for i in range(rows)
            for j in range(cols)
        ]
    )
    with torch.no_grad():
        return net(crops).T.reshape(1, -1, rows, cols)
