"""The student edition's untouched stub: every hidden test fails."""

POINTS = 0
MESSAGE = "TODO:"

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
    raise NotImplementedError("TODO: return Field(r, J, P) of the stack along the axis")
