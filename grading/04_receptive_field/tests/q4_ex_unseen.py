"""Hidden tests for q4_ex_unseen: random stacks against path counts measured with PyTorch's conv1d, and
an input that the stack refuses."""

import importlib.util
import os

from otter.test_files import test_case

OK_FORMAT = False

name = "q4_ex_unseen"
points = 2

# The book's helper module from the autograder, never the notebook's own copy.
_spec = importlib.util.spec_from_file_location(
    "_dlbook_grader", os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py")
)
dlbook = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dlbook)
# Run every answer with PyTorch's convolutions refused: the self-check's reference (a measurement
# by convolution) is not an answer.
_GEOMETRY_ONLY = {
    "refusals": [dlbook.no_convolutions],
    "why": "the question asks for the answer from the layers' k, s, p and d, without running a "
    "convolution",
}


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
        stack = [
            Geometry(
                rng.randint(1, 4),
                rng.randint(1, 4),
                rng.randint(0, 2),
                rng.randint(1, 3),
            )
            for _ in range(rng.randint(1, 4))
        ]
        n = rng.randint(1, 40)
        if lengths(stack, n) is None:
            continue
        y = torch.eye(n, dtype=torch.float64).unsqueeze(1)
        for g in stack:
            y = torch.nn.functional.conv1d(
                y, torch.ones(1, 1, g.k, dtype=torch.float64), None, g.s, g.p, g.d
            )
        want = torch.nonzero(y[:, 0, :].sum(dim=1) == 0).flatten().tolist()
        got = dlbook.refusing(unseen_pixels, stack, n, **_GEOMETRY_ONLY)
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
            got = dlbook.refusing(unseen_pixels, stack, n, **_GEOMETRY_ONLY)
        except ValueError:
            continue
        raise AssertionError(
            f"unseen_pixels({stack}, n={n}) = {got!r}: the stack refuses an input of {n} "
            "(some layer's dilated kernel does not fit); raise ValueError"
        )
