"""q5_ex_pool: the public case (a net with a 2×2 max-pool) and the hidden tests (jumps 6 and 1)."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q5_ex_pool"
points = 1


@test_case(points=0, hidden=False)
def test_the_windows_of_a_pooled_net(scores_by_windows):
    """the net on 32×32 crops gives the twin's map, for a net with a 2×2 max-pool"""
    from itertools import product

    import torch
    from torch import nn

    net = nn.Sequential()  # its children: .features, .flatten, .classifier
    with torch.random.fork_rng():  # 32×32 → 28×28 → 14×14 → 12×12
        torch.manual_seed(0)
        layers = [nn.Conv2d(3, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3)]
        net.features = nn.Sequential(*layers, nn.ReLU())
        fc1, fc2 = nn.Linear(16 * 12 * 12, 32), nn.Linear(32, 10)
    net.flatten, net.classifier = nn.Flatten(), nn.Sequential(fc1, nn.ReLU(), fc2)
    x = torch.randn(1, 3, 41, 44, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():  # the twin's entry (a, b) is the classifier on the m×m
        maps = net.features(x)  # window of the features at (a, b): its first layer's
        m = net.features(x[:, :, :32, :32]).shape[-1]  # kernel is m×m
    crops, ran = [], []  # the shapes the net is called on, and what it returns
    net.eval().register_forward_pre_hook(lambda _, a: crops.append(tuple(a[0].shape)))
    net.register_forward_hook(lambda *call: ran.append(call[-1]))
    got = scores_by_windows(net, x)
    assert crops and all(shape[1:] == (3, 32, 32) for shape in crops), (
        f"net was called on {crops or 'nothing'}, not on 32×32 crops of x"
    )
    rows, cols = maps.shape[2] - m + 1, maps.shape[3] - m + 1
    assert tuple(got.shape) == (1, 10, rows, cols), (
        f"got shape {tuple(got.shape)}, expected the twin's {(1, 10, rows, cols)}: "
        "score the windows the twin scores, not every 32×32 window"
    )
    for a, b in product(range(rows), range(cols)):
        with torch.no_grad():
            want = net.classifier(net.flatten(maps[:, :, a : a + m, b : b + m]))[0]
        gap = (got[0, :, a, b] - want).abs().max().item()
        near = (torch.cat(ran) - want).abs().amax(1).min().item()  # net's outputs
        assert max(gap, near) < 1e-5, (
            f"entry [0, :, {a}, {b}] is {gap:.3f} off the twin's, which is {near:.3f} "
            "off net's closest output: run net itself on each entry's crop"
        )


def _check_windows_of(scores_by_windows, features, classifier, x, window, jump, what):
    """scores_by_windows of a net of these layers against the net on the crops the jump apart
    (and run on exactly those crops)."""
    import torch
    from torch import nn

    net = nn.Sequential()  # its children: .features, .flatten, .classifier
    net.features, net.flatten = nn.Sequential(*features), nn.Flatten()
    net.classifier = nn.Sequential(*classifier)  # no layer that eval() would change
    at = [range(0, size - window + 1, jump) for size in x.shape[2:]]
    cut = [[x[0, :, i : i + window, j : j + window] for j in at[1]] for i in at[0]]
    with torch.no_grad():
        want = torch.stack([net(torch.stack(row)).T for row in cut], -2)[None]
    inputs = []  # what scores_by_windows runs the net on
    net.register_forward_pre_hook(lambda _, a: inputs.append(a[0].clone()))
    got = scores_by_windows(net, x, window)
    where = f"{window}×{window} windows, a {x.shape[2]}×{x.shape[3]} image"
    gap = dlbook.relative_gap(
        got,
        want,
        f"scores_by_windows on a net with {what} ({where}) gave shape "
        f"{tuple(got.shape)}, expected {tuple(want.shape)}: the windows are the jump "
        "apart, the product of the strides of every layer in the features, "
        "convolutions included",
    )
    assert gap < 1e-5, (
        f"scores_by_windows on a net with {what} differs by {gap:.2e} (relative) from "
        "the net on the windows at multiples of the jump"
    )
    shapes = [tuple(t.shape[1:]) for t in inputs]
    assert shapes and all(s == (x.shape[1], window, window) for s in shapes), (
        f"the net was called on {shapes}: run it on {window}×{window} crops of x"
    )
    crops = sorted(tuple(crop.flatten().tolist()) for row in cut for crop in row)
    fed = sorted(tuple(row.tolist()) for batch in inputs for row in batch.flatten(1))
    assert fed == crops, (
        f"the net was run on {len(fed)} crops; the map has {len(crops)} entries, each "
        "the net on its own crop: run the net itself on exactly those crops"
    )


@dlbook.hidden_case(0.5)
def test_a_strided_convolution_and_a_3x3_pool(scores_by_windows):
    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(72)
        features = [nn.Conv2d(3, 4, 4, stride=2), nn.ReLU(), nn.Conv2d(4, 5, 3)]
        features += [nn.ReLU(), nn.MaxPool2d(3)]
        classifier = [nn.Linear(5 * 3 * 3, 6), nn.ReLU(), nn.Linear(6, 4)]
    x = torch.randn(1, 3, 42, 50, generator=torch.Generator().manual_seed(73))
    what = "a stride-2 convolution and a 3×3 pool"
    _check_windows_of(scores_by_windows, features, classifier, x, 24, 6, what)


@dlbook.hidden_case(0.5)
def test_stride_one_features(scores_by_windows):
    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(74)
        features = [nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 3, 5)]
        classifier = [nn.Linear(3 * 10 * 10, 5)]
    x = torch.randn(1, 3, 19, 23, generator=torch.Generator().manual_seed(75))
    what = "stride-1 features"
    _check_windows_of(scores_by_windows, features, classifier, x, 16, 1, what)
