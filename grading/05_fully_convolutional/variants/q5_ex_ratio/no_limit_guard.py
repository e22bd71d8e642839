"""Wrong: no refusal of a target at or above the limit: the scan never ends (the self-check and the hidden test stop it after 3 s)."""

POINTS = 0.5
SELF_CHECK = "fails"
MESSAGE = "still running after 3 s"

from fractions import Fraction

import torch
import torch.nn as nn

# Net1's layer shapes (on the meta device: no memory), which the hidden tests read, and the
# chapter's counts that smallest_side uses.
with torch.device("meta"):
    net1 = nn.Module()
    net1.features = nn.Sequential(
        nn.Conv2d(3, 64, 7),
        nn.ReLU(),
        nn.Conv2d(64, 192, 3),
        nn.ReLU(),
        nn.Conv2d(192, 384, 3),
        nn.ReLU(),
        nn.Conv2d(384, 256, 3),
        nn.ReLU(),
        nn.Conv2d(256, 256, 3),
    )
    net1.classifier = nn.Sequential(
        nn.Linear(256 * 18 * 18, 4096),
        nn.ReLU(),
        nn.Linear(4096, 4096),
        nn.ReLU(),
        nn.Linear(4096, 10),
    )
a = [64 * 3 * 49, 192 * 64 * 9, 384 * 192 * 9, 256 * 384 * 9, 256 * 256 * 9]
r = [7, 9, 11, 13, 15]
c = 256 * 18 * 18 * 4096 + 4096 * 4096 + 4096 * 10
M1 = sum(al * (33 - rl) ** 2 for al, rl in zip(a, r)) + c
limit = Fraction(M1, sum(a) + c)


def macs_net1_windows(H, W):
    return (H - 31) * (W - 31) * M1


def macs_net2(H, W):
    features = sum(al * (H - rl + 1) * (W - rl + 1) for al, rl in zip(a, r))
    return features + c * (H - 31) * (W - 31)


def smallest_side(target):
    s = 32
    while macs_net1_windows(s, s) / macs_net2(s, s) < target:
        s += 1
    return s
