"""Forgets the jump: every layer's taps as if the stride below were 1. The self-check
says the spread does not change when every stride is set to 1."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "does not change when every stride is set to 1"

from dataclasses import dataclass


@dataclass(frozen=True)
class Geometry:
    k: int
    s: int = 1
    p: int = 0
    d: int = 1


def path_spread(stack):
    variance = 0.0
    for g in stack:
        variance += g.d**2 * (g.k**2 - 1) / 12
    return variance**0.5
