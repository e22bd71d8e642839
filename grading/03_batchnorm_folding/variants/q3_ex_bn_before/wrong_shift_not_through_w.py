"""Adds the BN's shift to the bias directly instead of passing it through W."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "the weight is right but the bias is wrong"

import copy

import torch
from torch import nn


def fold_bn_into_next(bn, linear):
    if not isinstance(bn, nn.BatchNorm1d) or not isinstance(linear, nn.Linear):
        raise TypeError("fold_bn_into_next expects (nn.BatchNorm1d, nn.Linear)")
    if bn.num_features != linear.in_features:
        raise ValueError("the BN and the Linear have different sizes")
    if bn.training or bn.running_mean is None:
        raise ValueError("the BN must be in eval mode with running statistics")
    with torch.no_grad():
        s = torch.rsqrt(bn.running_var + bn.eps)
        if bn.affine:
            s = bn.weight * s
        t = (bn.bias if bn.affine else 0) - s * bn.running_mean
        bias = linear.bias if linear.bias is not None else 0
        folded = copy.deepcopy(linear)
        folded.weight = nn.Parameter(linear.weight * s)
        folded.bias = nn.Parameter(bias + t.sum())
    return folded
