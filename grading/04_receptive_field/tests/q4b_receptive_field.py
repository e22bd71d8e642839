"""Hidden tests for q4b_receptive_field: random stacks against an independent walk from the top, PyTorch
layers with pooling, dilation and non-square geometry along both axes, one-layer stacks, and an empty stack
that must be refused."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q4b_receptive_field"
points = 4


def _expected_field(stack, units=4):
    """[(first, last)] of units 0..units-1: walk each unit down from the top, layer by layer."""
    intervals = []
    for u in range(units):
        first = last = u
        for k, s, p, d in reversed(stack):
            first, last = first * s - p, last * s - p + d * (k - 1)
        intervals.append((first, last))
    return intervals


def _compare_fields(field, stack, title):
    want = _expected_field(stack)
    got = [tuple(field.interval(u)) for u in range(len(want))]
    assert got == want, (
        f"{title}: units 0..{len(want) - 1} see {got}, walking down the layers gives {want}: "
        "r grows by d_l (k_l - 1) J_(l-1) and P by p_l J_(l-1), where J_(l-1) is the product "
        "of the strides *before* layer l"
    )
    for u, (first, last) in enumerate(want):
        assert field.centre(u) == (first + last) / 2, (
            f"{title}: unit {u} is centred at {field.centre(u)}, expected {(first + last) / 2}"
        )


@test_case(points=None, hidden=True)
def test_random_stacks_match_a_walk_from_the_top(receptive_field):
    import random

    from torch import nn

    rng = random.Random(44)
    for trial in range(60):
        stack, layers = [], []
        for _ in range(rng.randint(1, 6)):
            k, s, d = rng.randint(1, 5), rng.randint(1, 3), rng.randint(1, 3)
            p = rng.randint(0, 3)
            stack.append((k, s, p, d))
            layers.append(nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d))
            if rng.random() < 0.3:
                layers.append(nn.ReLU())
        field = dlbook.from_the_geometry(receptive_field, layers)
        _compare_fields(field, stack, f"random stack {stack} (k, s, p, d)")
        seq = dlbook.from_the_geometry(receptive_field, nn.Sequential(*layers))
        assert seq == field, "an nn.Sequential must give the same field"


@test_case(points=None, hidden=True)
def test_pooling_dilation_and_both_axes(receptive_field):
    from torch import nn

    layers = [
        nn.Conv2d(3, 4, (3, 5), stride=(1, 2), padding=(1, 2), dilation=(1, 2)),
        nn.BatchNorm2d(4),
        nn.LeakyReLU(),
        nn.MaxPool2d(3, stride=2, padding=1, dilation=2),
        nn.Dropout(0.1),
        nn.AvgPool2d((2, 4), stride=(2, 3), padding=(1, 2)),
        nn.Conv2d(4, 4, (5, 1), stride=(3, 1), padding=(2, 0)),
        nn.MaxPool2d((1, 3), stride=(1, 2)),
    ]
    height = [(3, 1, 1, 1), (3, 2, 1, 2), (2, 2, 1, 1), (5, 3, 2, 1), (1, 1, 0, 1)]
    width = [(5, 2, 2, 2), (3, 2, 1, 2), (4, 3, 2, 1), (1, 1, 0, 1), (3, 2, 0, 1)]
    _compare_fields(
        dlbook.from_the_geometry(receptive_field, layers),
        height,
        "a pooled, dilated stack along the height (axis 0)",
    )
    _compare_fields(
        dlbook.from_the_geometry(receptive_field, layers, 0),
        height,
        "the same stack, axis=0",
    )
    _compare_fields(
        dlbook.from_the_geometry(receptive_field, layers, 1),
        width,
        "the same stack along the width (axis=1): read kernel_size[1], stride[1], ...",
    )


@test_case(points=None, hidden=True)
def test_one_layer_stacks(receptive_field):
    from torch import nn

    for layer, geometry in [
        (nn.Conv2d(2, 2, 7, stride=3, padding=2, dilation=2), (7, 3, 2, 2)),
        (nn.MaxPool2d(2), (2, 2, 0, 1)),
        (nn.AvgPool2d(3, stride=1, padding=1), (3, 1, 1, 1)),
        (nn.Conv2d(1, 1, 1, stride=4), (1, 4, 0, 1)),
    ]:
        field = dlbook.from_the_geometry(receptive_field, [layer])
        _compare_fields(field, [geometry], f"the one-layer stack [{layer}]")


@test_case(points=None, hidden=True)
def test_an_empty_stack_is_refused(receptive_field):
    from torch import nn

    for empty in ([], nn.Sequential()):
        try:
            got = dlbook.from_the_geometry(receptive_field, empty)
        except ValueError as error:
            assert str(error).strip(), "the ValueError must say what is wrong"
            continue
        raise AssertionError(
            f"receptive_field({empty!r}) = {got}: a stack without any layer has no receptive "
            "field to compute; raise ValueError saying what to pass"
        )


# The book's helper module from the autograder zip, never the notebook's own copy (the
# tests above use it when otter runs them, after it has read this whole file).
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)
