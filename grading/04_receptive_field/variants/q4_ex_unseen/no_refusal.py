"""Sizes by the bare formula: an input the stack refuses gives sizes <= 0 and every pixel
"unseen" instead of a ValueError. Right on every input the stack accepts."""

POINTS = 1
SELF_CHECK = "passes"
MESSAGE = "the stack refuses an input"

from dataclasses import dataclass


@dataclass(frozen=True)
class Geometry:
    k: int
    s: int = 1
    p: int = 0
    d: int = 1


def unseen_pixels(stack, n):
    sizes = [n]
    for g in stack:
        sizes.append((sizes[-1] + 2 * g.p - g.d * (g.k - 1) - 1) // g.s + 1)
    seen = set(range(max(sizes[-1], 0)))
    for g, below in zip(reversed(stack), reversed(sizes[:-1])):
        seen = {u * g.s - g.p + t * g.d for u in seen for t in range(g.k)}
        seen = {v for v in seen if 0 <= v < below}
    return sorted(set(range(n)) - seen)
