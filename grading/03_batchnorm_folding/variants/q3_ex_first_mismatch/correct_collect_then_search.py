"""Computes every stage's relative error first (in float64, comparing squared norms),
then returns the first one above rtol: full points."""

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
    for model, which in ((net, "net"), (net_test, "net_test")):
        if model.training:
            raise ValueError(f"{which} is in training mode")
    errors = []
    with torch.no_grad():
        for name in STAGES:
            x = x.flatten(1) if name == "fc1" else x
            a = getattr(net, name)(x).double()
            b = getattr(net_test, name)(x).double()
            errors.append((name, (a - b).pow(2).sum() > rtol**2 * a.pow(2).sum()))
            x = a.to(x.dtype)
    return next((name for name, above in errors if above), None)
