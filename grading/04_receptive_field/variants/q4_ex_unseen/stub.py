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


def unseen_pixels(stack, n):
    raise NotImplementedError(
        "TODO: return the sorted input positions no output depends on"
    )
