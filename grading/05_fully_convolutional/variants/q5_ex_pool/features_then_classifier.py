"""Wrong: the self-check's own reference, the classifier on every m×m window of the features
of the whole image (the twin's map without building the twin), plus one call of `net` on a
crop of side `window` so that net "runs on crops". The statement asks for the map from net
itself on the crops: the self-check finds entries that net returned on none of the crops it
ran on, and both hidden cases record every crop net runs on."""

POINTS = 0
SELF_CHECK = "fails"
MESSAGE = "run the net itself on exactly those crops"

import torch


def scores_by_windows(net, x, window=32):
    with torch.no_grad():
        net(x[:, :, :window, :window])  # net itself, on one crop
        maps = net.features(x)
        m = net.features(x[:, :, :window, :window]).shape[-1]
        rows, cols = maps.shape[2] - m + 1, maps.shape[3] - m + 1
        scores = [
            net.classifier(net.flatten(maps[:, :, a : a + m, b : b + m]))
            for a in range(rows)
            for b in range(cols)
        ]
    return torch.stack(scores, -1).reshape(1, -1, rows, cols)
