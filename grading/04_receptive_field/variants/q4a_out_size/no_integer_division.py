"""True division: a float, and no check of the fit or the types. The self-check names the formula's
integer division; the hidden tests fail throughout."""

POINTS = 0
SELF_CHECK = "fails"
MESSAGE = "the formula is floor((n + 2p - d(k-1) - 1) / s) + 1"


def out_size(n, k, s=1, p=0, d=1):
    return (n + 2 * p - d * (k - 1) - 1) / s + 1
