"""Builds a new convolution from the settings the statement listed before issue 23
(stride, padding, dilation, groups) but not its padding mode, which the statement now
names too: the circular-padding case fails."""

POINTS = 2
SELF_CHECK = "passes"
MESSAGE = "keep the convolution's padding mode"


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
    with torch.no_grad():
        scale = torch.rsqrt(bn.running_var + bn.eps)
        if bn.affine:
            scale = bn.weight * scale
        shift = bn.bias if bn.affine else torch.zeros_like(scale)
        bias = layer.bias if layer.bias is not None else torch.zeros_like(scale)
        dtype = layer.weight.dtype
        if isinstance(layer, nn.Conv2d):
            folded = nn.Conv2d(
                layer.in_channels,
                layer.out_channels,
                layer.kernel_size,
                stride=layer.stride,
                padding=layer.padding,
                dilation=layer.dilation,
                groups=layer.groups,
                dtype=dtype,
            )
        else:
            folded = nn.Linear(layer.in_features, layer.out_features, dtype=dtype)
        shape = (-1,) + (1,) * (layer.weight.dim() - 1)
        folded.weight.copy_(layer.weight * scale.reshape(shape))
        folded.bias.copy_(scale * (bias - bn.running_mean) + shift)
    return folded
