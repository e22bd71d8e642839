"""Calls PyTorch's fuse_conv_bn_eval / fuse_linear_bn_eval, which the question refuses:
the self-check and every hidden test that folds refuse it."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "fold_bn called torch.nn.utils.fusion.fuse_"

import copy

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
    from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

    fuse = fuse_conv_bn_eval if isinstance(layer, nn.Conv2d) else fuse_linear_bn_eval
    return fuse(copy.deepcopy(layer).eval(), bn)
