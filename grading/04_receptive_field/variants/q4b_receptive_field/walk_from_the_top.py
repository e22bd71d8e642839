"""Correct, another route: walks units 0 and 1 of the top layer down to the input,
layer by layer, and reads r, J and P off their intervals."""

POINTS = 4
SELF_CHECK = "passes"

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
    layers = list(layers)
    if not layers:
        raise ValueError(
            "no layers given: pass a list or nn.Sequential with at least one"
        )
    ends = []
    for unit in (0, 1):
        first = last = unit
        for k, s, p, d in reversed(geometries(layers, axis)):
            first, last = first * s - p, last * s - p + d * (k - 1)
        ends.append((first, last))
    (first, last), (next_first, _) = ends
    return Field(last - first + 1, next_first - first, -first)
