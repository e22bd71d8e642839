"""Measures the size instead of working it out: runs a Conv1d on a meta-device input of
length n and reads the output's length, as the chapter's q2b_ops self-check does with
whole networks. It refuses bad input itself, so the right sizes and the right refusals,
but the statement asks for the size without running a convolution, and the self-check
and every hidden test that computes a size refuse PyTorch's convolutions."""

POINTS = 0
SELF_CHECK = "fails"
MESSAGE = "without running a convolution"

import torch
from torch import nn


def output_size(n, k, s=1, p=0, d=1):
    if min(k, s, d) < 1 or p < 0:
        raise ValueError(f"need k, s, d >= 1 and p >= 0, got {k=}, {s=}, {d=}, {p=}")
    if n + 2 * p < d * (k - 1) + 1:
        raise ValueError("the window does not fit in the padded input")
    layer = nn.Conv1d(1, 1, k, s, p, d, bias=False, device="meta")
    return layer(torch.zeros(1, 1, n, device="meta")).shape[-1]
