"""q5_ex_ratio: the public case (three targets and one out of reach, their answers typed) and
the hidden tests (other targets, and targets at or above the limit)."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q5_ex_ratio"
points = 1


@test_case(points=0, hidden=False)
def test_the_first_side_for_three_targets_and_a_refusal(smallest_side):
    """the first sides for the targets 1, 2 and 3.5, and a ValueError for 3.7"""
    for target, want in {1: 32, 2: 33, 3.5: 45}.items():  # computed once, exactly
        got = smallest_side(target)
        assert got == want, (
            f"smallest_side({target}) gave {got!r}, expected {want}: "
            f"{dlbook.symptom(got, want, 'side')}"
        )
    what = "smallest_side(3.7), a target that no side reaches,"
    dlbook.must_raise(ValueError, dlbook.within, 3, smallest_side, 3.7, what=what)


def _net1_counts(net1):
    """(Net1's MACs per window, its features' MACs a_l per position and fields r_l, c)."""
    from itertools import accumulate

    from torch import nn

    convs = [m for m in net1.features if isinstance(m, nn.Conv2d)]
    a = [m.weight[0].numel() * m.out_channels for m in convs]
    r = list(accumulate((m.kernel_size[0] - 1 for m in convs), initial=1))[1:]
    linears = [m for m in net1.classifier if isinstance(m, nn.Linear)]
    c = sum(m.in_features * m.out_features for m in linears)
    return sum(al * (33 - rl) ** 2 for al, rl in zip(a, r)) + c, a, r, c


@dlbook.hidden_case(0.5)
def test_targets_the_chapter_never_shows(smallest_side, net1):
    from fractions import Fraction
    from itertools import count

    m1, a, r, c = _net1_counts(net1)

    def ratio(s):  # exact: Net1 over all windows / Net2 on an s×s image
        net2 = sum(al * (s - rl + 1) ** 2 for al, rl in zip(a, r)) + c * (s - 31) ** 2
        return Fraction((s - 31) ** 2 * m1, net2)

    for target in (0.5, 1.0, 1.5, 2.2, 3.3, 3.55):
        want = next(s for s in count(32) if ratio(s) >= Fraction(target))
        try:
            got = smallest_side(target)
        except Exception as error:
            got = f"{type(error).__name__}: {error}"
        assert got == want, (
            f"smallest_side({target}) = {got!r}, expected {want}, the first s >= 32 where "
            "Net1's multiply-adds over the (s - 31)² windows reach target times Net2's "
            "on an s×s image (compute it, do not type it)"
        )


@dlbook.hidden_case(0.5)
def test_unreachable_targets_are_refused(smallest_side, net1):
    from fractions import Fraction

    m1, a, r, c = _net1_counts(net1)
    limit = float(Fraction(m1, sum(a) + c))
    for target in (limit + 0.01, 4.0, 10):
        what = f"smallest_side({target}), at or above the ratio's limit {limit:.4f},"
        call = (ValueError, dlbook.within, 3, smallest_side, target)
        dlbook.must_raise(*call, what=what, instead="it returned a side")
