"""The book's answer."""

POINTS = 1
SELF_CHECK = "passes"


def conv_counts(n, c_in, c_out, k, s=1, p=0, groups=1, bias=True):
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"groups={groups} must divide c_in={c_in} and c_out={c_out}: each group "
            "reads c_in / groups channels and writes c_out / groups"
        )
    if n + 2 * p < k:
        raise ValueError(
            f"a {k}x{k} kernel does not fit in a {n}x{n} input padded by {p}: "
            "use a smaller kernel or more padding"
        )
    out = (n + 2 * p - k) // s + 1
    terms = (c_in // groups) * k * k
    outputs = c_out * out * out
    return {
        "out": out,
        "params": c_out * terms + (c_out if bias else 0),
        "mults": outputs * terms,
        "adds": outputs * (terms - 1) + (outputs if bias else 0),
    }
