"""q4b_receptive_field: its public case (the self-check), then its hidden tests."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q4b_receptive_field"
points = 4


@test_case(points=0, hidden=False)
def test_three_stacks_against_their_fields(receptive_field):
    """receptive_field gives the r, J and P measured on the pixels of three stacks"""
    from torch import nn

    conv, c3 = nn.Conv2d, nn.Conv2d(1, 1, 3, padding=1)
    small = [c3, nn.BatchNorm2d(1), nn.ReLU(), c3, nn.MaxPool2d(2)] * 2 + [c3]
    dilated = [conv(1, 1, 3, dilation=2), conv(1, 1, 5, 2), conv(1, 1, 2, dilation=3)]
    net1 = [conv(1, 1, 7)] + [conv(1, 1, 3)] * 4
    for title, layers, want in [  # (r, J, P), measured once on the pixels
        ("SmallConvNet", small, (24, 4, 10)),
        ("Net1", net1, (15, 1, 0)),
        ("dilated", dilated, (15, 2, 0)),
    ]:
        f, where = dlbook.from_the_geometry(receptive_field, layers), ""
        if title == "dilated" and f.r != want[0]:
            plain = [conv(1, 1, m.kernel_size, m.stride) for m in layers]
            if dlbook.from_the_geometry(receptive_field, plain).r == f.r:
                where = " where a kernel is dilated, the same as without the dilations"
        names = (
            f"r is wrong{where}",
            "the jump J is wrong",
            "the effective padding P is wrong",
        )
        wrong = [
            f"{name} (too {'large' if a > b else 'small'}: {a}, not {b})"
            for name, a, b in zip(names, (f.r, f.J, f.P), want)
            if a != b
        ]
        assert not wrong, f"{title}: got {f}: " + "; ".join(wrong)


def _compare_fields(field, stack, title):  # units 0..3 against walks down the layers
    want = []
    for u in range(4):
        first = last = u
        for k, s, p, d in reversed(stack):
            first, last = first * s - p, last * s - p + d * (k - 1)
        want.append((first, last, (first + last) / 2))
    got = [(*field.interval(u), field.centre(u)) for u in range(4)]
    assert got == want, (
        f"{title}: units 0..3 see (first, last, centre) {got}, walking down the layers "
        f"gives {want}: r grows by d_l (k_l - 1) J_(l-1) and P by p_l J_(l-1), where "
        "J_(l-1) is the product of the strides *before* layer l"
    )


@dlbook.hidden_case(1)
def test_random_stacks_match_a_walk_from_the_top(receptive_field):
    import random

    from torch import nn

    rng = random.Random(44)
    for _ in range(60):
        stack, layers = [], []
        for _ in range(rng.randint(1, 6)):
            k, s, d = rng.randint(1, 5), rng.randint(1, 3), rng.randint(1, 3)
            stack.append((k, s, p := rng.randint(0, 3), d))
            layers.append(nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d))
            layers += [nn.ReLU()] if rng.random() < 0.3 else []
        field = dlbook.from_the_geometry(receptive_field, layers)
        _compare_fields(field, stack, f"random stack {stack} (k, s, p, d)")
        seq = dlbook.from_the_geometry(receptive_field, nn.Sequential(*layers))
        assert seq == field, "an nn.Sequential must give the same field"


@dlbook.hidden_case(1)
def test_pooling_dilation_and_both_axes(receptive_field):
    from torch import nn

    layers = [nn.Conv2d(3, 4, (3, 5), (1, 2), (1, 2), (1, 2)), nn.BatchNorm2d(4)]
    layers += [nn.LeakyReLU(), nn.MaxPool2d(3, 2, 1, dilation=2), nn.Dropout(0.1)]
    layers += [nn.AvgPool2d((2, 4), (2, 3), (1, 2))]
    layers += [nn.Conv2d(4, 4, (5, 1), (3, 1), (2, 0)), nn.MaxPool2d((1, 3), (1, 2))]
    height = [(3, 1, 1, 1), (3, 2, 1, 2), (2, 2, 1, 1), (5, 3, 2, 1), (1, 1, 0, 1)]
    width = [(5, 2, 2, 2), (3, 2, 1, 2), (4, 3, 2, 1), (1, 1, 0, 1), (3, 2, 0, 1)]
    for axis, stack, title in [
        ((), height, "a pooled, dilated stack along the height (axis 0)"),
        ((0,), height, "the same stack, axis=0"),
        ((1,), width, "the stack along the width (axis=1): read kernel_size[1], ..."),
    ]:
        field = dlbook.from_the_geometry(receptive_field, layers, *axis)
        _compare_fields(field, stack, title)


@dlbook.hidden_case(1)
def test_one_layer_stacks(receptive_field):
    from torch import nn

    layers = [nn.Conv2d(2, 2, 7, 3, 2, 2), nn.MaxPool2d(2), nn.AvgPool2d(3, 1, 1)]
    layers += [nn.Conv2d(1, 1, 1, 4)]
    for m, g in zip(layers, [(7, 3, 2, 2), (2, 2, 0, 1), (3, 1, 1, 1), (1, 4, 0, 1)]):
        field = dlbook.from_the_geometry(receptive_field, [m])
        _compare_fields(field, [g], f"the one-layer stack [{m}]")


@dlbook.hidden_case(1)
def test_an_empty_stack_is_refused(receptive_field):
    from torch import nn

    for empty in ([], nn.Sequential()):
        try:
            got = dlbook.from_the_geometry(receptive_field, empty)
        except ValueError as error:
            assert str(error).strip(), "the ValueError must say what is wrong"
            continue
        raise AssertionError(
            f"receptive_field({empty!r}) = {got}: a stack without any layer has no "
            "receptive field to compute; raise ValueError saying what to pass"
        )
