"""The untouched stub of the student edition: every hidden test fails."""

POINTS = 0
MESSAGE = "TODO:"


def output_size(n, k, s=1, p=0, d=1):
    """Theorem ch2-thm-output-size: how many positions a window of k taps, d apart,
    takes with stride s over n inputs zero-padded by p on both sides."""
    raise NotImplementedError("TODO: the answer")
