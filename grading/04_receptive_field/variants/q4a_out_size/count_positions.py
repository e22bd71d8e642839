"""Correct, another route: count the kernel's start positions with a range over the padded input
instead of the floor formula; operator.index refuses what is not an integer."""

POINTS = 3
SELF_CHECK = "passes"

import operator


def out_size(n, k, s=1, p=0, d=1):
    names = ("n", "k", "s", "p", "d")
    values = []
    for name, value in zip(names, (n, k, s, p, d)):
        if isinstance(value, bool):
            raise TypeError(f"{name} must be an integer, not a bool")
        try:
            values.append(operator.index(value))
        except TypeError:
            raise TypeError(f"{name} must be an integer, got {value!r}") from None
    n, k, s, p, d = values
    if min(n, k, s, d) < 1 or p < 0:
        raise ValueError(f"need n, k, s, d >= 1 and p >= 0, got {tuple(values)}")
    span = d * (k - 1) + 1
    if n + 2 * p < span:
        raise ValueError(
            f"the input n={n} (padding {p}) is shorter than the kernel's span {span}: "
            f"pass n >= {span - 2 * p} or more padding"
        )
    return len(range(0, n + 2 * p - span + 1, s))
