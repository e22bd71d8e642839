"""Correct, another data structure: a NumPy boolean mask per layer, marked from the top
down through each unit's taps that fall inside the layer below."""

POINTS = 2
SELF_CHECK = "passes"

from dataclasses import dataclass

import numpy as np


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
    lengths = sizes(stack, n)
    needed = np.ones(lengths[-1], dtype=bool)
    for g, below in zip(reversed(stack), reversed(lengths[:-1])):
        mask = np.zeros(below, dtype=bool)
        for u in np.flatnonzero(needed):
            taps = u * g.s - g.p + g.d * np.arange(g.k)
            mask[taps[(taps >= 0) & (taps < below)]] = True
        needed = mask
    return [int(x) for x in np.flatnonzero(~needed)]
