"""Switches the caller's net to eval mode instead of refusing a net in training mode."""

POINTS = 1
SELF_CHECK = "passes"
MESSAGE = "fold_net of a SmallNet in training mode must raise ValueError"

import copy

import torch
from torch import nn


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU()
        )
        self.conv2 = nn.Sequential(
            nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU()
        )
        self.fc1 = nn.Sequential(
            nn.Linear(16 * 32 * 32, 1024), nn.BatchNorm1d(1024), nn.ReLU()
        )
        self.fc2 = nn.Sequential(nn.Linear(1024, 10), nn.ReLU())

    def forward(self, x):
        x = self.conv2(self.conv1(x))
        return self.fc2(self.fc1(x.flatten(1)))


class SmallNetTest(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU())
        self.conv2 = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.fc1 = nn.Sequential(nn.Linear(16 * 32 * 32, 1024), nn.ReLU())
        self.fc2 = nn.Sequential(nn.Linear(1024, 10), nn.ReLU())

    def forward(self, x):
        x = self.conv2(self.conv1(x))
        return self.fc2(self.fc1(x.flatten(1)))


def fold_bn(layer, bn):
    if not isinstance(layer, (nn.Conv2d, nn.Linear)):
        raise TypeError(
            f"fold_bn folds into Conv2d or Linear, got {type(layer).__name__}"
        )
    bn_type = nn.BatchNorm2d if isinstance(layer, nn.Conv2d) else nn.BatchNorm1d
    if type(bn) is not bn_type:
        raise TypeError(f"expected nn.{bn_type.__name__}, got {type(bn).__name__}")
    if bn.num_features != layer.weight.shape[0]:
        raise ValueError("the layer and the BN have different sizes")
    if bn.training:
        raise ValueError("the BN is in training mode: call .eval() first")
    if bn.running_mean is None:
        raise ValueError("the BN has no running statistics")
    with torch.no_grad():
        scale = torch.rsqrt(bn.running_var + bn.eps)
        if bn.affine:
            scale = bn.weight * scale
        shift = bn.bias if bn.affine else torch.zeros_like(scale)
        bias = layer.bias if layer.bias is not None else torch.zeros_like(scale)
        folded = copy.deepcopy(layer)
        shape = (-1,) + (1,) * (layer.weight.dim() - 1)
        folded.weight = nn.Parameter(layer.weight * scale.reshape(shape))
        folded.bias = nn.Parameter(scale * (bias - bn.running_mean) + shift)
    return folded


def fold_net(net):
    if not isinstance(net, SmallNet):
        raise TypeError(f"fold_net expects a SmallNet, got {type(net).__name__}")
    net.eval()
    test_net = SmallNetTest().to(net.fc2[0].weight.dtype)
    with torch.no_grad():
        for name in ("conv1", "conv2", "fc1"):
            layer, bn = getattr(net, name)[0], getattr(net, name)[1]
            getattr(test_net, name)[0].load_state_dict(fold_bn(layer, bn).state_dict())
        test_net.fc2[0].load_state_dict(net.fc2[0].state_dict())
    return test_net.eval()
