"""The tempting answer: only the pixels beyond the last unit's field interval, which includes padding
units and hides the gaps of strided kernels. The self-check names the symptom (pixels counted as seen
that no path reaches), not the trap."""

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
    last = sizes(stack, n)[-1] - 1
    for g in reversed(stack):
        last = last * g.s - g.p + g.d * (g.k - 1)
    return list(range(min(last + 1, n), n))
