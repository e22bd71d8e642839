"""The hidden tests' reference ported as the answer: path counts by convolution. Right
values, but the self-check and the hidden test that computes values refuse the convolution."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "without running a convolution"

from dataclasses import dataclass

import torch
import torch.nn.functional as F


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
    sizes(stack, n)  # refuses an input the stack refuses
    y = torch.eye(n, dtype=torch.float64).unsqueeze(1)
    for g in stack:
        y = F.conv1d(y, torch.ones(1, 1, g.k, dtype=torch.float64), None, g.s, g.p, g.d)
    return torch.nonzero(y[:, 0, :].sum(dim=1) == 0).flatten().tolist()
