"""Hidden tests for q5_ex_pool: networks the chapter never shows, with a strided convolution and a 3×3
max-pool (a jump of 6 pixels) or stride-1 features only, other window sizes; the expected maps are the
networks run here on the crops at multiples of the jump."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q5_ex_pool"
points = 1


def _features_then_classifier(features, classifier):
    """A Sequential with .features and .classifier: classifier(flatten(features(x)))."""
    from collections import OrderedDict

    from torch import nn

    parts = OrderedDict(features=features, flatten=nn.Flatten(), classifier=classifier)
    return nn.Sequential(parts).eval()


def _check_windows_of(scores_by_windows, net, x, window, jump, what):
    import torch

    rows = (x.shape[2] - window) // jump + 1
    cols = (x.shape[3] - window) // jump + 1
    with torch.no_grad():
        want = torch.stack(
            [
                torch.stack(
                    [
                        net(x[:, :, i : i + window, j : j + window])
                        for j in range(0, cols * jump, jump)
                    ],
                    -1,
                )
                for i in range(0, rows * jump, jump)
            ],
            -2,
        )
    inputs = []
    hook = net.register_forward_pre_hook(
        lambda module, args: inputs.append(args[0].detach().clone())
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
    crops = torch.stack(
        [
            x[0, :, i : i + window, j : j + window]
            for i in range(0, rows * jump, jump)
            for j in range(0, cols * jump, jump)
        ]
    ).flatten(1)
    fed = torch.cat(inputs).flatten(1)
    assert fed.shape == crops.shape and bool(
        (crops[:, None] - fed[None]).abs().amax(-1).min(dim=1).values.eq(0).all()
    ), (
        f"the net was run on {len(fed)} crops; the map has {len(crops)} entries, each "
        "the net on its own crop: run the net itself on exactly those crops"
    )


@test_case(points=None, hidden=True)
def test_a_strided_convolution_and_a_3x3_pool(scores_by_windows):
    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(72)
        net = _features_then_classifier(
            nn.Sequential(
                nn.Conv2d(3, 4, 4, stride=2),
                nn.ReLU(),
                nn.Conv2d(4, 5, 3),
                nn.ReLU(),
                nn.MaxPool2d(3),
            ),
            nn.Sequential(nn.Linear(5 * 3 * 3, 6), nn.ReLU(), nn.Linear(6, 4)),
        )
    x = torch.randn(1, 3, 42, 50, generator=torch.Generator().manual_seed(73))
    _check_windows_of(
        scores_by_windows, net, x, 24, 6, "a stride-2 convolution and a 3×3 pool"
    )


@test_case(points=None, hidden=True)
def test_stride_one_features(scores_by_windows):
    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(74)
        net = _features_then_classifier(
            nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 3, 5)),
            nn.Sequential(nn.Linear(3 * 10 * 10, 5)),
        )
    x = torch.randn(1, 3, 19, 23, generator=torch.Generator().manual_seed(75))
    _check_windows_of(scores_by_windows, net, x, 16, 1, "stride-1 features")


# The book's helper module from the autograder zip, never the notebook's own copy (the
# tests above use it when otter runs them, after it has read this whole file).
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)
