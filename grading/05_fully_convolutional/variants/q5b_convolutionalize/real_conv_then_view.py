"""Correct: each convolution is created with real (small) storage, then its weight and bias are replaced by views of the Linear's; the feature map's size is read by a forward hook."""

POINTS = 3

import torch
import torch.nn as nn


class FullyConvolutional(nn.Module):
    """features, then a classifier of convolutions: a map of scores (N, classes, H', W'),
    one per window of the input size of the network it was made from."""

    def __init__(self, features, classifier, input_size):
        super().__init__()
        self.features, self.classifier = features, classifier
        self.input_size = tuple(input_size)

    def forward(self, x):
        height, width = self.input_size[1:]
        if x.dim() != 4 or x.shape[2] < height or x.shape[3] < width:
            raise ValueError(
                f"expected images (N, C, H, W) of at least {height}×{width} pixels, the "
                f"input size of the network this was made from; got {tuple(x.shape)}"
            )
        return self.classifier(self.features(x))


ELEMENTWISE = (nn.ReLU, nn.Dropout, nn.Identity)


def convolutionalize(net, input_size=(3, 32, 32)):
    features = getattr(net, "features", None)
    classifier = getattr(net, "classifier", None)
    if not isinstance(features, nn.Module) or not isinstance(classifier, nn.Sequential):
        raise TypeError(
            "convolutionalize needs .features and an nn.Sequential .classifier"
        )
    seen = []
    handle = features.register_forward_hook(lambda m, i, out: seen.append(out.shape))
    try:
        with torch.no_grad():
            net.features(torch.zeros(1, *input_size))
    finally:
        handle.remove()
    c, h, w = seen[0][1:]
    layers = []
    for layer in classifier:
        if isinstance(layer, ELEMENTWISE):
            layers.append(layer)
        elif isinstance(layer, nn.Linear):
            if layer.in_features != c * h * w:
                raise ValueError(
                    f"{layer} needs {layer.in_features} inputs, gets {c * h * w}"
                )
            conv = nn.Conv2d(c, layer.out_features, (h, w), bias=layer.bias is not None)
            conv.weight = nn.Parameter(layer.weight.detach().view(-1, c, h, w))
            if layer.bias is not None:
                conv.bias = nn.Parameter(layer.bias.detach())
            layers.append(conv)
            c, h, w = layer.out_features, 1, 1
        else:
            raise TypeError(f"cannot convert {type(layer).__name__}")
    if not any(isinstance(m, nn.Conv2d) for m in layers):
        raise ValueError("the classifier has no Linear layer")
    return FullyConvolutional(features, nn.Sequential(*layers), input_size).eval()
