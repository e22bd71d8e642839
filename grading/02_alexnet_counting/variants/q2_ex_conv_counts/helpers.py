"""Correct, another route: helper functions for the output side and the dot product's
length, and the counts built as a dict comprehension over the outputs."""

POINTS = 1
SELF_CHECK = "passes"


def _side(n, k, s, p):
    if n + 2 * p < k:
        raise ValueError("the kernel is wider than the padded input")
    return (n + 2 * p - k) // s + 1


def _terms(c_in, c_out, k, groups):
    if groups < 1 or c_in % groups or c_out % groups:
        raise ValueError("the groups must divide both channel counts")
    return c_in // groups * k**2


def conv_counts(n, c_in, c_out, k, s=1, p=0, groups=1, bias=True):
    terms = _terms(c_in, c_out, k, groups)
    out = _side(n, k, s, p)
    outputs = c_out * out**2
    beta = int(bool(bias))
    return {
        "out": out,
        "params": c_out * (terms + beta),
        "mults": outputs * terms,
        "adds": outputs * (terms - 1 + beta),
    }
