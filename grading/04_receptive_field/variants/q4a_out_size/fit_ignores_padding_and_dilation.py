"""Compares the input with the bare kernel size: forgets that padding helps and that dilation widens
the kernel. The self-check passed it until its dilated kernel that does not fit (issue 22); that
case and the hidden tests of fit and of PyTorch's lengths fail it."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "the padding counts"

import numpy as np


def out_size(n, k, s=1, p=0, d=1):
    for value in (n, k, s, p, d):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"sizes must be integers, got {value!r}")
    if min(n, k, s, d) < 1 or p < 0:
        raise ValueError(f"n, k, s, d must be >= 1 and p >= 0, got {(n, k, s, p, d)}")
    if n < k:
        raise ValueError(f"input of size n={n} is smaller than the kernel k={k}")
    return (n + 2 * p - d * (k - 1) - 1) // s + 1
