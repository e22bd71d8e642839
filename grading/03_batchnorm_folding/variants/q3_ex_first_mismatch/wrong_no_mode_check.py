"""Does not refuse nets in training mode."""

POINTS = 0.5
SELF_CHECK = "passes"
MESSAGE = "with the BN net in training mode must raise ValueError"

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
    with torch.no_grad():
        for name in STAGES:
            if name == "fc1":
                x = x.flatten(1)
            a, b = getattr(net, name)(x), getattr(net_test, name)(x)
            if (a - b).norm() > rtol * a.norm():
                return name
            x = a
    return None
