"""q5c_windows: the public case (the net on each window) and the hidden tests (another net, bad input)."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q5c_windows"
points = 2


@test_case(points=0, hidden=False)
def test_both_give_the_net_on_every_window(scores_loop, scores_batched):
    """the net on every window, looped and batched: each entry, window by window"""
    from itertools import product

    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(0)
        conv, linear = nn.Conv2d(3, 4, 5), nn.Linear(4 * 28 * 28, 10)
    net = nn.Sequential()  # its children: .features, .flatten, .classifier
    net.features, net.flatten = nn.Sequential(conv, nn.ReLU()), nn.Flatten()
    net.classifier = nn.Sequential(linear)
    x = torch.randn(2, 3, 34, 36, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for scores in (scores_loop, scores_batched):
            got, name = scores(net, x), scores.__name__
            assert tuple(got.shape) == (2, 10, 3, 5), (
                f"{name}(net, x) has shape {tuple(got.shape)} for two 34×36 images; "
                "expected (2, 10, 3, 5)"
            )
            for n, i, j in product(range(2), range(3), range(5)):  # window by window
                want = net(x[n : n + 1, :, i : i + 32, j : j + 32])[0]
                gap = dlbook.relative_gap(got[n, :, i, j], want)
                assert gap < 1e-5, (
                    f"{name}: entry [{n}, :, {i}, {j}] differs by {gap:.2e} (relative) "
                    f"from the net on the window of image {n} at ({i}, {j})"
                )


def _net_and_images():
    """A net for 10×10 windows, two 13×17 images, its map and their 64 windows (flat)."""
    from itertools import product

    import torch
    from torch import nn

    net = nn.Sequential()  # its children: .features, .flatten, .classifier
    with torch.random.fork_rng():
        torch.manual_seed(67)
        net.features = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Conv2d(3, 4, 3))
        layers = [nn.Linear(4 * 6 * 6, 8), nn.ReLU(), nn.Linear(8, 5)]
        net.flatten, net.classifier = nn.Flatten(), nn.Sequential(*layers)
    x = torch.randn(2, 2, 13, 17, generator=torch.Generator().manual_seed(68))
    at = product(range(2), range(4), range(8))  # image, row, column
    cuts = [x[n, :, i : i + 10, j : j + 10] for n, i, j in at]
    with torch.no_grad():  # image by image, window by window
        want = torch.cat([net(cut[None]) for cut in cuts]).view(2, 4, 8, 5)
    return net, x, want.permute(0, 3, 1, 2), torch.stack(cuts).flatten(1)


def _check_map(function, batches):
    """function's map; the net must be called on `batches` that hold exactly the windows."""
    import torch

    net, x, want, windows = _net_and_images()
    inputs = []  # what function runs the net on
    net.register_forward_pre_hook(lambda _, a: inputs.append(a[0].clone()))
    with torch.no_grad():
        got = function(net, x, 10)
    name, shape = function.__name__, tuple(got.shape)
    wrong_shape = (
        f"{name}(net, x, window=10) on a batch of two 13×17 images gave shape {shape}, "
        "expected (2, 5, 4, 8): every image of the batch, H - window + 1 rows of "
        "W - window + 1 windows, for the window passed"
    )
    gap = dlbook.relative_gap(got, want, wrong_shape)
    assert gap < 1e-5, (
        f"{name} on a batch of two images differs from the net on each window by "
        f"{gap:.2e} (relative): entry [n, :, i, j] is the net on image n's window at "
        "(i, j); keep the images of the batch apart"
    )
    fed = sorted(tuple(row.tolist()) for batch in inputs for row in batch.flatten(1))
    every_window_fed = fed == sorted(tuple(window.tolist()) for window in windows)
    sizes = [len(t) for t in inputs]
    assert sizes == batches and every_window_fed, (
        f"{name} ran the net {len(sizes)} times, on {sum(sizes)} inputs in all; the "
        f"question asks for {len(batches)} call(s) of {batches[0]} input(s) that "
        "together are every window of every image: run the net itself on the windows"
    )


@dlbook.hidden_case(0.5)
def test_loop_on_another_net_window_and_batch(scores_loop):
    _check_map(scores_loop, batches=[2] * 32)  # one call per position, both images


@dlbook.hidden_case(1)
def test_batch_on_another_net_window_and_batch(scores_batched):
    _check_map(scores_batched, batches=[64])  # 2 images × 32 windows, one call


@dlbook.hidden_case(0.5)
def test_bad_images_are_refused_by_both(scores_loop, scores_batched):
    import torch

    net = _net_and_images()[0]
    bad = {
        "an image smaller than the window (9×20 for 10×10)": torch.zeros(1, 2, 9, 20),
        "an image without a batch dimension": torch.zeros(2, 13, 17),
    }
    for function in (scores_loop, scores_batched):
        for what, x in bad.items():
            given = f"{function.__name__} given {what}"
            dlbook.must_raise(ValueError, function, net, x, 10, what=given)
