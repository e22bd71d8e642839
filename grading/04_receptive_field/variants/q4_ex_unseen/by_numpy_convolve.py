"""The hidden tests' reference ported to NumPy: path counts by np.convolve. Right values,
but the checks refuse NumPy's convolutions too, as the statement says."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "called a convolution (numpy.convolve)"

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Geometry:
    k: int
    s: int = 1
    p: int = 0
    d: int = 1


def unseen_pixels(stack, n):
    sizes = [n]
    for g in stack:
        span = g.d * (g.k - 1) + 1
        if sizes[-1] + 2 * g.p < span:
            raise ValueError(f"a layer of span {span} does not fit {sizes[-1]}")
        sizes.append((sizes[-1] + 2 * g.p - span) // g.s + 1)
    paths = np.eye(n)  # row x: the one-hot input at pixel x
    for g in stack:
        kernel = np.zeros(g.d * (g.k - 1) + 1)
        kernel[:: g.d] = 1
        paths = np.array(
            [np.convolve(np.pad(row, g.p), kernel, "valid")[:: g.s] for row in paths]
        )
    return [int(x) for x in np.flatnonzero(paths.sum(axis=1) == 0)]
