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
def test_what_the_gradient_approaches(grad_limit):
    """grad_limit(x) is what the gradient of nu_beta at x approaches as beta grows,
    ties and near-ties included, and it moves with x's entries"""
    import torch

    x = torch.tensor([[3, 1, 2], [3, 1, 3], [0.5] * 3, [-2, 7, 7]], dtype=torch.float64)
    x = torch.cat(
        [x, torch.tensor([[1, 1.000001, 0], [5, 5, 4.999999]], dtype=x.dtype)]
    )
    got = torch.as_tensor(grad_limit(x), dtype=torch.float64)
    assert got.shape == x.shape, f"a (6, 3) batch gave shape {tuple(got.shape)}"

    def gradient(beta):  # of nu_beta at each row of x, by autograd
        y = x.clone().requires_grad_()
        return torch.autograd.grad(torch.logsumexp(beta * y, -1).sum() / beta, y)[0]

    beta = 1e9  # 1000 / (the smallest gap between distinct entries of a row)
    near = gradient(beta)
    moves = float((near - gradient(2 * beta)).abs().max()) + 1e-12
    for row, answer, close in zip(x, got, near):
        off = float((answer - close).abs().max())
        assert off <= moves, (
            f"for x = {row.tolist()} you returned {answer.tolist()}, {off:.2g} away"
            f" from the gradient at beta = {beta:g}, which moves by at most"
            f" {moves:.2g} when beta doubles: it does not approach your answer"
        )
    p = [2, 0, 1]
    for how, y, want in (("permuting", x[:, p], got[:, p]), ("shifting", x + 10, got)):
        moved = torch.as_tensor(grad_limit(y), dtype=torch.float64)
        assert torch.allclose(moved, want, rtol=0, atol=1e-12), (
            f"{how} the entries of x changed your answer otherwise than the limit"
        )


@dlbook.hidden_case(1)
def test_ties_in_a_batch(grad_limit):
    x = torch.tensor([2, 2, 2, 1, 0, -1, 0, 0, 9, 1, 1, 1, -3, -3, -7, -3]).double()
    want = torch.tensor([1, 1, 1, 0, 1, 0, 1, 1, 3, 0, 0, 0, 1, 1, 0, 1]).double() / 3
    x, want = x.reshape(2, 2, 4), want.reshape(2, 2, 4)
    got = torch.as_tensor(grad_limit(x), dtype=torch.float64)
    assert got.shape == want.shape and torch.allclose(got, want, atol=1e-15), (
        f"grad_limit on a (2, 2, 4) batch with ties gave {got.tolist()}: share the "
        "mass equally among the maximisers of each row (last dimension)"
    )


@dlbook.hidden_case(0.5)
def test_exact_limit_on_near_ties_and_infinities(grad_limit):
    x = [[1e-12, 0.0, 0.0], [-torch.inf, 4.0, 4.0], [7.0, 7.0 - 1e-13, -torch.inf]]
    x = torch.tensor(x, dtype=torch.float64)
    want = torch.tensor([[1.0, 0, 0], [0, 0.5, 0.5], [1.0, 0, 0]], dtype=torch.float64)
    got = torch.as_tensor(grad_limit(x), dtype=torch.float64)
    assert torch.equal(got, want), (
        f"grad_limit({x.tolist()}) = {got.tolist()}, expected {want.tolist()}: only "
        "exact maximisers share the mass; any finite beta leaves some on near-ties"
    )


@dlbook.hidden_case(0.5)
def test_random_unique_maxima(grad_limit):
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(50, 9, generator=generator, dtype=torch.float64)
    want = torch.nn.functional.one_hot(x.argmax(-1), 9).to(torch.float64)
    got = torch.as_tensor(grad_limit(x), dtype=torch.float64)
    assert torch.equal(got, want), "with a unique maximum the limit is a one-hot argmax"
