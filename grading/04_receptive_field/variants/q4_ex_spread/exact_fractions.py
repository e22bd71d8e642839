"""Correct, exact: the variance as a Fraction (the sum of (J d)^2 (k^2 - 1) / 12 with
integer jumps), one square root at the end."""

POINTS = 2
SELF_CHECK = "passes"

import math
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Geometry:
    k: int
    s: int = 1
    p: int = 0
    d: int = 1


def path_spread(stack):
    strides = [g.s for g in stack]
    variance = sum(
        Fraction((math.prod(strides[:l]) * g.d) ** 2 * (g.k**2 - 1), 12)
        for l, g in enumerate(stack)
    )
    return math.sqrt(variance)
