"""q4a_out_size: its public case (the self-check), then its hidden tests."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q4a_out_size"
points = 3


@test_case(points=0, hidden=False)
def test_a_few_layers(out_size):
    """out_size gives the lengths of 6 layers (2 dilated), refuses a float, 2 misfits"""
    layers = {  # (n, k, s, p, d): the output length, computed once
        "AlexNet's conv1 (stride 4)": ((227, 11, 4, 0, 1), 55),
        "a 7-wide kernel": ((32, 7, 1, 0, 1), 26),
        "a stride that does not divide": ((13, 3, 2, 0, 1), 6),
        "padding 1": ((8, 3, 1, 1, 1), 8),
        "stride, padding and dilation": ((20, 3, 2, 1, 3), 8),
        "dilation 2": ((9, 4, 1, 0, 2), 3),
    }
    for case, (args, want) in layers.items():
        got = out_size(*args)
        assert isinstance(got, int) and got == want, (
            f"{case}: out_size{args} = {got!r}, expected {want} (an int): "
            + dlbook.symptom(got, want)
        )
    refusals = [((5, 7), ValueError, "a kernel of 7 does not fit an input of 5")]
    refusals += [((6, 3, 1, 0, 3), ValueError, "3 taps 3 apart span 7 > 6")]
    for args, error, why in refusals + [((10.0, 3), TypeError, "10.0 is no integer")]:
        what, instead = f"out_size{args}", f"not return a size: {why}"
        dlbook.must_raise(error, out_size, *args, what=what, instead=instead)


@dlbook.hidden_case(1)
def test_matches_pytorch_on_unseen_layers(out_size):
    import random

    import torch

    rng, checked = random.Random(41), 0
    while checked < 300:
        n, k, s = rng.randint(1, 40), rng.randint(1, 7), rng.randint(1, 5)
        p, d = rng.randint(0, 4), rng.randint(1, 4)
        if n + 2 * p < d * (k - 1) + 1:
            continue
        x, args = torch.zeros(1, 1, n), (n, k, s, p, d)
        want = torch.nn.functional.conv1d(x, torch.zeros(1, 1, k), None, s, p, d)
        got = out_size(*args)
        assert isinstance(got, int) and got == want.shape[-1], (
            f"out_size{args} = {got!r}, conv1d gives {want.shape[-1]}: mind the dilation "
            "(span d(k-1)+1), a stride that does not divide (floor), and return an int"
        )
        if 2 * p <= k:  # PyTorch's pools accept padding up to half the kernel
            pool = torch.nn.functional.max_pool1d(x, k, s, p, d).shape[-1]
            assert got == pool, f"out_size{args} = {got!r}, max_pool1d gives {pool}"
        checked += 1


def _refused(out_size, args, errors, why):  # out_size(*args) must raise one of errors
    call, instead = f"out_size{args}", f"not return a size: {why}"
    return dlbook.must_raise(errors, out_size, *args, what=call, instead=instead)


@dlbook.hidden_case(1)
def test_the_dilated_padded_kernel_decides_what_fits(out_size):
    for args in [(2, 4, 1, 1, 1), (1, 3, 2, 1, 1), (5, 9, 3, 2, 1)]:  # fit thanks to p
        try:
            got = out_size(*args)
        except ValueError as error:
            raise AssertionError(
                f"out_size{args} raised ValueError ({error}), expected 1: the padding "
                "counts, the kernel fits n + 2p"
            ) from None
        assert got == 1, f"out_size{args} = {got!r}, expected 1"
    for args in [(4, 3, 1, 0, 2), (6, 4, 2, 0, 3), (9, 5, 1, 1, 3), (3, 2, 1, 0, 4)]:
        n, k, _, p, d = args
        span = d * (k - 1) + 1
        why = f"the dilated kernel spans d(k-1)+1 = {span} > n + 2p = {n + 2 * p}"
        message = str(_refused(out_size, args, ValueError, why))
        assert str(n) in message and str(span) in message, (
            f"out_size{args} raised ValueError({message!r}): the message must give the "
            f"input size {n} and the kernel's span {span}"
        )


@dlbook.hidden_case(1)
def test_bad_arguments_are_refused(out_size):
    import numpy as np

    assert out_size(np.int64(10), 3) == 8, "out_size must accept NumPy integers"
    floats = [(10.0, 3, 1, 0, 1), (10, 2.5, 1, 0, 1), (10, 3, 1.5, 0, 1)]
    why = "sizes are integers; refuse anything else with TypeError"
    for args in floats + [(10, 3, 1, 0.5, 1), (10, 3, 1, 0, "2"), (True, 1, 1, 0, 1)]:
        _refused(out_size, args, (TypeError, ValueError), why)  # ValueError: also clear
    low = [(0, 1, 1, 0, 1), (10, 0, 1, 0, 1), (10, 3, 0, 0, 1), (10, 3, 1, -1, 1)]
    for args in low + [(10, 3, 1, 0, 0), (10, 3, -2, 0, 1)]:
        _refused(out_size, args, ValueError, "n, k, s, d must be >= 1 and p >= 0")
