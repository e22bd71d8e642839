"""Correct, computed differently: the variance of each layer's tap offsets
J_(l-1) d_l t by NumPy (np.var over the k offsets), summed over the layers."""

POINTS = 2
SELF_CHECK = "passes"

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Geometry:
    k: int
    s: int = 1
    p: int = 0
    d: int = 1


def path_spread(stack):
    jump, variance = 1, 0.0
    for g in stack:
        variance += float(np.var(jump * g.d * np.arange(g.k, dtype=np.float64)))
        jump *= g.s
    return math.sqrt(variance)
