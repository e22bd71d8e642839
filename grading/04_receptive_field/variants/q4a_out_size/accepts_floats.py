"""Checks the range and the fit but not the type: out_size(10.0, 3) = 8.0. The self-check passed it
until its float case (issue 22); that case and the hidden test of bad arguments want a TypeError."""

POINTS = 2
SELF_CHECK = "fails"
MESSAGE = "refuse anything else with TypeError"


def out_size(n, k, s=1, p=0, d=1):
    if min(n, k, s, d) < 1 or p < 0:
        raise ValueError(f"n, k, s, d must be >= 1 and p >= 0, got {(n, k, s, p, d)}")
    span = d * (k - 1) + 1
    if n + 2 * p < span:
        raise ValueError(f"input of size n={n}, padding p={p}: the kernel spans {span}")
    return (n + 2 * p - span) // s + 1
