"""True division: a float, and no check of the fit or the types. The self-check shows the
float where an int is expected; the hidden tests fail throughout."""

POINTS = 0
SELF_CHECK = "fails"
MESSAGE = "out_size(227, 11, 4, 0, 1) = 55.0, expected 55 (an int): not an int"


def out_size(n, k, s=1, p=0, d=1):
    return (n + 2 * p - d * (k - 1) - 1) / s + 1
