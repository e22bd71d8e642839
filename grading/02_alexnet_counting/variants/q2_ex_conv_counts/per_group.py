"""Correct, another route: counts one group's weights and products and multiplies by the
number of groups; the output side counted as the window starts."""

POINTS = 1
SELF_CHECK = "passes"


def conv_counts(n, c_in, c_out, k, s=1, p=0, groups=1, bias=True):
    if c_in % groups != 0 or c_out % groups != 0:
        raise ValueError(f"{groups} groups must divide {c_in} and {c_out} channels")
    if k > n + 2 * p:
        raise ValueError(f"a {k}-wide kernel does not fit in {n} + 2 * {p}")
    out = len(range(0, n + 2 * p - k + 1, s))
    group_weights = (c_out // groups) * (c_in // groups) * k * k
    weights = groups * group_weights
    mults = out * out * weights  # every weight is used once per output position
    outputs = c_out * out * out
    biases = c_out if bias else 0
    return {
        "out": out,
        "params": weights + biases,
        "mults": mults,
        "adds": mults - outputs + (outputs if bias else 0),
    }
