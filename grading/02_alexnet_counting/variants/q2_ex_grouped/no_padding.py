"""Forgets to copy the padding: conv2's output shrinks."""

POINTS = 0.5
SELF_CHECK = "fails"
MESSAGE = "features.3: output shape (1, 192, 23, 23), expected (1, 192, 27, 27): its geometry is not"

import torch
from torch import nn


class AlexNet(nn.Module):
    """The problem's AlexNet: no padding in the first convolution, no dropout."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


alexnet = AlexNet().eval()


def alexnet_grouped(groups=2):
    model = AlexNet()
    for index in (3, 8, 10):
        old = model.features[index]
        model.features[index] = nn.Conv2d(
            old.in_channels,
            old.out_channels,
            old.kernel_size,
            stride=old.stride,
            groups=groups,
        )
    return model
