"""The right formula with no check at all: a kernel that does not fit gives a size <= 0. The
self-check's input of 5 for a kernel of 7 shows it."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "must raise ValueError, not return a size"


def out_size(n, k, s=1, p=0, d=1):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1
