"""Forgets the dilation: the window spans k positions whatever d."""

POINTS = 0
SELF_CHECK = "fails"
MESSAGE = "dilation 2: output_size(10, 3, 1, 0, 2) gave 8, expected 6: too large"


def output_size(n, k, s=1, p=0, d=1):
    """Theorem ch2-thm-output-size: how many positions a window of k taps, d apart,
    takes with stride s over n inputs zero-padded by p on both sides."""
    if min(k, s, d) < 1 or p < 0:
        raise ValueError("bad arguments")
    if n + 2 * p < k:
        raise ValueError("the window does not fit")
    return (n + 2 * p - k) // s + 1
