"""Hidden tests for q1c_limit: ties in batches, near-ties, -inf, unseen shapes."""

from otter.test_files import test_case

OK_FORMAT = False

name = "q1c_limit"
points = 2


@test_case(points=None, hidden=True)
def test_ties_in_a_batch(softmax_limit):
    import torch

    x = torch.tensor(
        [
            [[2.0, 2.0, 2.0, 1.0], [0.0, -1.0, 0.0, 0.0]],
            [[9.0, 1.0, 1.0, 1.0], [-3.0, -3.0, -7.0, -3.0]],
        ],
        dtype=torch.float64,
    )
    want = torch.tensor(
        [
            [[1 / 3, 1 / 3, 1 / 3, 0.0], [1 / 3, 0.0, 1 / 3, 1 / 3]],
            [[1.0, 0.0, 0.0, 0.0], [1 / 3, 1 / 3, 0.0, 1 / 3]],
        ],
        dtype=torch.float64,
    )
    got = torch.as_tensor(softmax_limit(x), dtype=torch.float64)
    assert got.shape == want.shape and torch.allclose(got, want, atol=1e-15), (
        f"softmax_limit on a (2, 2, 4) batch with ties gave {got.tolist()}: share the "
        "mass equally among the maximisers of each row (last dimension)"
    )


@test_case(points=None, hidden=True)
def test_exact_limit_on_near_ties_and_infinities(softmax_limit):
    import torch

    x = torch.tensor(
        [
            [1e-12, 0.0, 0.0],
            [-float("inf"), 4.0, 4.0],
            [7.0, 7.0 - 1e-13, -float("inf")],
        ],
        dtype=torch.float64,
    )
    want = torch.tensor(
        [[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [1.0, 0.0, 0.0]], dtype=torch.float64
    )
    got = torch.as_tensor(softmax_limit(x), dtype=torch.float64)
    assert torch.equal(got, want), (
        f"softmax_limit({x.tolist()}) = {got.tolist()}, expected {want.tolist()}: only "
        "exact maximisers share the mass; any finite beta leaves some on near-ties"
    )


@test_case(points=None, hidden=True)
def test_random_unique_maxima(softmax_limit):
    import torch

    generator = torch.Generator().manual_seed(3)
    x = torch.randn(50, 9, generator=generator, dtype=torch.float64)
    want = torch.nn.functional.one_hot(x.argmax(-1), 9).to(torch.float64)
    got = torch.as_tensor(softmax_limit(x), dtype=torch.float64)
    assert torch.equal(got, want), (
        "with a unique maximum the limit is the one-hot argmax"
    )
