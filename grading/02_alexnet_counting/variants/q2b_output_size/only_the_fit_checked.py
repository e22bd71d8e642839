"""Refuses a window that does not fit, but not a stride, kernel or dilation of 0 or a
negative padding (stride 0 divides by zero)."""

POINTS = 0.5
SELF_CHECK = "passes"
MESSAGE = "(stride 0) must raise ValueError, got ZeroDivisionError"


def output_size(n, k, s=1, p=0, d=1):
    """Theorem ch2-thm-output-size: how many positions a window of k taps, d apart,
    takes with stride s over n inputs zero-padded by p on both sides."""
    if n + 2 * p < d * (k - 1) + 1:
        raise ValueError("the window does not fit")
    return (n + 2 * p - d * (k - 1) - 1) // s + 1
