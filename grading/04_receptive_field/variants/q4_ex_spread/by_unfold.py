"""Path counts by unfold instead of conv1d: past the refusal of convolutions and right on
every stack small enough to count pixels of; the deep hidden case (a field of 2^41 pixels) is not."""

POINTS = 1
SELF_CHECK = "passes"
MESSAGE = "a field of about 2^41 pixels"

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Geometry:
    k: int
    s: int = 1
    p: int = 0
    d: int = 1


def path_spread(stack):
    r, J, P = 1, 1, 0
    for g in stack:
        r, P, J = r + g.d * (g.k - 1) * J, P + g.p * J, J * g.s
    n = r + 2 * P + 2 * J
    y = torch.eye(n, dtype=torch.float64)
    for g in stack:
        y = (
            F.pad(y, (g.p, g.p))
            .unfold(-1, g.d * (g.k - 1) + 1, g.s)[..., :: g.d]
            .sum(-1)
        )
    u = next(u for u in range(y.shape[1]) if u * J - P >= 0)
    share = y[:, u] / y[:, u].sum()
    x = torch.arange(n, dtype=torch.float64)
    return float((share * (x - (share * x).sum()) ** 2).sum().sqrt())
