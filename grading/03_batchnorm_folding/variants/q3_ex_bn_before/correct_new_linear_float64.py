"""Computes in float64 and fills a new nn.Linear of the original dtype (with a bias) by
copy_: full points."""

POINTS = 2
SELF_CHECK = "passes"


import torch
from torch import nn


def fold_bn_into_next(bn, linear):
    if type(bn) is not nn.BatchNorm1d:
        raise TypeError(f"expected an nn.BatchNorm1d, got {type(bn).__name__}")
    if type(linear) is not nn.Linear:
        raise TypeError(f"expected an nn.Linear, got {type(linear).__name__}")
    if linear.in_features != bn.num_features:
        raise ValueError("the Linear must read as many features as the BN normalizes")
    if bn.training:
        raise ValueError("the BN is in training mode")
    if bn.running_var is None:
        raise ValueError("the BN keeps no running statistics")
    dtype = linear.weight.dtype
    w = linear.weight.detach().double()
    var, mean = bn.running_var.double(), bn.running_mean.double()
    s = (var + bn.eps) ** -0.5
    t = -s * mean
    if bn.affine:
        s = s * bn.weight.detach().double()
        t = bn.bias.detach().double() - s * mean
    b = linear.bias.detach().double() if linear.bias is not None else 0.0
    folded = nn.Linear(linear.in_features, linear.out_features, dtype=dtype)
    with torch.no_grad():
        folded.weight.copy_(w * s)
        folded.bias.copy_(b + w @ t)
    return folded
