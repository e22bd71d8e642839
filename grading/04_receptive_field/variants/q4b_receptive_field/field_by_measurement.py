"""The chapter's measurement ported as the answer: it measures the field with
convolutions and autograd. Right values, but the self-check and every hidden test that computes a
field refuse the convolution."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "without running a convolution"

from dataclasses import dataclass

import torch
import torch.nn.functional as F


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
        raise ValueError("pass at least one layer")
    stack, ends = geometries(layers, axis), []
    for step in (0, 1):
        x = y = torch.zeros(1, 1, 257, dtype=torch.float64, requires_grad=True)
        for k, s, p, d in stack:
            y = F.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), None, s, p, d)
        middle = y.shape[-1] // 2
        y[0, 0, middle + step].backward()
        pixels = torch.nonzero(x.grad[0, 0]).flatten().tolist()
        ends.append((pixels[0], pixels[-1]))
    (first, last), (next_first, _) = ends
    jump = next_first - first
    return Field(last - first + 1, jump, middle * jump - first)
