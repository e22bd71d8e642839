"""The student edition's untouched stub: every hidden test fails."""

POINTS = 0
MESSAGE = "TODO:"


def out_size(n, k, s=1, p=0, d=1):
    raise NotImplementedError("TODO: return the output length")
