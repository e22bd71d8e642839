"""Divides in floats: exact for small sizes, off by some for sizes beyond 2**53."""

POINTS = 0.5
SELF_CHECK = "passes"
MESSAGE = "a float has 53 bits"

import math


def output_size(n, k, s=1, p=0, d=1):
    """Theorem ch2-thm-output-size: how many positions a window of k taps, d apart,
    takes with stride s over n inputs zero-padded by p on both sides."""
    if min(k, s, d) < 1 or p < 0:
        raise ValueError("k, s and d must be >= 1 and p >= 0")
    if n + 2 * p < d * (k - 1) + 1:
        raise ValueError("the window does not fit")
    return math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1
