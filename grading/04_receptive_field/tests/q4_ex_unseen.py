"""q4_ex_unseen: its public case (the self-check), then its hidden tests."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q4_ex_unseen"
points = 2


@test_case(points=0, hidden=False)
def test_five_stacks_against_their_unseen_pixels(unseen_pixels, Geometry):
    """unseen_pixels gives the unseen positions measured on five small stacks"""
    G = Geometry
    for title, stack, n, want in [  # the positions no path reaches, measured once
        ("stride above kernel", [G(2, 3), G(3, 1, 1)], 20, [2, 5, 8, 11, 14, 17]),
        ("padded, floored", [G(2, 2), G(3, 1, 1)], 5, [4]),
        ("dilated", [G(3, 1, 0, 2), G(2, 2, 1, 3)], 17, [0, 15]),
        ("strided", [G(5, 3), G(3, 2)], 24, [23]),
        ("padded, all seen", [G(3, 1, 1)] * 2, 8, []),
    ]:
        got = list(dlbook.from_the_geometry(unseen_pixels, stack, n))
        extra, missed = sorted(set(got) - set(want)), sorted(set(want) - set(got))
        symptoms = [f"positions {extra} are read by an output unit"] * bool(extra)
        symptoms += [
            f"you missed {missed}: you count them as seen, but no path from them"
            " reaches an output unit"
        ] * bool(missed)
        symptoms = symptoms or ["return each position once, in increasing order"]
        assert got == want, f"{title}, {stack} at n={n}: " + "; ".join(symptoms)


@dlbook.hidden_case(1)
def test_random_stacks_match_path_counts(unseen_pixels, Geometry):
    import random

    import torch

    rng, checked = random.Random(45), 0
    while checked < 80:
        # 1 to 4 layers: k in 1..4, s in 1..4, p in 0..2, d in 1..3
        stack = dlbook.random_layers(rng, Geometry, 4, (1, 4), (1, 4), (0, 2), (1, 3))
        n = rng.randint(1, 40)
        y = torch.eye(n, dtype=torch.float64).unsqueeze(1)
        try:  # conv1d refuses an input exactly when the stack does
            for k, s, p, d in ((g.k, g.s, g.p, g.d) for g in stack):
                y = torch.nn.functional.conv1d(y, y.new_ones(1, 1, k), None, s, p, d)
        except RuntimeError:
            continue
        want = torch.nonzero(y[:, 0].sum(dim=1) == 0).flatten().tolist()
        got = dlbook.from_the_geometry(unseen_pixels, stack, n)
        assert isinstance(got, list) and got == want, (
            f"unseen_pixels({stack}, n={n}) = {got!r}, the path counts give {want}"
        )
        checked += 1


@dlbook.hidden_case(1)
def test_an_input_the_stack_refuses_raises(unseen_pixels, Geometry):
    G = Geometry
    for stack, n in [([G(5)], 3), ([G(3, 1, 0, 3)], 6), ([G(3, 2), G(4, 1, 0, 2)], 12)]:
        try:
            got = dlbook.from_the_geometry(unseen_pixels, stack, n)
        except ValueError:
            continue
        raise AssertionError(
            f"unseen_pixels({stack}, n={n}) = {got!r}: the stack refuses an input of {n} "
            "(some layer's dilated kernel does not fit); raise ValueError"
        )
