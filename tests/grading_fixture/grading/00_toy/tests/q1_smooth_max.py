# Hidden tests of the toy chapter's question (a). Test arguments are looked up by name in the
# notebook's globals; a test imports what it uses.
from otter.test_files import test_case

OK_FORMAT = False

name = "q1_smooth_max"
points = 2


@test_case(points=None, hidden=True)
def test_small(smooth_max):
    import math

    value = smooth_max([1.0, 2.0, 3.0])
    expected = math.log(math.exp(1.0) + math.exp(2.0) + math.exp(3.0))
    assert abs(value - expected) < 1e-9, "wrong value for small inputs"


@test_case(points=None, hidden=True)
def test_large(smooth_max):
    import math

    try:
        value = smooth_max([1000.0, 1000.0])
    except OverflowError:
        value = math.inf
    assert abs(value - (1000.0 + math.log(2))) < 1e-9, (
        "overflow for large inputs: subtract the maximum first"
    )
