"""Hidden tests for q5_ex_coarse: the coarse twin of a network the chapter never shows (its classifier
starts with Dropout), its scores and its exact multiply-adds counted here; stride 1 and bad strides."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q5_ex_coarse"
points = 1


def _dropout_net():
    """A small net for 32×32 inputs: 6×24×24 features, a classifier that starts with Dropout
    (.features, .classifier and forward = classifier(flatten(features)), as a Sequential)."""
    from collections import OrderedDict

    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(69)
        features = nn.Sequential(nn.Conv2d(3, 4, 5), nn.ReLU(), nn.Conv2d(4, 6, 5))
        classifier = nn.Sequential(
            nn.Dropout(0.2), nn.Linear(6 * 24 * 24, 16), nn.ReLU(), nn.Linear(16, 7)
        )
    parts = OrderedDict(features=features, flatten=nn.Flatten(), classifier=classifier)
    return nn.Sequential(parts).eval()


def _macs(net, x):
    """Multiply-adds of the Conv2d and Linear weights in net(x), counted with hooks."""
    import torch
    from torch import nn

    total = []

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total.append(output.numel() * module.in_channels // module.groups * kh * kw)
        else:
            total.append(output.numel() * module.in_features)

    handles = [
        m.register_forward_hook(hook)
        for m in net.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for handle in handles:
            handle.remove()
    return sum(total)


def _windows(net, x, stride):
    import torch

    rows = range(0, x.shape[2] - 31, stride)
    cols = range(0, x.shape[3] - 31, stride)
    with torch.no_grad():
        return torch.stack(
            [
                torch.stack([net(x[:, :, i : i + 32, j : j + 32]) for j in cols], -1)
                for i in rows
            ],
            -2,
        )


@test_case(points=None, hidden=True)
def test_coarse_map_and_its_cost_on_another_net(coarse_twin):
    import torch

    net = _dropout_net()
    x = torch.randn(1, 3, 40, 45, generator=torch.Generator().manual_seed(70))
    want = _windows(net, x, 3)
    twin = coarse_twin(net, 3)
    with torch.no_grad():
        got = twin(x)
    gap = dlbook.relative_gap(
        got,
        want,  # 1 × 7 classes × 3 × 5 windows
        f"coarse_twin(net, 3) on a 40×45 image gave shape {tuple(got.shape)}, "
        f"expected {tuple(want.shape)}, for a net whose classifier starts with "
        "Dropout: give the stride to the first classifier convolution, wherever it is",
    )
    assert gap < 1e-5, (
        f"coarse_twin(net, 3) differs from the net on the windows at multiples of 3 "
        f"by {gap:.2e} (relative)"
    )
    features = 4 * 3 * 25 * 36 * 41 + 6 * 4 * 25 * 32 * 37
    classifier = (6 * 24 * 24 * 16 + 16 * 7) * 3 * 5
    got_macs = _macs(twin, x)
    assert got_macs == features + classifier, (
        f"coarse_twin(net, 3) does {got_macs:,} multiply-adds on a 40×45 image; the "
        f"features everywhere and the classifier at the 15 kept windows only make "
        f"{features + classifier:,}"
    )


@test_case(points=None, hidden=True)
def test_stride_one_and_bad_strides(coarse_twin):
    import torch

    net = _dropout_net()
    x = torch.randn(1, 3, 33, 34, generator=torch.Generator().manual_seed(71))
    with torch.no_grad():
        got = coarse_twin(net, 1)(x)
    want = _windows(net, x, 1)
    assert tuple(got.shape) == (1, 7, 2, 3) and torch.allclose(
        got, want, rtol=0, atol=1e-5 * want.abs().max().item()
    ), "coarse_twin(net, 1) must give the whole map"
    for stride in (0, -2, 1.5, True):  # True is an int in Python, not a stride
        try:
            coarse_twin(net, stride)
        except ValueError:
            continue
        except Exception as error:
            raise AssertionError(
                f"coarse_twin(net, {stride!r}) raised {type(error).__name__}: refuse a "
                "stride that is not a positive integer with a ValueError"
            ) from None
        raise AssertionError(
            f"coarse_twin(net, {stride!r}) returned a twin: refuse a stride that is "
            "not a positive integer with a ValueError"
        )


# The book's helper module from the autograder zip, never the notebook's own copy (the
# tests above use it when otter runs them, after it has read this whole file).
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)
