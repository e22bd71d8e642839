"""q5_ex_ratio: the public case (targets 3 and 3.5) and the hidden tests (others, unreachable)."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q5_ex_ratio"
points = 1


@test_case(points=0, hidden=False)
def test_the_first_side_for_two_targets(smallest_side, macs_net1_windows, macs_net2):
    """for the targets 3 and 3.5, the first side where the ratio reaches the target"""
    for target in (3, 3.5):
        side = smallest_side(target)
        at, before = (
            macs_net1_windows(s, s) / macs_net2(s, s) if s >= 32 else 0.0
            for s in (side, side - 1)
        )
        assert at >= target > before, (
            f"target {target}: s = {side} gives ratio {at:.3f} and s - 1 gives "
            f"{before:.3f}: not the first side where the ratio reaches the target "
            "(compute it for each target, do not type it)"
        )


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
    import signal
    from fractions import Fraction

    m1, a, r, c = _net1_counts(net1)
    limit = float(Fraction(m1, sum(a) + c))

    def too_slow(signum, frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, too_slow)
    try:
        for target in (limit + 0.01, 4.0, 10):
            signal.setitimer(signal.ITIMER_REAL, 3.0)
            try:
                side = smallest_side(target)
            except ValueError:
                continue
            except TimeoutError:
                side = "nothing: it scanned for 3 s"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            raise AssertionError(
                f"smallest_side({target}) returned {side}, but the ratio never reaches a "
                f"target at or above its limit {limit:.4f}: raise a ValueError"
            )
    finally:
        signal.signal(signal.SIGALRM, previous)
