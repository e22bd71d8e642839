"""Wrong: each Linear weight read as (out, kH, kW, C), channels-last; the self-check's corner windows catch it."""

POINTS = 1
SELF_CHECK = "fails"
MESSAGE = "with the pixel and channel Net1's flatten gives it"

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


def layer_pairs(net2, net1):
    """[(Net2's classifier convolution, net1's Linear layer)], the pairs to copy; a
    ValueError saying what differs if net1 does not fit net2."""
    ours = {k: tuple(p.shape) for k, p in net2.features.named_parameters()}
    theirs = {k: tuple(p.shape) for k, p in net1.features.named_parameters()}
    if ours != theirs:
        raise ValueError(f"net1's features have the shapes {theirs}, Net2's {ours}")
    convs = [m for m in net2.classifier if isinstance(m, nn.Conv2d)]
    linears = [m for m in net1.classifier if isinstance(m, nn.Linear)]
    if len(convs) != len(linears):
        raise ValueError(
            f"Net2 has {len(convs)} classifier convolutions but net1 has "
            f"{len(linears)} Linear layers: it needs one Linear per convolution"
        )
    for index, (conv, linear) in enumerate(zip(convs, linears)):
        needed = (conv.out_channels, conv.weight[0].numel())
        if tuple(linear.weight.shape) != needed or linear.bias is None:
            raise ValueError(
                f"Linear layer {index} of net1 is {linear}; Net2's convolution "
                f"{index} needs Linear({needed[1]}, {needed[0]}) with a bias"
            )
    return list(zip(convs, linears))


class Net2(nn.Module):
    """The problem's Net2, created empty (meta device); copy_weights_from fills it."""

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
        """Copy net1's weights into this network's own storage; return it, in eval mode."""
        pairs = layer_pairs(self, net1)
        self.to_empty(device=next(net1.parameters()).device)
        with torch.no_grad():
            self.features.load_state_dict(net1.features.state_dict())
            for conv, linear in pairs:
                conv.weight.copy_(
                    linear.weight.view(
                        conv.out_channels, *conv.kernel_size, conv.in_channels
                    ).permute(0, 3, 1, 2)
                )
                conv.bias.copy_(linear.bias)
        return self.eval()
