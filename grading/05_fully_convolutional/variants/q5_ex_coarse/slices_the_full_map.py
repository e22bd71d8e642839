"""Wrong: computes the whole map and slices it: the right scores, no saving; the self-check counts the multiply-adds."""

POINTS = 0.5
SELF_CHECK = "fails"
MESSAGE = "look for what it computes for entries it drops"

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


def as_convolution(linear, in_channels, kernel):
    """A Conv2d, created on the meta device, that computes `linear` on an input of
    in_channels × kernel; its weight and bias are views of the Linear's."""
    out = linear.out_features
    has_bias = linear.bias is not None
    conv = nn.Conv2d(in_channels, out, kernel, bias=has_bias, device="meta")
    conv.weight = nn.Parameter(linear.weight.detach().view(out, in_channels, *kernel))
    if has_bias:
        conv.bias = nn.Parameter(linear.bias.detach())
    return conv


def convolutionalize(net, input_size=(3, 32, 32)):
    """net's fully convolutional twin, for images of at least input_size (C, H, W)."""
    features = getattr(net, "features", None)
    if not isinstance(features, nn.Module) or not isinstance(
        getattr(net, "classifier", None), nn.Sequential
    ):
        raise TypeError(
            "convolutionalize needs a module with a .features module and a .classifier "
            f"nn.Sequential; got {type(net).__name__}. Wrap your layers that way first."
        )
    with torch.no_grad():
        x = torch.zeros(1, *input_size, device=next(net.parameters()).device)
        channels, *kernel = features(x).shape[1:]
    layers = []
    for index, layer in enumerate(net.classifier):
        if isinstance(layer, nn.Linear):
            size = channels * kernel[0] * kernel[1]
            if layer.in_features != size:
                raise ValueError(
                    f"classifier[{index}] = Linear({layer.in_features} -> "
                    f"{layer.out_features}) does not match what reaches it: {channels}×"
                    f"{kernel[0]}×{kernel[1]} = {size} values for input_size="
                    f"{tuple(input_size)}. Pass the input_size the network was built for."
                )
            layer = as_convolution(layer, channels, tuple(kernel))
            channels, kernel = layer.out_channels, (1, 1)
        elif not isinstance(layer, ELEMENTWISE):
            raise TypeError(
                f"classifier[{index}] is {type(layer).__name__}; convolutionalize "
                "converts only Linear layers and element-wise ReLU, Dropout, Identity."
            )
        layers.append(layer)
    if not any(isinstance(layer, nn.Conv2d) for layer in layers):
        raise ValueError("the classifier has no Linear layer: nothing to convert")
    return FullyConvolutional(features, nn.Sequential(*layers), input_size).eval()


def coarse_twin(net, stride):
    if isinstance(stride, bool) or not (isinstance(stride, int) and stride >= 1):
        raise ValueError(f"stride must be a positive integer, got {stride!r}")

    class EveryStride(nn.Module):
        def forward(self, y):
            return y[:, :, ::stride, ::stride]

    return nn.Sequential(convolutionalize(net), EveryStride())
