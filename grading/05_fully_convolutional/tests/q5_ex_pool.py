"""q5_ex_pool: the public case (a net with a 2×2 max-pool of stride 2, against its twin's map)
and the hidden tests: networks the chapter never shows, with a strided convolution and a 3×3
max-pool (a jump of 6 pixels) or stride-1 features only, other window sizes; the expected
maps are the networks run here on the crops at multiples of the jump."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q5_ex_pool"
points = 1


@test_case(points=0, hidden=False)
def test_the_windows_of_a_pooled_net(scores_by_windows):
    """the net on 32×32 crops gives the twin's map, for a net with a 2×2 max-pool"""
    from collections import OrderedDict

    import torch
    from torch import nn

    with torch.random.fork_rng():  # 32×32 → 28×28 → 14×14 → 12×12
        torch.manual_seed(0)
        features = nn.Sequential(
            nn.Conv2d(3, 8, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3),
            nn.ReLU(),
        )
        fc1, fc2 = nn.Linear(16 * 12 * 12, 32), nn.Linear(32, 10)
    parts = OrderedDict(features=features, flatten=nn.Flatten())
    net = nn.Sequential(parts | {"classifier": nn.Sequential(fc1, nn.ReLU(), fc2)})
    x = torch.randn(1, 3, 41, 44, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():  # the twin's map, by the theorem's convolutions
        kernel = fc1.weight.view(32, 16, 12, 12)
        hidden = torch.relu(nn.functional.conv2d(features(x), kernel, fc1.bias))
        want = nn.functional.conv2d(hidden, fc2.weight[:, :, None, None], fc2.bias)
    crops = []
    hook = net.eval().register_forward_pre_hook(
        lambda m, a: crops.append(tuple(a[0].shape))
    )
    try:
        got = scores_by_windows(net, x)
    finally:
        hook.remove()
    assert crops and all(shape[1:] == (3, 32, 32) for shape in crops), (
        f"net was called on {crops or 'nothing'}, not on 32×32 crops of x"
    )
    assert got.shape == want.shape, (
        f"got shape {tuple(got.shape)}, expected the twin's {tuple(want.shape)}: score "
        "the windows the twin scores, not every 32×32 window"
    )
    gap = (got - want).abs().max().item()
    assert gap < 1e-5, (
        f"max difference {gap:.3f}: compare entries (0, 1) and (1, 0) of your map with "
        "the twin's"
    )


def _check_windows_of(scores_by_windows, net, x, window, jump, what):
    """scores_by_windows(net, x, window) against net run here on the crops at multiples of
    the jump; net must have been run on exactly those crops."""
    import torch

    at = [range(0, size - window + 1, jump) for size in x.shape[2:]]
    cut = [[x[0, :, i : i + window, j : j + window] for j in at[1]] for i in at[0]]
    with torch.no_grad():
        want = torch.stack([net(torch.stack(row)).T for row in cut], -2)[None]
    inputs = []
    hook = net.register_forward_pre_hook(
        lambda m, a: inputs.append(a[0].detach().clone())
    )
    try:
        got = scores_by_windows(net, x, window)
    finally:
        hook.remove()
    gap = dlbook.relative_gap(
        got,
        want,
        f"scores_by_windows on a net with {what} ({window}×{window} windows, a "
        f"{x.shape[2]}×{x.shape[3]} image) gave shape {tuple(got.shape)}, expected "
        f"{tuple(want.shape)}: the windows are the jump apart, the product of the "
        "strides of every layer in the features, convolutions included",
    )
    assert gap < 1e-5, (
        f"scores_by_windows on a net with {what} differs by {gap:.2e} (relative) from "
        "the net on the windows at multiples of the jump"
    )
    shapes = [tuple(t.shape[1:]) for t in inputs]
    assert shapes and all(s == (x.shape[1], window, window) for s in shapes), (
        f"the net was called on {shapes}: run it on {window}×{window} crops of x"
    )
    crops = torch.stack([crop for row in cut for crop in row]).flatten(1)
    fed = torch.cat(inputs).flatten(1)
    assert fed.shape == crops.shape and bool(
        (crops[:, None] - fed[None]).abs().amax(-1).min(dim=1).values.eq(0).all()
    ), (
        f"the net was run on {len(fed)} crops; the map has {len(crops)} entries, each "
        "the net on its own crop: run the net itself on exactly those crops"
    )


def _pool_net(features, *classifier):
    """A Sequential with .features and .classifier: classifier(flatten(features(x)))."""
    from collections import OrderedDict

    from torch import nn

    parts = OrderedDict(features=nn.Sequential(*features), flatten=nn.Flatten())
    return nn.Sequential(parts | {"classifier": nn.Sequential(*classifier)}).eval()


@test_case(points=None, hidden=True)
def test_a_strided_convolution_and_a_3x3_pool(scores_by_windows):
    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(72)
        features = [nn.Conv2d(3, 4, 4, stride=2), nn.ReLU(), nn.Conv2d(4, 5, 3)]
        features += [nn.ReLU(), nn.MaxPool2d(3)]
        net = _pool_net(features, nn.Linear(5 * 3 * 3, 6), nn.ReLU(), nn.Linear(6, 4))
    x = torch.randn(1, 3, 42, 50, generator=torch.Generator().manual_seed(73))
    what = "a stride-2 convolution and a 3×3 pool"
    _check_windows_of(scores_by_windows, net, x, 24, 6, what)


@test_case(points=None, hidden=True)
def test_stride_one_features(scores_by_windows):
    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(74)
        features = [nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 3, 5)]
        net = _pool_net(features, nn.Linear(3 * 10 * 10, 5))
    x = torch.randn(1, 3, 19, 23, generator=torch.Generator().manual_seed(75))
    _check_windows_of(scores_by_windows, net, x, 16, 1, "stride-1 features")


# The book's helper module from the autograder zip, never the notebook's own copy (the
# tests above use it when otter runs them, after it has read this whole file).
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)
