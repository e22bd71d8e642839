"""Correct, the other direction: follows every input pixel up the stack (which units of
each layer read it) and keeps those that reach no output."""

POINTS = 2
SELF_CHECK = "passes"

from dataclasses import dataclass


@dataclass(frozen=True)
class Geometry:
    k: int
    s: int = 1
    p: int = 0
    d: int = 1


def sizes(stack, n):
    """The size after every layer; ValueError when a dilated kernel does not fit."""
    out = [n]
    for g in stack:
        span = g.d * (g.k - 1) + 1
        if out[-1] + 2 * g.p < span:
            raise ValueError(
                f"a layer of span {span} does not fit an input of {out[-1]}"
            )
        out.append((out[-1] + 2 * g.p - span) // g.s + 1)
    return out


def reaches_the_top(stack, lengths, x):
    level = {x}
    for g, size in zip(stack, lengths[1:]):
        level = {
            (v + g.p - t * g.d) // g.s
            for v in level
            for t in range(g.k)
            if (v + g.p - t * g.d) % g.s == 0 and 0 <= (v + g.p - t * g.d) // g.s < size
        }
    return bool(level)


def unseen_pixels(stack, n):
    lengths = sizes(stack, n)
    return [x for x in range(n) if not reaches_the_top(stack, lengths, x)]
