"""Correct: every layer is checked first, then each Linear becomes a convolution whose weight is Tensor.unflatten of the Linear's (a view)."""

POINTS = 3

import torch
import torch.nn as nn


class FullyConvolutional(nn.Module):
    def __init__(self, features, classifier, input_size):
        super().__init__()
        self.features, self.classifier = features, classifier
        self.input_size = tuple(input_size)

    def forward(self, x):
        if x.dim() != 4 or any(s < m for s, m in zip(x.shape[2:], self.input_size[1:])):
            raise ValueError(f"images of at least {self.input_size[1:]} expected")
        return self.classifier(self.features(x))


def convolutionalize(net, input_size=(3, 32, 32)):
    if not hasattr(net, "features") or not isinstance(
        getattr(net, "classifier", None), nn.Sequential
    ):
        raise TypeError("needs .features and a Sequential .classifier")
    for layer in net.classifier:
        if type(layer) not in (nn.Linear, nn.ReLU, nn.Dropout, nn.Identity):
            raise TypeError(f"cannot convert {layer}")
    linears = [m for m in net.classifier if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("no Linear layer in the classifier")
    with torch.inference_mode():
        shape = tuple(net.features(torch.zeros(1, *input_size)).shape[1:])
    sizes = [shape] + [(m.out_features, 1, 1) for m in linears[:-1]]
    converted = {}
    for linear, size in zip(linears, sizes):
        if linear.in_features != size[0] * size[1] * size[2]:
            raise ValueError(f"{linear} does not take a {size} input: pass input_size")
        conv = nn.Conv2d(
            size[0],
            linear.out_features,
            size[1:],
            device="meta",
            bias=linear.bias is not None,
        )
        conv.weight = nn.Parameter(linear.weight.detach().unflatten(1, size))
        if linear.bias is not None:
            conv.bias = nn.Parameter(linear.bias.detach())
        converted[id(linear)] = conv
    classifier = nn.Sequential(*[converted.get(id(m), m) for m in net.classifier])
    return FullyConvolutional(net.features, classifier, input_size).eval()
