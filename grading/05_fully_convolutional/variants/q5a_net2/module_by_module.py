"""Correct: each of Net2's convolutions is created on the meta device and replaced by a parameter cloned from its Linear, after every pair is checked."""

POINTS = 2

import copy

import torch
import torch.nn as nn


def make_features():
    return nn.Sequential(
        nn.Conv2d(3, 64, 7),
        nn.ReLU(),
        nn.Conv2d(64, 192, 3),
        nn.ReLU(),
        nn.Conv2d(192, 384, 3),
        nn.ReLU(),
        nn.Conv2d(384, 256, 3),
        nn.ReLU(),
        nn.Conv2d(256, 256, 3),
    )


class Net1(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = make_features()
        self.classifier = nn.Sequential(
            nn.Linear(256 * 18 * 18, 4096),
            nn.ReLU(),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, 10),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


torch.manual_seed(0)
net1 = (
    Net1().eval()
)  # the chapter's Net1, which the hidden tests and the self-check use


class Net2(nn.Module):
    SIZES = [(256, 4096, 18), (4096, 4096, 1), (4096, 10, 1)]

    def __init__(self):
        super().__init__()
        layers = []
        for i, (c_in, c_out, k) in enumerate(self.SIZES):
            layers += [nn.ReLU()] if i else []
            layers.append(nn.Conv2d(c_in, c_out, k, device="meta"))
        with torch.device("meta"):
            self.features = make_features()
        self.classifier = nn.Sequential(*layers)

    def forward(self, x):
        return self.classifier(self.features(x))

    def copy_weights_from(self, net1):
        linears = [m for m in net1.classifier if isinstance(m, nn.Linear)]
        shapes = [(o, i * k * k) for i, o, k in self.SIZES]
        if [tuple(m.weight.shape) for m in linears] != shapes:
            raise ValueError(f"net1's Linear layers are {linears}, Net2 needs {shapes}")
        if any(m.bias is None for m in linears):
            raise ValueError("each Linear layer of net1 needs a bias")
        if repr(self.features) != repr(net1.features):
            raise ValueError(f"net1's features are {net1.features}, not Net1's")
        self.features = copy.deepcopy(net1.features)
        convs = [m for m in self.classifier if isinstance(m, nn.Conv2d)]
        for conv, linear in zip(convs, linears):
            weight = linear.weight.detach().reshape(conv.weight.shape).clone()
            conv.weight = nn.Parameter(weight)
            conv.bias = nn.Parameter(linear.bias.detach().clone())
        return self.eval()
