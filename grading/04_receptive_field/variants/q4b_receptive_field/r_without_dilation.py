"""Forgets the dilation in r. The self-check measures a dilated stack and names
it."""

POINTS = 0
SELF_CHECK = "fails"
MESSAGE = "r is wrong where a kernel is dilated"

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    r: int
    J: int
    P: int

    def interval(self, u):
        return u * self.J - self.P, u * self.J - self.P + self.r - 1

    def centre(self, u):
        return u * self.J + (self.r - 1) / 2 - self.P


def geometries(layers, axis=0):
    """(k, s, p, d) of every convolution and pool along the axis; pointwise layers skipped."""
    names = ("kernel_size", "stride", "padding", "dilation")
    numbers = [
        [getattr(m, a, 1) for a in names] for m in layers if hasattr(m, "stride")
    ]
    return [tuple(v if isinstance(v, int) else v[axis] for v in g) for g in numbers]


def receptive_field(layers, axis=0):
    r, J, P = 1, 1, 0
    for k, s, p, d in geometries(layers, axis):
        r, P, J = r + (k - 1) * J, P + p * J, J * s
    return Field(r, J, P)
