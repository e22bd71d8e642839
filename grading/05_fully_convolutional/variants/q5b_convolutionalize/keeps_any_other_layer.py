"""Wrong: keeps every layer that is not a Linear (a BatchNorm1d too), instead of refusing what is not element-wise."""

POINTS = 2.5
MESSAGE = "a BatchNorm1d in the classifier must raise"

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
    if not (
        isinstance(getattr(net, "features", None), nn.Module)
        and isinstance(getattr(net, "classifier", None), nn.Sequential)
    ):
        raise TypeError("convolutionalize needs .features and a .classifier Sequential")
    with torch.no_grad():
        channels, height, width = net.features(torch.zeros(1, *input_size)).shape[1:]
    layers = []
    for index, layer in enumerate(net.classifier):
        if not isinstance(layer, nn.Linear):  # ReLU, Dropout, ...: kept as they are
            layers.append(layer)
            continue
        first = not any(isinstance(m, nn.Conv2d) for m in layers)
        kernel = (height, width) if first else (1, 1)
        in_channels = channels if first else layer.in_features
        if layer.in_features != in_channels * kernel[0] * kernel[1]:
            raise ValueError(f"classifier[{index}] does not match; pass the input_size")
        conv = nn.Conv2d(
            in_channels,
            layer.out_features,
            kernel,
            bias=layer.bias is not None,
            device="meta",
        )
        conv.weight = nn.Parameter(
            layer.weight.detach().view(layer.out_features, in_channels, *kernel)
        )
        if layer.bias is not None:
            conv.bias = nn.Parameter(layer.bias.detach())
        layers.append(conv)
    if not any(isinstance(layer, nn.Conv2d) for layer in layers):
        raise ValueError("the classifier has no Linear layer")
    return FullyConvolutional(net.features, nn.Sequential(*layers), input_size).eval()
