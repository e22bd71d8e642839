"""The untouched stub of the student edition: every hidden test fails."""

POINTS = 0
MESSAGE = "TODO:"


def conv_counts(n, c_in, c_out, k, s=1, p=0, groups=1, bias=True):
    raise NotImplementedError("TODO: the answer")
