"""Walks both nets' stages together with named_children() and flattens before the first
stage that starts with a Linear: full points."""

POINTS = 1
SELF_CHECK = "passes"

import torch
from torch import nn


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU()
        )
        self.conv2 = nn.Sequential(
            nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU()
        )
        self.fc1 = nn.Sequential(
            nn.Linear(16 * 32 * 32, 1024), nn.BatchNorm1d(1024), nn.ReLU()
        )
        self.fc2 = nn.Sequential(nn.Linear(1024, 10), nn.ReLU())

    def forward(self, x):
        x = self.conv2(self.conv1(x))
        return self.fc2(self.fc1(x.flatten(1)))


class SmallNetTest(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU())
        self.conv2 = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.fc1 = nn.Sequential(nn.Linear(16 * 32 * 32, 1024), nn.ReLU())
        self.fc2 = nn.Sequential(nn.Linear(1024, 10), nn.ReLU())

    def forward(self, x):
        x = self.conv2(self.conv1(x))
        return self.fc2(self.fc1(x.flatten(1)))


STAGES = ("conv1", "conv2", "fc1", "fc2")


def first_mismatch(net, net_test, x, rtol=1e-5):
    if net.training or net_test.training:
        raise ValueError("both nets must be in eval mode: call .eval() on them")
    with torch.no_grad():
        for (name, stage), stage_test in zip(net.named_children(), net_test.children()):
            if isinstance(stage[0], nn.Linear):
                x = x.flatten(1)
            a = stage(x)
            if torch.linalg.vector_norm(
                a - stage_test(x)
            ) > rtol * torch.linalg.vector_norm(a):
                return name
            x = a
    return None
