"""The book's answer."""

POINTS = 1
SELF_CHECK = "passes"


def output_size(n, k, s=1, p=0, d=1):
    """Theorem ch2-thm-output-size: how many positions a window of k taps, d apart,
    takes with stride s over n inputs zero-padded by p on both sides."""
    if min(k, s, d) < 1 or p < 0:
        raise ValueError(
            "kernel size, stride and dilation must be at least 1 and padding at least "
            f"0; got k={k}, s={s}, d={d}, p={p}"
        )
    span = d * (k - 1) + 1  # the input positions one window covers
    if n + 2 * p < span:
        raise ValueError(
            f"a window spanning {span} positions does not fit in {n} inputs padded by "
            f"{p} on both sides: use a smaller kernel or dilation, or more padding"
        )
    return (n + 2 * p - span) // s + 1
