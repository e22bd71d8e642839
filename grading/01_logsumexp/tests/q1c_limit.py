"""q1c_limit: its self-check (public) and hidden tests (batches, near-ties, -inf)."""

import os
from runpy import run_path
from types import SimpleNamespace

import torch
from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False
name = "q1c_limit"
points = 2


@test_case(points=0, hidden=False)
def test_the_exact_limit_ties_included(softmax_limit):
    """softmax_limit is the exact limit, ties included"""
    import torch

    rows = [  # x, then its limit
        ([3.0, 1.0, 2.0], [1.0, 0.0, 0.0]),
        ([3.0, 1.0, 3.0], [0.5, 0.0, 0.5]),
        ([0.5, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]),
        ([-2.0, 7.0, 7.0], [0.0, 0.5, 0.5]),
        ([1.0, 1.0 + 1e-6, 0.0], [0.0, 1.0, 0.0]),
        ([5.0, 5.0, 5.0 - 1e-6], [0.5, 0.5, 0.0]),
    ]
    x, want = (torch.tensor(t, dtype=torch.float64) for t in zip(*rows))
    got = torch.as_tensor(softmax_limit(x), dtype=torch.float64)
    assert got.shape == x.shape, f"a (6, 3) batch gave shape {tuple(got.shape)}"
    ties = "a row with tied maxima is wrong"
    near = "you left mass on entries below the maximum, which the limit does not"
    for row, answer, limit in zip(x, got, want):
        below = (answer[row < row.max()] != 0).any()  # mass left below the maximum
        assert torch.equal(answer, limit), (
            f"for x = {row.tolist()} you returned {answer.tolist()}, but the limit is "
            f"{limit.tolist()}: " + (near if below else ties)
        )


@dlbook.hidden_case(1)
def test_ties_in_a_batch(softmax_limit):
    x = torch.tensor([2, 2, 2, 1, 0, -1, 0, 0, 9, 1, 1, 1, -3, -3, -7, -3]).double()
    want = torch.tensor([1, 1, 1, 0, 1, 0, 1, 1, 3, 0, 0, 0, 1, 1, 0, 1]).double() / 3
    x, want = x.reshape(2, 2, 4), want.reshape(2, 2, 4)
    got = torch.as_tensor(softmax_limit(x), dtype=torch.float64)
    assert got.shape == want.shape and torch.allclose(got, want, atol=1e-15), (
        f"softmax_limit on a (2, 2, 4) batch with ties gave {got.tolist()}: share the "
        "mass equally among the maximisers of each row (last dimension)"
    )


@dlbook.hidden_case(0.5)
def test_exact_limit_on_near_ties_and_infinities(softmax_limit):
    x = [[1e-12, 0.0, 0.0], [-torch.inf, 4.0, 4.0], [7.0, 7.0 - 1e-13, -torch.inf]]
    x = torch.tensor(x, dtype=torch.float64)
    want = torch.tensor([[1.0, 0, 0], [0, 0.5, 0.5], [1.0, 0, 0]], dtype=torch.float64)
    got = torch.as_tensor(softmax_limit(x), dtype=torch.float64)
    assert torch.equal(got, want), (
        f"softmax_limit({x.tolist()}) = {got.tolist()}, expected {want.tolist()}: only "
        "exact maximisers share the mass; any finite beta leaves some on near-ties"
    )


@dlbook.hidden_case(0.5)
def test_random_unique_maxima(softmax_limit):
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(50, 9, generator=generator, dtype=torch.float64)
    want = torch.nn.functional.one_hot(x.argmax(-1), 9).to(torch.float64)
    got = torch.as_tensor(softmax_limit(x), dtype=torch.float64)
    assert torch.equal(got, want), "with a unique maximum the limit is a one-hot argmax"
