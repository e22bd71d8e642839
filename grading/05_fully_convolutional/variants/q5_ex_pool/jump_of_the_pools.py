"""Wrong: the jump counts the pooling layers' strides only; right for the chapter's net, wrong with a strided convolution."""

POINTS = 0.5
SELF_CHECK = "passes"
MESSAGE = "convolutions included"

import torch
import torch.nn as nn


def scores_by_windows(net, x, window=32):
    jump = 1
    for module in net.features.modules():
        if isinstance(module, nn.MaxPool2d):
            jump *= module.stride
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
