"""Hidden tests for q5c_windows: the network slid over every window for a network, window size, batch and
image size the chapter never shows, looped and batched (as one batch), compared with the windows cut out
here one by one; bad input refused."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q5c_windows"
points = 2


def _net_and_images():
    """A small net for 10×10 windows (5 classes), two 13×17 images, and its map, window by window."""
    from collections import OrderedDict

    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(67)
        features = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Conv2d(3, 4, 3))
        classifier = nn.Sequential(nn.Linear(4 * 6 * 6, 8), nn.ReLU(), nn.Linear(8, 5))
    parts = OrderedDict(features=features, flatten=nn.Flatten(), classifier=classifier)
    net = nn.Sequential(parts).eval()
    x = torch.randn(2, 2, 13, 17, generator=torch.Generator().manual_seed(68))
    want = torch.zeros(2, 5, 4, 8)
    with torch.no_grad():
        for n in range(2):
            for i in range(4):
                for j in range(8):
                    want[n, :, i, j] = net(x[n : n + 1, :, i : i + 10, j : j + 10])[0]
    return net, x, want


def _check_map(function, batches):
    """function's map against the windows cut here; the net must be called on batches of these
    sizes (in this order) that together hold every window of every image."""
    import torch

    net, x, want = _net_and_images()
    inputs = []
    hook = net.register_forward_pre_hook(
        lambda module, args: inputs.append(args[0].detach().clone())
    )
    try:
        with torch.no_grad():
            got = function(net, x, 10)
    finally:
        hook.remove()
    name = function.__name__
    gap = dlbook.relative_gap(
        got,
        want,  # 2 images × 5 classes × 4 × 8 windows
        f"{name}(net, x, window=10) on a batch of two 13×17 images gave shape "
        f"{tuple(got.shape)}, expected (2, 5, 4, 8): every image of the batch, "
        "H - window + 1 rows of W - window + 1 windows, for the window passed",
    )
    assert gap < 1e-5, (
        f"{name} on a batch of two images differs from the net on each window by "
        f"{gap:.2e} (relative): entry [n, :, i, j] is the net on image n's window at "
        "(i, j); keep the images of the batch apart"
    )
    windows = torch.stack(
        [
            x[n, :, i : i + 10, j : j + 10]
            for n in range(2)
            for i in range(4)
            for j in range(8)
        ]
    ).flatten(1)
    fed = torch.cat(inputs).flatten(1) if inputs else windows[:0]
    every_window_fed = fed.shape == windows.shape and bool(
        (windows[:, None] - fed[None]).abs().amax(-1).min(dim=1).values.eq(0).all()
    )
    sizes = [len(t) for t in inputs]
    assert sizes == batches and every_window_fed, (
        f"{name} ran the net {len(sizes)} times, on {sum(sizes)} inputs in all; the "
        f"question asks for {len(batches)} call(s) of {batches[0]} input(s) that "
        "together are every window of every image: run the net itself on the windows"
    )


@test_case(points=None, hidden=True)
def test_loop_on_another_net_window_and_batch(scores_loop):
    _check_map(scores_loop, batches=[2] * 32)  # one call per position, both images


@test_case(points=None, hidden=True)
def test_batch_on_another_net_window_and_batch(scores_batched):
    _check_map(scores_batched, batches=[64])  # 2 images × 32 windows, one call


@test_case(points=None, hidden=True)
def test_bad_images_are_refused_by_both(scores_loop, scores_batched):
    import torch

    net, _, _ = _net_and_images()
    bad = {
        "an image smaller than the window (9×20 for 10×10)": torch.zeros(1, 2, 9, 20),
        "an image without a batch dimension": torch.zeros(2, 13, 17),
    }
    for function in (scores_loop, scores_batched):
        for what, x in bad.items():
            try:
                with torch.no_grad():
                    function(net, x, 10)
            except ValueError:
                continue
            except Exception as error:
                raise AssertionError(
                    f"{function.__name__} given {what} raised {type(error).__name__}: "
                    "check the shape first and raise a ValueError that names it"
                ) from None
            raise AssertionError(
                f"{function.__name__} accepted {what}: raise a ValueError that names it"
            )


# The book's helper module from the autograder zip, never the notebook's own copy (the
# tests above use it when otter runs them, after it has read this whole file).
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)
