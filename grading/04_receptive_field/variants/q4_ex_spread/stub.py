"""The student edition's untouched stub: every hidden test fails."""

POINTS = 0
MESSAGE = "TODO:"

from dataclasses import dataclass


@dataclass(frozen=True)
class Geometry:
    k: int
    s: int = 1
    p: int = 0
    d: int = 1


def path_spread(stack):
    raise NotImplementedError("TODO: return the standard deviation of the path counts")
