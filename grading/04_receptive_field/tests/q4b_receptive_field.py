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
def test_three_stacks_against_path_counts(receptive_field):
    """receptive_field matches the fields PyTorch's conv1d measures on three stacks"""
    import torch
    from torch import nn

    def measured(layers, dilation=None):  # r, J, P of two middle units' pixels
        y = torch.eye(257).double().unsqueeze(1)  # one-hot pixels, all-ones kernels
        for m in (m for m in layers if hasattr(m, "stride")):
            numbers = (m.kernel_size, m.stride, m.padding, dilation or m.dilation)
            k, s, p, d = (v if isinstance(v, int) else v[0] for v in numbers)
            y = torch.nn.functional.conv1d(y, y.new_ones(1, 1, k), None, s, p, d)
        u = y.shape[-1] // 2
        a, b = (y[:, 0, v].nonzero().flatten().tolist() for v in (u, u + 1))
        return a[-1] - a[0] + 1, b[0] - a[0], u * (b[0] - a[0]) - a[0]

    conv, c3 = nn.Conv2d, nn.Conv2d(1, 1, 3, padding=1)
    small = [c3, nn.BatchNorm2d(1), nn.ReLU(), c3, nn.MaxPool2d(2)] * 2 + [c3]
    dilated = [conv(1, 1, 3, dilation=2), conv(1, 1, 5, 2), conv(1, 1, 2, dilation=3)]
    net1 = [conv(1, 1, 7)] + [conv(1, 1, 3)] * 4
    stacks = {"SmallConvNet": small, "Net1": net1, "dilated": dilated}
    for title, layers in stacks.items():
        f, want = dlbook.from_the_geometry(receptive_field, layers), measured(layers)
        assert (f.r, f.J, f.P) == want, f"{title}: got {f}, measured {want}: " + (
            "the jump J is wrong"
            if f.J != want[1]
            else "r is wrong where a kernel is dilated"
            if f.r == measured(layers, 1)[0] != want[0]
            else "r is wrong"
            if f.r != want[0]
            else "the effective padding P is wrong"
        )


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
