"""q5a_net2: the public case (Net2 from Net1) and the hidden tests (another net copied, misfits)."""

import functools
import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q5a_net2"
points = 2


@test_case(points=0, hidden=False)
def test_net2_gives_net1s_scores_of_the_corner_windows(Net2, net1):
    """Net2 has the problem's classifier, a copy of Net1's weights and Net1's scores"""
    import torch
    from torch import nn

    net2 = Net2().copy_weights_from(net1)
    assert isinstance(net2, Net2), f"copy_weights_from returned {net2!r}, not the Net2"
    sizes = [(256, 4096, 18), (4096, 4096, 1), (4096, 10, 1)]
    convs = [nn.Conv2d(*size, device="meta") for size in sizes]  # no memory
    problem = nn.Sequential(convs[0], nn.ReLU(), convs[1], nn.ReLU(), convs[2])
    assert repr(net2.classifier) == repr(problem), (
        f"Net2's classifier is {net2.classifier}, not the problem's {problem}"
    )
    same = net2.classifier[0].weight.data_ptr() == net1.classifier[0].weight.data_ptr()
    assert not same, "Net2 shares Net1's storage: copy_weights_from must copy"
    x = torch.randn(1, 3, 33, 35, generator=torch.Generator().manual_seed(0))
    at = [(0, 0), (0, 3), (1, 0), (1, 3)]  # the corners of a 2×4 map
    with torch.no_grad(), torch.backends.mkldnn.flags(enabled=False, allow_tf32=None):
        got = net2(x)  # oneDNN would copy the 1.4 GB weight into a layout of its own
        want = net1(torch.cat([x[:, :, i : i + 32, j : j + 32] for i, j in at]))
    assert got.shape == (1, 10, 2, 4), (
        f"Net2's map of a 33×35 image has the shape {tuple(got.shape)}, expected "
        "(1, 10, 2, 4): one entry per 32×32 window"
    )
    corners = torch.stack([got[0, :, i, j] for i, j in at])
    gap = ((corners - want).abs().max() / want.abs().max()).item()
    assert gap < 100 * torch.finfo(torch.float32).eps, (
        f"the corners of Net2's map differ from Net1's scores of the corner windows by "
        f"{gap:.2e} (relative): the copied weights do not pair each weight with the "
        "pixel and channel Net1's flatten gives it, or a layer (a "
        "feature convolution, a bias) was not copied"
    )


def _net1_like(net1, first=64, classifier=()):
    """A net of Net1's kind, new weights (seed 55): features with `first` channels first,
    `classifier` or Net1's own first Linear (no second 1.4 GB matrix) and small layers."""
    import torch
    from torch import nn

    net, relu, widths = nn.Sequential(), nn.ReLU(), [3, first, 192, 384, 256, 256]
    with torch.random.fork_rng():
        torch.manual_seed(55)
        sizes = zip(widths, widths[1:], [7, 3, 3, 3, 3])
        convs = [nn.Conv2d(i, o, k) for i, o, k in sizes]
        net.features = nn.Sequential(*[m for c in convs for m in (c, nn.ReLU())][:-1])
        small = [] if classifier else [nn.Linear(4096, 4096), nn.Linear(4096, 10)]
        classifier = classifier or [net1.classifier[0], relu, small[0], relu, small[1]]
    net.flatten, net.classifier = nn.Flatten(), nn.Sequential(*classifier)
    return net.eval()


@functools.lru_cache(maxsize=1)  # one Net2 (1.4 GB) for the tests below
def _copied(Net2, net1):
    """(the other network, the Net2 made, what copy_weights_from returned)."""
    other, net2 = _net1_like(net1), Net2()
    return other, net2, net2.copy_weights_from(other)


@dlbook.hidden_case(1)
def test_copies_another_network_of_net1s_shape(Net2, net1):
    # parameter by parameter: a pass through the 18×18 convolution would cost seconds
    import torch
    from torch import nn

    other, net2, returned = _copied(Net2, net1)
    assert returned is net2, f"copy_weights_from returned {returned!r}: return the Net2"
    assert not net2.training, "copy_weights_from must return Net2 in eval mode"
    assert repr(net2.features) == repr(other.features), (
        f"Net2's features are {net2.features}, not Net1's"
    )
    sizes = [(256, 4096, 18), (4096, 4096, 1), (4096, 10, 1)]
    convs = [nn.Conv2d(*size, device="meta") for size in sizes]  # no memory
    problem = nn.Sequential(convs[0], nn.ReLU(), convs[1], nn.ReLU(), convs[2])
    assert repr(net2.classifier) == repr(problem), (
        f"Net2's classifier is {net2.classifier}, not the problem's {problem}"
    )
    want = dict(other.features.named_parameters(prefix="features"))
    linears = [m for m in other.classifier if isinstance(m, nn.Linear)]
    for index, (conv, linear) in enumerate(zip(convs, linears)):
        want[f"classifier.{2 * index}.weight"] = linear.weight.view(conv.weight.shape)
        want[f"classifier.{2 * index}.bias"] = linear.bias
    got = dict(net2.named_parameters())
    assert got.keys() == want.keys(), f"Net2 has {list(got)}, expected {list(want)}"
    differing = [n for n in want if not torch.equal(got[n].detach(), want[n].detach())]
    assert not differing, (
        f"Net2's {differing} differ from those of the network of Net1's shape it was "
        "copied from: copy the argument's weights (not the notebook's net1), the "
        "features too, each Linear weight viewed as (out, C, kH, kW)"
    )


@dlbook.hidden_case(0.5)
def test_owns_every_parameter(Net2, net1):
    other, net2, _ = _copied(Net2, net1)
    theirs = {p.untyped_storage().data_ptr() for p in other.parameters()}
    ours = {n: p.untyped_storage().data_ptr() for n, p in net2.named_parameters()}
    shared = [n for n in ours if ours[n] in theirs]
    assert not shared, (
        f"Net2's {shared} share storage with the network they came from: "
        "copy_weights_from must copy every parameter, the features' too, into "
        "Net2's own storage (training one must not change the other)"
    )
    count, want = (sum(p.numel() for p in n.parameters()) for n in (net2, other))
    assert count == want, f"Net2 has {count:,} parameters, the net copied {want:,}"


@dlbook.hidden_case(0.5)
def test_networks_that_do_not_fit_are_refused(Net2, net1):
    from torch import nn

    other = _copied(Net2, net1)[0]
    _copied.cache_clear()  # the last test: free the 1.4 GB copy now
    big, middle, relu = other.classifier[0], other.classifier[2], nn.ReLU()
    no_bias = nn.Linear(4096, 10, bias=False)
    # the features first: a copy without checks fails there before copying 1.4 GB
    misfits = {
        "features with 32 channels first": (32, list(other.classifier)),
        "five classes": (64, [big, relu, middle, relu, nn.Linear(4096, 5)]),
        "two Linear layers": (64, [big, relu, nn.Linear(4096, 10)]),
        "a last Linear without bias": (64, [big, relu, middle, relu, no_bias]),
    }
    for what, (first, classifier) in misfits.items():
        try:
            Net2().copy_weights_from(_net1_like(net1, first, classifier))
        except ValueError:
            continue
        except Exception as error:  # another error: the mistake to name
            raise AssertionError(
                f"copy_weights_from a net with {what} raised {type(error).__name__}: "
                f"{str(error)[:120]}; check the shapes first and raise a ValueError"
            ) from None
        raise AssertionError(
            f"copy_weights_from accepted a net with {what}: compare every layer with "
            "Net2's and raise a ValueError that says what differs"
        )
