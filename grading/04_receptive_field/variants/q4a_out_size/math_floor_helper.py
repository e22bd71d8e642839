"""Correct, written with a helper that validates one argument and math.floor on an exact fraction
(fractions.Fraction) instead of integer division."""

POINTS = 3
SELF_CHECK = "passes"

import math
from fractions import Fraction

import numpy as np


def _integer(name, value, lowest):
    if type(value) is bool or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}={value!r} is not an integer")
    if value < lowest:
        raise ValueError(f"{name}={value} is below {lowest}")
    return int(value)


def out_size(n, k, s=1, p=0, d=1):
    n, k, s = _integer("n", n, 1), _integer("k", k, 1), _integer("s", s, 1)
    p, d = _integer("p", p, 0), _integer("d", d, 1)
    span = d * (k - 1) + 1
    if n + 2 * p < span:
        raise ValueError(
            f"n={n} plus twice the padding {p} is less than the dilated span {span}; "
            "use a larger input or more padding"
        )
    return math.floor(Fraction(n + 2 * p - span, s)) + 1
