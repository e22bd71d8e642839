# Hidden tests of the toy chapter's question (b): 1.5 points, split evenly over three cases.
from otter.test_files import test_case

OK_FORMAT = False

name = "q2_conv_params"
points = 1.5


@test_case(points=None, hidden=True)
def test_alexnet_conv1(conv_params):
    assert conv_params(3, 64, 11) == 23296, (
        "conv_params(3, 64, 11): count the biases too"
    )


@test_case(points=None, hidden=True)
def test_one_by_one(conv_params):
    assert conv_params(2, 3, 1) == 9, (
        "conv_params(2, 3, 1): one bias per output channel"
    )


@test_case(points=None, hidden=True)
def test_integer(conv_params):
    assert isinstance(conv_params(3, 8, 3), int), "return an int"
