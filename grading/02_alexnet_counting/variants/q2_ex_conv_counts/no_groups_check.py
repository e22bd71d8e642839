"""Never checks that the groups divide the channels: counts a layer PyTorch refuses."""

POINTS = 0.5
SELF_CHECK = "passes"
MESSAGE = "must raise ValueError, not count"


def conv_counts(n, c_in, c_out, k, s=1, p=0, groups=1, bias=True):
    if n + 2 * p < k:
        raise ValueError("the kernel does not fit")
    out = (n + 2 * p - k) // s + 1
    terms = (c_in // groups) * k * k
    outputs = c_out * out * out
    return {
        "out": out,
        "params": c_out * terms + (c_out if bias else 0),
        "mults": outputs * terms,
        "adds": outputs * (terms - 1) + (outputs if bias else 0),
    }
