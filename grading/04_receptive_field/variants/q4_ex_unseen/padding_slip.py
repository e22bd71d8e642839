"""Forgets to drop the padding positions on the way down: they count as seen and reach
pixels of their neighbours. The self-check names the symptom (pixels counted as seen that no path
reaches)."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "but no path from them reaches"

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


def unseen_pixels(stack, n):
    seen = set(range(sizes(stack, n)[-1]))
    for g in reversed(stack):
        seen = {u * g.s - g.p + t * g.d for u in seen for t in range(g.k)}
    return sorted(set(range(n)) - seen)
