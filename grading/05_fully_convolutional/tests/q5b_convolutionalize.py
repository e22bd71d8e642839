"""Hidden tests for q5b_convolutionalize: networks the chapter never shows (other channel counts and
feature-map sizes, non-square maps, one to three Linear layers, no biases, Dropout and Identity anywhere in
the classifier), each twin checked against the network slid over every window; what cannot be converted
must be refused with an error."""

from otter.test_files import test_case

OK_FORMAT = False

name = "q5b_convolutionalize"
points = 3


def _net(features, classifier, seed):
    """A Sequential with .features and .classifier, forward = classifier(flatten(features(x))),
    made from the two factories under `seed`."""
    from collections import OrderedDict

    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        parts = OrderedDict(features=features(), flatten=nn.Flatten())
        parts["classifier"] = classifier()
        return nn.Sequential(parts).eval()


def _check_twin(convolutionalize, net, input_size, what):
    """The twin gives net's scores on input_size, and net's scores of every window on a larger,
    non-square image (computed here window by window); returns the twin."""
    import torch

    generator = torch.Generator().manual_seed(57)
    channels, height, width = input_size
    try:
        twin = convolutionalize(net, input_size)
    except Exception as error:
        raise AssertionError(
            f"convolutionalize refused a net with {what}, input_size {input_size}: "
            f"{type(error).__name__}: {str(error)[:150]}"
        ) from None
    inputs = torch.randn(3, *input_size, generator=generator)
    image = torch.randn(2, channels, height + 3, width + 2, generator=generator)
    with torch.no_grad():
        want = net(inputs)
        want_map = torch.stack(
            [
                torch.stack(
                    [net(image[:, :, i : i + height, j : j + width]) for j in range(3)],
                    dim=-1,
                )
                for i in range(4)
            ],
            dim=-2,
        )
        try:
            got, got_map = twin(inputs), twin(image)
        except Exception as error:
            raise AssertionError(
                f"the twin of a net with {what} failed on its input: "
                f"{type(error).__name__}: {str(error)[:150]}"
            ) from None
    classes = want.shape[1]
    assert tuple(got.shape) == (3, classes, 1, 1), (
        f"the twin of a net with {what} gives shape {tuple(got.shape)} on inputs of its "
        f"input size {input_size}, expected (3, {classes}, 1, 1)"
    )
    assert tuple(got_map.shape) == (2, classes, 4, 3), (
        f"the twin of a net with {what} gives a map of shape {tuple(got_map.shape)} on "
        f"a {height + 3}×{width + 2} image, expected (2, {classes}, 4, 3): the first "
        "Linear's kernel is the feature map's H×W (not necessarily square)"
    )
    scale = want_map.abs().max()
    gap = max((got.flatten(1) - want).abs().max(), (got_map - want_map).abs().max())
    assert gap <= 1e-5 * scale, (
        f"the twin of a net with {what} differs from the net on its windows by "
        f"{gap / scale:.2e} (relative): the first Linear becomes a convolution with the "
        "feature map's C×H×W as its kernel, the later ones 1×1 convolutions"
    )
    return twin


@test_case(points=None, hidden=True)
def test_one_and_three_linear_layers_on_non_square_maps(convolutionalize):
    from torch import nn

    one = _net(
        lambda: nn.Sequential(nn.Conv2d(2, 5, 3), nn.ReLU(), nn.Conv2d(5, 4, (3, 2))),
        lambda: nn.Sequential(nn.Linear(4 * 8 * 12, 7)),
        seed=58,
    )
    _check_twin(convolutionalize, one, (2, 12, 15), "one Linear and a 4×8×12 map")
    three = _net(
        lambda: nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU()),
        lambda: nn.Sequential(
            nn.Linear(6 * 12 * 7, 20),
            nn.ReLU(),
            nn.Linear(20, 9),
            nn.ReLU(),
            nn.Linear(9, 4),
        ),
        seed=59,
    )
    twin = _check_twin(
        convolutionalize, three, (3, 16, 11), "three Linear layers and a 6×12×7 map"
    )
    linears = [m for m in three.classifier if isinstance(m, nn.Linear)]
    convs = [m for m in twin.classifier if isinstance(m, nn.Conv2d)]
    assert len(convs) == 3 and all(
        c.weight.data_ptr() == f.weight.data_ptr() for c, f in zip(convs, linears)
    ), "the twin's convolutions must view the Linear weights (share their storage)"


