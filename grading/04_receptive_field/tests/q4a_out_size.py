"""q4a_out_size: the public case (the chapter's self-check) and the hidden tests: dilation, strides
that do not divide, padding, inputs the dilated kernel does not fit, and arguments that are not
integers."""

from otter.test_files import test_case

OK_FORMAT = False

name = "q4a_out_size"
points = 3


@test_case(points=0, hidden=False)
def test_a_few_layers_against_pytorch(out_size):
    """out_size agrees with PyTorch's conv1d on four layers and refuses n < k"""
    import torch

    for n, k, s, p, d in [
        (227, 11, 4, 0, 1),
        (32, 7, 1, 0, 1),
        (13, 3, 2, 0, 1),
        (8, 3, 1, 1, 1),
    ]:
        x, kernel = torch.zeros(1, 1, n), torch.zeros(1, 1, k)
        want = torch.nn.functional.conv1d(x, kernel, None, s, p, d).shape[-1]
        got = out_size(n, k, s, p, d)
        assert isinstance(got, int) and got == want, (
            f"out_size({n}, {k}, {s}, {p}, {d}) = {got!r}, PyTorch: {want}: the formula is "
            "floor((n + 2p - d(k-1) - 1) / s) + 1, an int (integer division, then + 1)"
        )
    try:
        too_small = out_size(5, 7)
    except ValueError:
        return
    raise AssertionError(
        f"out_size(5, k=7) = {too_small!r}: a kernel of 7 does not fit an input of 5; "
        "raise ValueError instead of returning a size"
    )


@test_case(points=None, hidden=True)
def test_matches_pytorch_on_unseen_layers(out_size):
    import random

    import torch

    rng = random.Random(41)
    checked = 0
    while checked < 300:
        n, k, s = rng.randint(1, 40), rng.randint(1, 7), rng.randint(1, 5)
        p, d = rng.randint(0, 4), rng.randint(1, 4)
        if n + 2 * p < d * (k - 1) + 1:
            continue
        x = torch.zeros(1, 1, n)
        conv = torch.nn.functional.conv1d(x, torch.zeros(1, 1, k), None, s, p, d)
        got = out_size(n, k, s, p, d)
        assert isinstance(got, int) and got == conv.shape[-1], (
            f"out_size(n={n}, k={k}, s={s}, p={p}, d={d}) = {got!r}, PyTorch's conv1d "
            f"gives {conv.shape[-1]}: mind the dilation (span d(k-1)+1), a stride that "
            "does not divide (floor), and return an int"
        )
        if 2 * p <= k:  # PyTorch's pools accept padding up to half the kernel
            pool = torch.nn.functional.max_pool1d(x, k, s, p, d)
            assert out_size(n, k, s, p, d) == pool.shape[-1], (
                f"out_size(n={n}, k={k}, s={s}, p={p}, d={d}) differs from max_pool1d"
            )
        checked += 1


@test_case(points=None, hidden=True)
def test_the_dilated_padded_kernel_decides_what_fits(out_size):
    # (n, k, s, p, d): fits only thanks to the padding / does not fit because of the dilation
    for n, k, s, p, d, want in [
        (2, 4, 1, 1, 1, 1),
        (1, 3, 2, 1, 1, 1),
        (5, 9, 3, 2, 1, 1),
    ]:
        try:
            got = out_size(n, k, s, p, d)
        except ValueError as error:
            raise AssertionError(
                f"out_size(n={n}, k={k}, s={s}, p={p}, d={d}) raised ValueError ({error}), "
                f"expected {want}: the padding counts, the kernel fits n + 2p"
            ) from None
        assert got == want, f"out_size(n={n}, k={k}, s={s}, p={p}, d={d}) = {got!r}"
    for n, k, s, p, d in [
        (4, 3, 1, 0, 2),
        (6, 4, 2, 0, 3),
        (9, 5, 1, 1, 3),
        (3, 2, 1, 0, 4),
    ]:
        span = d * (k - 1) + 1
        try:
            got = out_size(n, k, s, p, d)
        except ValueError as error:
            message = str(error)
            assert str(n) in message and str(span) in message, (
                f"out_size(n={n}, k={k}, s={s}, p={p}, d={d}) raised ValueError({message!r}): "
                f"the message must give the input size {n} and the kernel's span {span}"
            )
            continue
        raise AssertionError(
            f"out_size(n={n}, k={k}, s={s}, p={p}, d={d}) = {got!r}: the dilated kernel "
            f"spans d(k-1)+1 = {span} > n + 2p = {n + 2 * p}; raise ValueError"
        )


@test_case(points=None, hidden=True)
def test_bad_arguments_are_refused(out_size):
    import numpy as np

    assert out_size(np.int64(10), 3) == 8, "out_size must accept NumPy integers"
    not_integers = [
        (10.0, 3, 1, 0, 1),
        (10, 2.5, 1, 0, 1),
        (10, 3, 1.5, 0, 1),
        (10, 3, 1, 0.5, 1),
        (10, 3, 1, 0, "2"),
        (True, 1, 1, 0, 1),
    ]
    for args in not_integers:
        try:
            got = out_size(*args)
        except TypeError:
            continue
        except ValueError:
            continue  # also a clear refusal
        raise AssertionError(
            f"out_size{args} = {got!r}: sizes are integers; refuse anything else "
            "with TypeError"
        )
    out_of_range = [
        (0, 1, 1, 0, 1),
        (10, 0, 1, 0, 1),
        (10, 3, 0, 0, 1),
        (10, 3, 1, -1, 1),
        (10, 3, 1, 0, 0),
        (10, 3, -2, 0, 1),
    ]
    for args in out_of_range:
        try:
            got = out_size(*args)
        except ValueError:
            continue
        except ZeroDivisionError:
            raise AssertionError(
                f"out_size{args} divided by zero: refuse a stride < 1 with ValueError"
            ) from None
        raise AssertionError(
            f"out_size{args} = {got!r}: n, k, s, d must be >= 1 and p >= 0; "
            "raise ValueError"
        )
