"""q5b_convolutionalize: the public case (Net1's twin) and the hidden tests (other nets, refusals)."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q5b_convolutionalize"
points = 3


@test_case(points=0, hidden=False)
def test_net1s_twin_is_net2(convolutionalize, FullyConvolutional, net1):
    """Net1's twin is the problem's Net2, views Net1's weights, gives Net1's scores"""
    import torch
    from torch import nn

    twin = convolutionalize(net1)
    sizes = [(256, 4096, 18), (4096, 4096, 1), (4096, 10, 1)]
    convs = [nn.Conv2d(*size, device="meta") for size in sizes]  # no memory
    problem = nn.Sequential(convs[0], nn.ReLU(), convs[1], nn.ReLU(), convs[2])
    ok = isinstance(twin, FullyConvolutional) and repr(twin.classifier) == repr(problem)
    assert ok, f"convolutionalize(net1) gave {twin!r}: its classifier must be {problem}"
    ours, theirs = (
        [p.data_ptr() for p in n.classifier.parameters()] for n in (twin, net1)
    )
    assert ours == theirs, "the twin's weights or biases are not Net1's memory: copies"
    x = torch.randn(1, 3, 33, 35, generator=torch.Generator().manual_seed(0))
    at = [(0, 0), (0, 3), (1, 0), (1, 3)]  # the corners of a 2×4 map
    with torch.no_grad(), torch.backends.mkldnn.flags(enabled=False, allow_tf32=None):
        got = twin(x)  # oneDNN would copy the 1.4 GB weight into a layout of its own
        want = net1(torch.cat([x[:, :, i : i + 32, j : j + 32] for i, j in at]))
    assert got.shape == (1, 10, 2, 4), (
        f"on a 33×35 image the twin returns shape {tuple(got.shape)}, expected "
        "(1, 10, 2, 4): one entry per 32×32 window"
    )
    gap = dlbook.relative_gap(torch.stack([got[0, :, i, j] for i, j in at]), want)
    assert gap < 100 * torch.finfo(torch.float32).eps, (
        f"the twin differs from Net1 on the corner windows by {gap:.2e} (relative): "
        "its kernels do not pair each weight with the pixel and channel Net1's "
        "flatten gives it"
    )
    what = "convolutionalize(net1, input_size=(3, 36, 36)), whose sizes do not fit,"
    dlbook.must_raise(ValueError, convolutionalize, net1, (3, 36, 36), what=what)


def _net(features, *classifier):
    """A Sequential whose children are .features, .flatten and .classifier."""
    from torch import nn

    net = nn.Sequential()
    net.features, net.flatten = nn.Sequential(*features), nn.Flatten()
    net.classifier = nn.Sequential(*classifier)
    return net.eval()


def _twin_of(convolutionalize, net, input_size, what):
    """net's twin, checked against net on input_size and on every window of a larger image."""
    import torch

    generator = torch.Generator().manual_seed(57)
    c, h, w = input_size
    inputs = torch.randn(3, c, h, w, generator=generator)
    image = torch.randn(2, c, h + 3, w + 2, generator=generator)
    at = [(i, j) for i in range(4) for j in range(3)]  # the windows, row by row
    with torch.no_grad():
        want = net(inputs)
        scores = [net(image[..., i : i + h, j : j + w]) for i, j in at]
    want_map = torch.stack(scores, -1).unflatten(-1, (4, 3))
    twin = None
    try:
        twin = convolutionalize(net, input_size)
        with torch.no_grad():
            got, got_map = twin(inputs), twin(image)
    except Exception as error:
        doing = "convolutionalize refused" if twin is None else "the twin failed, of"
        raise AssertionError(
            f"{doing} a net with {what}, input_size {input_size}: "
            f"{type(error).__name__}: {str(error)[:150]}"
        ) from None
    # what counts is that no Dropout of the twin drops, not the twin's own training
    # flag: the statement does not ask for eval mode
    active = [
        m for m in twin.modules() if isinstance(m, torch.nn.Dropout) and m.training
    ]
    assert not active, (
        f"the twin of a net with {what} has Dropout layers in training mode, {active}: "
        "reuse the net's own (eval-mode) modules, or call .eval() on the twin"
    )
    k = want.shape[1]
    shapes = tuple(got.shape), tuple(got_map.shape)
    assert shapes == ((3, k, 1, 1), (2, k, 4, 3)), (
        f"the twin of a net with {what} gives shapes {shapes} on inputs of its input "
        f"size and on a {h + 3}×{w + 2} image, expected (3, {k}, 1, 1) and (2, {k}, 4, "
        "3): the first Linear's kernel is the feature map's H×W (not necessarily square)"
    )
    scale = want_map.abs().max()
    gap = max((got.flatten(1) - want).abs().max(), (got_map - want_map).abs().max())
    assert gap <= 1e-5 * scale, (
        f"the twin of a net with {what} differs from the net on its windows by "
        f"{gap / scale:.2e} (relative): the first Linear becomes a convolution with the "
        "feature map's C×H×W as its kernel, the later ones 1×1 convolutions"
    )
    return twin


