"""Correct, another route: counts the window starts 0, s, 2s, ... that fit, with an
exact integer range."""

POINTS = 1
SELF_CHECK = "passes"


def output_size(n, k, s=1, p=0, d=1):
    """Theorem ch2-thm-output-size: how many positions a window of k taps, d apart,
    takes with stride s over n inputs zero-padded by p on both sides."""
    if k < 1 or s < 1 or d < 1:
        raise ValueError(f"k, s and d must be positive, got k={k}, s={s}, d={d}")
    if p < 0:
        raise ValueError(f"padding must not be negative, got {p}")
    last_start = (
        n + 2 * p - (d * (k - 1) + 1)
    )  # the last position a window may start at
    if last_start < 0:
        raise ValueError("the window does not fit in the padded input")
    return len(range(0, last_start + 1, s))
