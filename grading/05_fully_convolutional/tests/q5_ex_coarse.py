"""q5_ex_coarse: the public case (stride 2) and the hidden tests (Dropout first, bad strides)."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q5_ex_coarse"
points = 1


@test_case(points=0, hidden=False)
def test_the_kept_windows_at_a_smaller_cost(coarse_twin, convolutionalize):
    """the windows at multiples of 2 get the net's scores, for less than the full map"""
    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    net = nn.Sequential()  # its children: .features, .flatten, .classifier
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net.features = nn.Sequential(nn.Conv2d(3, 4, 5), nn.ReLU())
        layers = [nn.Linear(4 * 28 * 28, 16), nn.ReLU(), nn.Linear(16, 10)]
        net.flatten, net.classifier = nn.Flatten(), nn.Sequential(*layers)
    x = torch.randn(1, 3, 37, 38, generator=torch.Generator().manual_seed(0))
    maps, macs = [], []
    for twin in (coarse_twin(net, 2), convolutionalize(net)):
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            maps.append(twin(x))
        macs.append(counter.get_total_flops() // 2)  # two flops per multiply-add
    want = maps[1][..., ::2, ::2]  # the full map's entries at multiples of 2
    wrong = f"the map has shape {tuple(maps[0].shape)}, expected {tuple(want.shape)}"
    gap = dlbook.relative_gap(maps[0], want, wrong + ": one per window at stride 2")
    assert gap < 100 * torch.finfo(torch.float32).eps, (
        f"relative difference {gap:.2e}: entry (i, j) is not the net on the window at "
        "(2·i, 2·j)"
    )
    assert macs[0] < macs[1], (
        f"it does {macs[0]:,} multiply-adds, the full map {macs[1]:,}: look for what "
        "it computes for entries it drops, or computes again for each window"
    )


def _dropout_net_and_windows(seed, height, width, stride):
    """A net whose classifier starts with Dropout, an image, its windows' scores at stride."""
    import torch
    from torch import nn

    net = nn.Sequential()  # its children: .features, .flatten, .classifier
    with torch.random.fork_rng():
        torch.manual_seed(69)
        net.features = nn.Sequential(nn.Conv2d(3, 4, 5), nn.ReLU(), nn.Conv2d(4, 6, 5))
        layers = [nn.Dropout(0.2), nn.Linear(6 * 24 * 24, 16), nn.ReLU()]
        net.flatten = nn.Flatten()  # and the classifier in eval mode: Dropout off
        net.classifier = nn.Sequential(*layers, nn.Linear(16, 7)).eval()
    x = torch.randn(1, 3, height, width, generator=torch.Generator().manual_seed(seed))
    rows, cols = (range(0, size - 31, stride) for size in x.shape[2:])
    with torch.no_grad():
        scores = [[net(x[..., i : i + 32, j : j + 32]) for j in cols] for i in rows]
    return net, x, torch.stack([torch.stack(row, -1) for row in scores], -2)


@dlbook.hidden_case(0.5)
def test_coarse_map_and_its_cost_on_another_net(coarse_twin):
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    net, x, want = _dropout_net_and_windows(70, 40, 45, 3)  # 3 × 5 windows kept
    twin = coarse_twin(net, 3)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        got = twin(x)
    wrong_shape = (
        f"coarse_twin(net, 3) on a 40×45 image gave shape {tuple(got.shape)}, expected "
        f"{tuple(want.shape)} (the classifier starts with Dropout): give the stride to "
        "the first classifier convolution, wherever it is"
    )
    gap = dlbook.relative_gap(got, want, wrong_shape)
    assert gap < 1e-5, (
        f"coarse_twin(net, 3) differs from the net on the windows at multiples of 3 "
        f"by {gap:.2e} (relative)"
    )
    features = 4 * 3 * 25 * 36 * 41 + 6 * 4 * 25 * 32 * 37
    want = features + (6 * 24 * 24 * 16 + 16 * 7) * 3 * 5
    macs = counter.get_total_flops() // 2  # two flops per multiply-add
    # at most: features may run over the whole image, but need not (issue 23)
    assert macs <= want, (
        f"coarse_twin(net, 3) does {macs:,} multiply-adds on a 40×45 image; the features "
        f"everywhere and the classifier at the 15 kept windows only make {want:,}"
    )


@dlbook.hidden_case(0.5)
def test_stride_one_and_bad_strides(coarse_twin):
    import torch

    net, x, want = _dropout_net_and_windows(71, 33, 34, 1)
    with torch.no_grad():
        got = coarse_twin(net, 1)(x)
    whole = "coarse_twin(net, 1) must give the whole map"
    assert dlbook.relative_gap(got, want, whole) <= 1e-5, whole
    for stride in (0, -2, 1.5, True):  # True is an int in Python, not a stride
        what = f"coarse_twin(net, {stride!r}), not a positive integer stride,"
        dlbook.must_raise(ValueError, coarse_twin, net, stride, what=what)