@dlbook.hidden_case(1.5)
def test_one_and_three_linear_layers_on_non_square_maps(convolutionalize):
    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(58)
        features = [nn.Conv2d(2, 5, 3), nn.ReLU(), nn.Conv2d(5, 4, (3, 2))]
        one = _net(features, nn.Linear(4 * 8 * 12, 7))
        l1, l2, l3 = nn.Linear(6 * 12 * 7, 20), nn.Linear(20, 9), nn.Linear(9, 4)
        three = _net([nn.Conv2d(3, 6, 5), nn.ReLU()], l1, nn.ReLU(), l2, nn.ReLU(), l3)
    _twin_of(convolutionalize, one, (2, 12, 15), "one Linear and a 4×8×12 map")
    what = "three Linear layers and a 6×12×7 map"
    twin = _twin_of(convolutionalize, three, (3, 16, 11), what)
    convs = [m for m in twin.classifier if isinstance(m, nn.Conv2d)]
    assert len(convs) == 3 and all(
        c.weight.data_ptr() == f.weight.data_ptr() for c, f in zip(convs, [l1, l2, l3])
    ), "the twin's convolutions must view the Linear weights (share their storage)"


@dlbook.hidden_case(0.5)
def test_linear_layers_without_bias(convolutionalize):
    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(60)
        linears = [nn.Linear(4 * 8 * 8, 6, bias=False), nn.Linear(6, 3, bias=False)]
        net = _net([nn.Conv2d(3, 4, 3), nn.ReLU()], linears[0], nn.ReLU(), linears[1])
    twin = _twin_of(convolutionalize, net, (3, 10, 10), "Linear layers without bias")
    biases = [m.bias for m in twin.classifier if isinstance(m, nn.Conv2d)]
    assert biases and all(b is None for b in biases), (
        "a Linear without bias must become a convolution without bias (bias=False)"
    )


@dlbook.hidden_case(0.5)
def test_dropout_and_identity_in_the_classifier(convolutionalize):
    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(61)
        features = [nn.Conv2d(3, 5, 3), nn.ReLU(), nn.MaxPool2d(1)]
        first = [nn.Dropout(0.5), nn.Linear(5 * 7 * 9, 12), nn.ReLU(), nn.Dropout(0.3)]
        net = _net(features, *first, nn.Identity(), nn.Linear(12, 5))
    what = "a classifier that starts with Dropout and has Identity between its Linears"
    _twin_of(convolutionalize, net, (3, 9, 11), what)


@dlbook.hidden_case(0.5)
def test_what_cannot_be_converted_is_refused(convolutionalize):
    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(62)
        conv = [nn.Conv2d(3, 4, 3), nn.ReLU()]  # a 4×8×8 map on 10×10 inputs
        fine, flat = _net(conv, nn.Linear(256, 5)), [nn.Flatten(), nn.Linear(256, 5)]
        batch_norm = [nn.Linear(256, 6), nn.BatchNorm1d(6), nn.Linear(6, 2)]
        bad = {
            "a first Linear one input too long": (_net(conv, nn.Linear(257, 5)), 10),
            "an input_size its first Linear was not built for": (fine, 12),
            "a BatchNorm1d in the classifier": (_net(conv, *batch_norm), 10),
            "no Linear layer in the classifier": (_net(conv, nn.ReLU()), 10),
            "no .features and .classifier": (nn.Sequential(*conv, *flat), 10),
        }
    for what, (net, height) in bad.items():
        doing = f"convolutionalize of a net with {what}"
        dlbook.must_raise(
            (TypeError, ValueError), convolutionalize, net, (3, height, 10), what=doing
        )
    x, size = torch.zeros(1, 3, 9, 20), (3, 10, 10)  # an image smaller than the net's
    what = "the twin of a net for 10×10 inputs, on a 9×20 image,"
    dlbook.must_raise(ValueError, lambda: convolutionalize(fine, size)(x), what=what)