@test_case(points=None, hidden=True)
def test_linear_layers_without_bias(convolutionalize):
    from torch import nn

    net = _net(
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()),
        lambda: nn.Sequential(
            nn.Linear(4 * 8 * 8, 6, bias=False), nn.ReLU(), nn.Linear(6, 3, bias=False)
        ),
        seed=60,
    )
    twin = _check_twin(convolutionalize, net, (3, 10, 10), "Linear layers without bias")
    biases = [m.bias for m in twin.classifier if isinstance(m, nn.Conv2d)]
    assert biases and all(b is None for b in biases), (
        "a Linear without bias must become a convolution without bias (bias=False)"
    )


@test_case(points=None, hidden=True)
def test_dropout_and_identity_in_the_classifier(convolutionalize):
    from torch import nn

    net = _net(
        lambda: nn.Sequential(nn.Conv2d(3, 5, 3), nn.ReLU(), nn.MaxPool2d(1)),
        lambda: nn.Sequential(
            nn.Dropout(0.5),
            nn.Linear(5 * 7 * 9, 12),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Identity(),
            nn.Linear(12, 5),
        ),
        seed=61,
    )
    twin = _check_twin(
        convolutionalize,
        net,
        (3, 9, 11),
        "a classifier that starts with Dropout and has Identity between its Linears",
    )
    assert not twin.training, "the twin must be in eval mode (its Dropout inactive)"


@test_case(points=None, hidden=True)
def test_what_cannot_be_converted_is_refused(convolutionalize):
    import torch
    from torch import nn

    def features():
        return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())

    bad = {
        "a first Linear one input too long": (
            _net(features, lambda: nn.Sequential(nn.Linear(4 * 8 * 8 + 1, 5)), 62),
            (3, 10, 10),
        ),
        "an input_size its first Linear was not built for": (
            _net(features, lambda: nn.Sequential(nn.Linear(4 * 8 * 8, 5)), 63),
            (3, 12, 10),
        ),
        "a BatchNorm1d in the classifier": (
            _net(
                features,
                lambda: nn.Sequential(
                    nn.Linear(4 * 8 * 8, 6), nn.BatchNorm1d(6), nn.Linear(6, 2)
                ),
                64,
            ),
            (3, 10, 10),
        ),
        "no Linear layer in the classifier": (
            _net(features, lambda: nn.Sequential(nn.ReLU()), 65),
            (3, 10, 10),
        ),
        "no .features and .classifier": (
            nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(256, 5)),
            (3, 10, 10),
        ),
    }
    for what, (net, input_size) in bad.items():
        try:
            convolutionalize(net, input_size)
        except (TypeError, ValueError):
            continue
        except Exception as error:
            raise AssertionError(
                f"convolutionalize of a net with {what} raised {type(error).__name__}: "
                f"{str(error)[:120]}; refuse it with a TypeError or ValueError that "
                "names the fix"
            ) from None
        raise AssertionError(
            f"convolutionalize accepted a net with {what}: refuse it with a TypeError "
            "or ValueError that names the fix"
        )
    net = _net(features, lambda: nn.Sequential(nn.Linear(4 * 8 * 8, 5)), 66)
    try:
        convolutionalize(net, (3, 10, 10))(torch.zeros(1, 3, 9, 20))
    except ValueError:
        return
    except Exception as error:
        raise AssertionError(
            f"the twin of a net built for 10×10 inputs, on a 9×20 image, raised "
            f"{type(error).__name__}: return a FullyConvolutional with the input_size, "
            "which refuses images smaller than it with a ValueError"
        ) from None
    raise AssertionError(
        "the twin of a net built for 10×10 inputs accepted a 9×20 image: return a "
        "FullyConvolutional with the input_size"
    )
