"""Checks types and ranges but leaves the dilation out: the span is k, not d(k-1)+1. With d = 1 it is
right, so the self-check's undilated layers passed it before issue 22; its dilated layers now fail
it, and so do the hidden tests of PyTorch's lengths and of what fits."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "dilation: out_size(20, 3, 2, 1, 3) = 10, expected 8 (an int): too large"

import numpy as np


def out_size(n, k, s=1, p=0, d=1):
    for name, value, lowest in zip("nkspd", (n, k, s, p, d), (1, 1, 1, 0, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        if value < lowest:
            raise ValueError(f"{name} must be >= {lowest}, got {value}")
    if n + 2 * p < k:
        raise ValueError(f"input n={n}, padding p={p}: smaller than the kernel {k}")
    return (n + 2 * p - k) // s + 1
