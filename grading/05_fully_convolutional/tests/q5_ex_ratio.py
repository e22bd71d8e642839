"""Hidden tests for q5_ex_ratio: targets the chapter never shows, with the multiply-adds recounted here
from Net1's layers, and targets that no side reaches (refused, not scanned for ever)."""

from otter.test_files import test_case

OK_FORMAT = False

name = "q5_ex_ratio"
points = 1


def _net1_counts(net1):
    """(per-window MACs of Net1, per-position MACs a_l and receptive fields r_l of its features, the
    classifier's MACs c), from its layers."""
    from torch import nn

    a, r, field = [], [], 1
    for m in net1.features:
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            field += kh - 1
            a.append(m.in_channels * kh * kw * m.out_channels)
            r.append(field)
    c = sum(
        m.in_features * m.out_features
        for m in net1.classifier
        if hasattr(m, "in_features")
    )
    m1 = sum(al * (33 - rl) ** 2 for al, rl in zip(a, r)) + c
    return m1, a, r, c


def _smallest(target, net1):
    from fractions import Fraction

    m1, a, r, c = _net1_counts(net1)
    s = 32
    while True:
        net2 = sum(al * (s - rl + 1) ** 2 for al, rl in zip(a, r)) + c * (s - 31) ** 2
        if Fraction((s - 31) ** 2 * m1, net2) >= Fraction(target):
            return s
        s += 1


@test_case(points=None, hidden=True)
def test_targets_the_chapter_never_shows(smallest_side, net1):
    for target in (0.5, 1.0, 1.5, 2.2, 3.3, 3.55):
        want = _smallest(target, net1)
        try:
            got = smallest_side(target)
        except Exception as error:
            got = f"{type(error).__name__}: {error}"
        assert got == want, (
            f"smallest_side({target}) = {got!r}, expected {want}: scan s = 32, 33, ... "
            "and return the first side where Net1's multiply-adds over all (s - 31)² "
            "windows reach target times Net2's on one s×s image (compute it, do not "
            "type it)"
        )


@test_case(points=None, hidden=True)
def test_unreachable_targets_are_refused(smallest_side, net1):
    import signal
    from fractions import Fraction

    m1, a, r, c = _net1_counts(net1)
    limit = Fraction(m1, sum(a) + c)

    def too_slow(signum, frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, too_slow)
    try:
        for target in (float(limit) + 0.01, 4.0, 10):
            signal.setitimer(signal.ITIMER_REAL, 3.0)
            try:
                smallest_side(target)
            except ValueError:
                continue
            except TimeoutError:
                raise AssertionError(
                    f"smallest_side({target}) scanned for 3 s without returning: the "
                    f"ratio never reaches a target at or above its limit "
                    f"{float(limit):.4f}; refuse such a target with a ValueError"
                ) from None
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            raise AssertionError(
                f"smallest_side({target}) returned a side, but the ratio never reaches "
                f"{target} (its limit is {float(limit):.4f}): raise a ValueError"
            )
    finally:
        signal.signal(signal.SIGALRM, previous)
