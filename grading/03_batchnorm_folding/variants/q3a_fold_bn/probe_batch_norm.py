"""Measures the BN's affine map instead of deriving it, as the chapter's bn_factor does:
runs F.batch_norm on the inputs 1 and 0, so BN(1) - BN(0) is the slope s and BN(0) the
intercept, and folds with them. The question asks for the fold from the BN's parameters:
the self-check and every hidden test that folds refuse batch norm itself; only the test
of bad input, refused before any batch norm runs, passes."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "fold_bn called PyTorch's native_batch_norm"

import copy

import torch
from torch import nn


def fold_bn(layer, bn):
    pairs = {nn.Conv2d: nn.BatchNorm2d, nn.Linear: nn.BatchNorm1d}
    bn_type = next((b for l, b in pairs.items() if isinstance(layer, l)), None)
    if bn_type is None or type(bn) is not bn_type:
        raise TypeError(f"cannot fold {type(layer).__name__} + {type(bn).__name__}")
    if bn.num_features != layer.weight.shape[0]:
        raise ValueError("the layer and the BN have different sizes")
    if bn.training:
        raise ValueError("the BN is in training mode: call .eval() first")
    if bn.running_mean is None:
        raise ValueError("the BN has no running statistics")
    with torch.no_grad():
        probe = torch.eye(2, 1).expand(2, bn.num_features).to(bn.running_var)
        stats = bn.running_mean, bn.running_var, bn.weight, bn.bias
        y = nn.functional.batch_norm(probe, *stats, eps=bn.eps)  # BN(1), BN(0)
        dtype = layer.weight.dtype
        slope, intercept = (y[0] - y[1]).to(dtype), y[1].to(dtype)
        bias = layer.bias if layer.bias is not None else torch.zeros_like(slope)
        folded = copy.deepcopy(layer)
        shape = (-1,) + (1,) * (layer.weight.dim() - 1)
        folded.weight = nn.Parameter(layer.weight * slope.reshape(shape))
        folded.bias = nn.Parameter(slope * bias + intercept)
    return folded
