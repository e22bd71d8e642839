"""q4_ex_spread: its public case (the self-check), then its hidden tests."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q4_ex_spread"
points = 2


@test_case(points=0, hidden=False)
def test_four_stacks_against_their_spreads(path_spread, Geometry):
    """path_spread gives the spreads of the path counts measured on four stacks"""

    def spread(stack):
        return float(dlbook.from_the_geometry(path_spread, stack))

    def close(got, want):
        return abs(got - want) <= 1e-9 * max(1.0, want)

    G = Geometry
    alexnet = [G(11, 4), G(3, 2), G(5, 1, 2), G(3, 2)] + [G(3, 1, 1)] * 3 + [G(3, 2)]
    small = ([G(3, 1, 1)] * 2 + [G(2, 2)]) * 2 + [G(3, 1, 1)]
    dilated = [G(3, 1, 0, 2), G(5, 2, 0, 1), G(2, 1, 0, 3)]
    titles = ["Net1 features", "SmallConvNet", "AlexNet (paper)", "dilated"]
    stacks = [[G(7)] + [G(3)] * 4, small, alexnet, dilated]
    measured = [2.58198889747, 4.31083905213, 29.5634909982, 3.69684550214]  # once
    for title, stack, want in zip(titles, stacks, measured):
        if close(got := spread(stack), want):
            continue
        how = "large" if got > want else "small"
        head = f"{title}: got {got:.4f} pixels, too {how}: it is {want:.4f}"
        for what, s, d in [("stride", 1, None), ("dilation", None, 1)]:
            twin = [G(g.k, s or g.s, g.p, d or g.d) for g in stack]
            assert twin == stack or not close(got, spread(twin)), (
                f"{head}; your spread does not change when every {what} is set to 1"
            )
        raise AssertionError(head)


def _measured(stack):  # the spread of an interior unit's path counts, by convolution
    import torch

    r, jump, P = 1, 1, 0
    for g in stack:
        r, P, jump = r + g.d * (g.k - 1) * jump, P + g.p * jump, jump * g.s
    n = r + 2 * P + 2 * jump
    y = torch.eye(n, dtype=torch.float64).unsqueeze(1)
    for g in stack:
        y = torch.nn.functional.conv1d(y, y.new_ones(1, 1, g.k), None, g.s, g.p, g.d)
    u = -(-P // jump)  # the first unit whose field starts inside the image
    share = y[:, 0, u] / y[:, 0, u].sum()
    x = torch.arange(n, dtype=torch.float64)
    return float((share * (x - (share * x).sum()) ** 2).sum().sqrt())


@dlbook.hidden_case(1)
def test_random_stacks_match_measured_spread(path_spread, Geometry):
    import math
    import random

    rng = random.Random(46)
    for _ in range(40):
        # 1 to 5 layers: k in 1..5, s in 1..3, p in 0..2, d in 1..3
        stack = dlbook.random_layers(rng, Geometry, 5, (1, 5), (1, 3), (0, 2), (1, 3))
        got = float(dlbook.from_the_geometry(path_spread, stack))
        want = _measured(stack)
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (
            f"path_spread({stack}) = {got}, the path counts spread {want} (the standard "
            "deviation of an interior unit's normalised path counts)"
        )
    # 40 stride-2 layers: a field of about 2^41 pixels, beyond any convolution; a formula
    # is instant. Its exact variance: the sum of 4^l (3^2 - 1) / 12 over the layers.
    deep, want = [Geometry(3, 2)] * 40, math.sqrt((4**40 - 1) // 3 * 8 / 12)
    try:
        got = float(dlbook.from_the_geometry(path_spread, deep))
    except Exception as error:  # noqa: BLE001 - any failure here has the same cause
        raise AssertionError(
            f"path_spread({deep[:1]} * 40) raised {type(error).__name__}: a field of "
            "about 2^41 pixels; compute the spread from the layers' numbers, not pixels"
        ) from None
    assert math.isclose(got, want, rel_tol=1e-9), f"{deep[:1]} * 40: {got}, not {want}"


@dlbook.hidden_case(1)
def test_one_layer_spreads(path_spread, Geometry):
    import math

    for g in [Geometry(1), Geometry(2), Geometry(4, 3, 1, 3), Geometry(6, 1, 0, 2)]:
        want = g.d * math.sqrt((g.k**2 - 1) / 12)
        got = float(dlbook.from_the_geometry(path_spread, [g]))
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (
            f"path_spread([{g}]) = {got}, expected {want}: one layer's taps are uniform on "
            "k positions d apart"
        )
