"""Folds without refusing bad input."""

POINTS = 1
SELF_CHECK = "passes"
MESSAGE = "fold_bn_into_next with a BatchNorm2d must raise TypeError"

import copy

import torch
from torch import nn


def fold_bn_into_next(bn, linear):
    with torch.no_grad():
        s = torch.rsqrt(bn.running_var + bn.eps)
        if bn.affine:
            s = bn.weight * s
        t = (bn.bias if bn.affine else 0) - s * bn.running_mean
        bias = linear.bias if linear.bias is not None else 0
        folded = copy.deepcopy(linear)
        folded.weight = nn.Parameter(linear.weight * s)
        folded.bias = nn.Parameter(bias + linear.weight @ t)
    return folded
