"""Forgets to divide by the stride."""

POINTS = 0
SELF_CHECK = "fails"
MESSAGE = "the count of out is wrong"


def conv_counts(n, c_in, c_out, k, s=1, p=0, groups=1, bias=True):
    out = n + 2 * p - k + 1
    terms = (c_in // groups) * k * k
    outputs = c_out * out * out
    return {
        "out": out,
        "params": c_out * terms + (c_out if bias else 0),
        "mults": outputs * terms,
        "adds": outputs * (terms - 1) + (outputs if bias else 0),
    }
