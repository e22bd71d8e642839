"""Hidden tests for q5a_net2: Net2 filled from a network of Net1's shape that the chapter never shows (its
own features and small layers), owning every parameter; networks that do not fit are refused."""

from otter.test_files import test_case

OK_FORMAT = False

name = "q5a_net2"
points = 2


def _net1_like(net1, classifier=None, features=None):
    """A network of Net1's kind with weights the chapter never shows: new random features and small layers,
    and Net1's own first Linear (shared: no second 1.4 GB matrix). `classifier`/`features` replace them."""
    import torch
    from torch import nn

    class Net1Like(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = features or nn.Sequential(
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
            self.classifier = classifier or nn.Sequential(
                net1.classifier[0],
                nn.ReLU(),
                nn.Linear(4096, 4096),
                nn.ReLU(),
                nn.Linear(4096, 10),
            )

        def forward(self, x):
            return self.classifier(torch.flatten(self.features(x), 1))

    with torch.random.fork_rng():
        torch.manual_seed(55)
        return Net1Like().eval()


_COPIES = {}


def _copied(Net2, net1):
    """(the other network, the Net2 made, what copy_weights_from returned), made once for the tests
    below (a Net2 holds 1.4 GB)."""
    key = (id(Net2), id(net1))
    if key not in _COPIES:
        _COPIES.clear()
        other = _net1_like(net1)
        net2 = Net2()
        _COPIES[key] = (other, net2, net2.copy_weights_from(other))
    return _COPIES[key]


@test_case(points=None, hidden=True)
def test_copies_another_network_of_net1s_shape(Net2, net1):
    """Net2's layers are fixed, so it computes the other network's function exactly when its parameters
    are the other's, each Linear weight read as (out, C, kH, kW): compared here parameter by parameter
    (a forward pass through the 18×18 convolution would cost seconds)."""
    import torch
    from torch import nn

    other, net2, returned = _copied(Net2, net1)
    assert returned is net2, (
        f"copy_weights_from returned {type(returned).__name__}: return the Net2 itself"
    )
    assert not net2.training, "copy_weights_from must return Net2 in eval mode"
    problem = nn.Sequential(
        nn.Conv2d(256, 4096, 18, device="meta"),
        nn.ReLU(),
        nn.Conv2d(4096, 4096, 1, device="meta"),
        nn.ReLU(),
        nn.Conv2d(4096, 10, 1, device="meta"),
    )
    assert repr(net2.features) == repr(other.features), (
        f"Net2's features are {net2.features}, not Net1's"
    )
    assert repr(net2.classifier) == repr(problem), (
        f"Net2's classifier is {net2.classifier}, not the problem's {problem}"
    )
    want = dict(other.features.named_parameters(prefix="features"))
    for index, (conv, linear) in enumerate(
        zip(problem[::2], [m for m in other.classifier if isinstance(m, nn.Linear)])
    ):
        want[f"classifier.{2 * index}.weight"] = linear.weight.view(conv.weight.shape)
        want[f"classifier.{2 * index}.bias"] = linear.bias
    got = dict(net2.named_parameters())
    assert sorted(got) == sorted(want), (
        f"Net2 has the parameters {sorted(got)}, expected {sorted(want)}"
    )
    differing = [
        name
        for name in want
        if got[name].shape != want[name].shape
        or not torch.equal(got[name].detach(), want[name].detach())
    ]
    assert not differing, (
        f"Net2's {differing} differ from those of the network of Net1's shape it was "
        "copied from: copy the argument's weights (not the notebook's net1), the "
        "features too, each Linear weight viewed as (out, C, kH, kW)"
    )


@test_case(points=None, hidden=True)
def test_owns_every_parameter(Net2, net1):
    other, net2, _ = _copied(Net2, net1)
    theirs = {p.untyped_storage().data_ptr() for p in other.parameters()}
    shared = [
        name
        for name, p in net2.named_parameters()
        if p.untyped_storage().data_ptr() in theirs
    ]
    assert not shared, (
        f"Net2's {shared} share storage with the network they came from: "
        "copy_weights_from must copy every parameter, the features' too, into "
        "Net2's own storage (training one must not change the other)"
    )
    count = sum(p.numel() for p in net2.parameters())
    assert count == sum(p.numel() for p in other.parameters()), (
        f"Net2 has {count:,} parameters, the network it copies "
        f"{sum(p.numel() for p in other.parameters()):,}"
    )


@test_case(points=None, hidden=True)
def test_networks_that_do_not_fit_are_refused(Net2, net1):
    from torch import nn

    other, _, _ = _copied(Net2, net1)
    _COPIES.clear()  # the last test: free the 1.4 GB copy now, not at garbage collection
    big, middle = other.classifier[0], other.classifier[2]
    # the features first: a copy without checks fails there before copying 1.4 GB
    features = list(other.features)
    features[0] = nn.Conv2d(3, 32, 7)
    features[2] = nn.Conv2d(32, 192, 3)
    nets = {
        "features with 32 channels first": _net1_like(
            net1, classifier=other.classifier, features=nn.Sequential(*features)
        )
    }
    misfits = {
        "five classes": nn.Sequential(
            big, nn.ReLU(), middle, nn.ReLU(), nn.Linear(4096, 5)
        ),
        "two Linear layers": nn.Sequential(big, nn.ReLU(), nn.Linear(4096, 10)),
        "a last Linear without bias": nn.Sequential(
            big, nn.ReLU(), middle, nn.ReLU(), nn.Linear(4096, 10, bias=False)
        ),
    }
    for what, classifier in misfits.items():
        nets[what] = _net1_like(net1, classifier=classifier, features=other.features)
    for what, net in nets.items():
        try:
            Net2().copy_weights_from(net)
        except ValueError:
            continue
        except Exception as error:
            raise AssertionError(
                f"copy_weights_from a net with {what} raised {type(error).__name__}: "
                f"{str(error)[:120]}; check the shapes first and raise a ValueError "
                "that says what differs"
            ) from None
        raise AssertionError(
            f"copy_weights_from accepted a net with {what}: compare every layer with "
            "Net2's and raise a ValueError that says what differs"
        )
