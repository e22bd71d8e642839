"""Calls fuse_conv_bn_weights / fuse_linear_bn_weights through torch.nn.utils, which re-
exports them: refused there too."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "fold_bn called torch.nn.utils.fusion.fuse_"

import copy

import torch
from torch import nn


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
    gamma = bn.weight if bn.affine else torch.ones_like(bn.running_var)
    beta = bn.bias if bn.affine else torch.zeros_like(bn.running_var)
    if isinstance(layer, nn.Conv2d):
        fuse = torch.nn.utils.fuse_conv_bn_weights
    else:
        fuse = torch.nn.utils.fuse_linear_bn_weights
    weight, bias = fuse(
        layer.weight, layer.bias, bn.running_mean, bn.running_var, bn.eps, gamma, beta
    )
    folded = copy.deepcopy(layer)
    folded.weight, folded.bias = weight, bias
    return folded
