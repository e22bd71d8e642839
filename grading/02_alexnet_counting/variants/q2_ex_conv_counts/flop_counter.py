"""Counts by running the layer, not by hand: builds the Conv2d on the meta device and reads
the output side from its output and the multiplications from FlopCounterMode, as q2b_ops's
self-check does. Right values, but the statement asks for counts worked out without running a
convolution, and the self-check and every hidden test that computes counts refuse PyTorch's
convolutions."""

POINTS = 0
SELF_CHECK = "fails"
MESSAGE = "without running a convolution"

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def conv_counts(n, c_in, c_out, k, s=1, p=0, groups=1, bias=True):
    if n + 2 * p < k:
        raise ValueError(f"a {k}x{k} kernel does not fit in {n}x{n} padded by {p}")
    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        layer = nn.Conv2d(c_in, c_out, k, s, p, groups=groups, bias=bias)  # ValueError
        out = layer(torch.zeros(1, c_in, n, n))
    mults = counter.get_total_flops() // 2  # two FLOPs per multiply-add
    params = sum(w.numel() for w in layer.parameters())
    adds = mults - (0 if bias else out.numel())
    return {"out": out.shape[-1], "params": params, "mults": mults, "adds": adds}
