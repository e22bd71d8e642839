"""Measures the BN's affine map instead of deriving it: runs the BN module on the
inputs 1 and 0, so BN(1) - BN(0) is the slope s and BN(0) the shift t, then
W' = W diag(s), b' = b + W t. The question asks for the fold from the BN's parameters:
the self-check and the hidden test that folds refuse batch norm itself; only the test
of bad input, refused before any batch norm runs, passes."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "fold_bn_into_next called PyTorch's native_batch_norm"

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
        probe = torch.eye(2, 1).expand(2, bn.num_features).to(bn.running_var)
        y = bn(probe)  # rows: BN(1), BN(0)
        s, t = y[0] - y[1], y[1]
        bias = linear.bias if linear.bias is not None else 0
        folded = copy.deepcopy(linear)
        folded.weight = nn.Parameter(linear.weight * s)
        folded.bias = nn.Parameter(bias + linear.weight @ t)
    return folded
