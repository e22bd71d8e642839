"""Correct: Net2 fills a state dict of reshaped copies and loads it; the shapes are compared layer by layer first, so a misfit is a ValueError before any copy."""

POINTS = 2
SELF_CHECK = "passes"

import torch
import torch.nn as nn


def make_features():
    return nn.Sequential(
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


class Net1(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = make_features()
        self.classifier = nn.Sequential(
            nn.Linear(256 * 18 * 18, 4096),
            nn.ReLU(),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, 10),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


torch.manual_seed(0)
net1 = (
    Net1().eval()
)  # the chapter's Net1, which the hidden tests and the self-check use


class Net2(nn.Module):
    def __init__(self):
        super().__init__()
        with torch.device("meta"):
            self.features = make_features()
            self.classifier = nn.Sequential(
                nn.Conv2d(256, 4096, 18),
                nn.ReLU(),
                nn.Conv2d(4096, 4096, 1),
                nn.ReLU(),
                nn.Conv2d(4096, 10, 1),
            )

    def forward(self, x):
        return self.classifier(self.features(x))

    def copy_weights_from(self, net1):
        ours = self.state_dict()
        theirs = {f"features.{k}": v for k, v in net1.features.state_dict().items()}
        ours_convs = [k for k in ours if k.startswith("classifier.")]
        linears = [m for m in net1.classifier if isinstance(m, nn.Linear)]
        if any(m.bias is None for m in linears):
            raise ValueError("every Linear layer of net1 needs a bias")
        tensors = [t for m in linears for t in (m.weight, m.bias)]
        if len(tensors) != len(ours_convs):
            raise ValueError(f"net1 has {len(linears)} Linear layers, Net2 needs 3")
        theirs.update(zip(ours_convs, tensors))
        for key, value in ours.items():
            if value.numel() != theirs[key].numel() or (
                key.startswith("features.") and value.shape != theirs[key].shape
            ):
                raise ValueError(f"{key}: net1 has {tuple(theirs[key].shape)}")
        state = {k: theirs[k].reshape(v.shape).clone() for k, v in ours.items()}
        self.load_state_dict(state, assign=True)
        return self.eval()
