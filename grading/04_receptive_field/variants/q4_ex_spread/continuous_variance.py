"""The variance of a continuous uniform tap, k^2/12 instead of (k^2 - 1)/12. The
self-check names the first layers where it goes wrong, not the formula."""

POINTS = 0
SELF_CHECK = "fails"
MESSAGE = "Net1 features: got 2.6615 pixels, too large"

from dataclasses import dataclass


@dataclass(frozen=True)
class Geometry:
    k: int
    s: int = 1
    p: int = 0
    d: int = 1


def path_spread(stack):
    variance, jump = 0.0, 1
    for g in stack:
        variance += (jump * g.d) ** 2 * g.k**2 / 12
        jump *= g.s
    return variance**0.5
