"""Hidden tests for q4_ex_unseen: random stacks against path counts measured with PyTorch's conv1d, and
an input that the stack refuses."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q4_ex_unseen"
points = 2


@test_case(points=None, hidden=True)
def test_random_stacks_match_path_counts(unseen_pixels, Geometry):
    import random

    import torch

    def lengths(stack, n):
        sizes = [n]
        for g in stack:
            span = g.d * (g.k - 1) + 1
            if sizes[-1] + 2 * g.p < span:
                return None
            sizes.append((sizes[-1] + 2 * g.p - span) // g.s + 1)
        return sizes

    rng = random.Random(45)
    checked = 0
    while checked < 80:
        # 1 to 4 layers: k in 1..4, s in 1..4, p in 0..2, d in 1..3
        stack = dlbook.random_layers(rng, Geometry, 4, (1, 4), (1, 4), (0, 2), (1, 3))
        n = rng.randint(1, 40)
        if lengths(stack, n) is None:
            continue
        y = torch.eye(n, dtype=torch.float64).unsqueeze(1)
        for g in stack:
            y = torch.nn.functional.conv1d(
                y, torch.ones(1, 1, g.k, dtype=torch.float64), None, g.s, g.p, g.d
            )
        want = torch.nonzero(y[:, 0, :].sum(dim=1) == 0).flatten().tolist()
        got = dlbook.from_the_geometry(unseen_pixels, stack, n)
        assert isinstance(got, list) and got == want, (
            f"unseen_pixels({stack}, n={n}) = {got!r}, PyTorch's path counts give the "
            f"sorted list {want}"
        )
        checked += 1


@test_case(points=None, hidden=True)
def test_an_input_the_stack_refuses_raises(unseen_pixels, Geometry):
    for stack, n in [
        ([Geometry(5)], 3),
        ([Geometry(3, 1, 0, 3)], 6),
        ([Geometry(3, 2), Geometry(4, 1, 0, 2)], 12),
    ]:
        try:
            got = dlbook.from_the_geometry(unseen_pixels, stack, n)
        except ValueError:
            continue
        raise AssertionError(
            f"unseen_pixels({stack}, n={n}) = {got!r}: the stack refuses an input of {n} "
            "(some layer's dilated kernel does not fit); raise ValueError"
        )


# The book's helper module from the autograder zip, never the notebook's own copy (the
# tests above use it when otter runs them, after it has read this whole file).
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)
