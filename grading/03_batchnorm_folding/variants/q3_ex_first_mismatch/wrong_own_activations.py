"""Feeds each net its own activation, so an error amplified by a later stage is blamed
on it."""

POINTS = 0.5
SELF_CHECK = "passes"
MESSAGE = "not each net its own"

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
    for model in (net, net_test):
        if model.training:
            raise ValueError("call .eval() first")
    a = b = x
    with torch.no_grad():
        for name in STAGES:
            if name == "fc1":
                a, b = a.flatten(1), b.flatten(1)
            a, b = getattr(net, name)(a), getattr(net_test, name)(b)
            if (a - b).norm() > rtol * a.norm():
                return name
    return None
