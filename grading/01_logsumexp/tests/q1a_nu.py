"""Hidden tests for q1a_nu: what the notebook's self-check lets through."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q1a_nu"
points = 2


@test_case(points=None, hidden=True)
def test_bad_input_is_refused(nu):
    import math

    import torch

    x = torch.ones(3, dtype=torch.float64)
    for beta in (0.0, math.inf, math.nan):
        what = f"nu(x, beta={beta})"
        dlbook.must_raise(ValueError, dlbook.by_hand, nu, x, beta, what=what)
    empty = torch.ones(2, 0, dtype=torch.float64)
    what = "nu of an empty last dimension"
    dlbook.must_raise(ValueError, dlbook.by_hand, nu, empty, 1.0, what=what)


@test_case(points=None, hidden=True)
def test_matches_logsumexp_on_unseen_shapes_and_betas(nu):
    import torch

    generator = torch.Generator().manual_seed(1)
    for shape in [(1,), (7,), (3, 5), (2, 3, 4)]:
        x = 4 * torch.randn(*shape, generator=generator, dtype=torch.float64)
        for beta in (0.1, 1.0, 3.0, 25.0):
            want = torch.logsumexp(beta * x, dim=-1) / beta
            got = torch.as_tensor(
                dlbook.by_hand(nu, x, beta),
                dtype=torch.float64,
            )
            assert got.shape == want.shape and torch.allclose(got, want, atol=1e-12), (
                f"nu on shape {shape} with beta={beta} differs from torch.logsumexp"
                "(beta x, dim=-1) / beta: reduce over the last dimension only"
            )


@test_case(points=None, hidden=True)
def test_negative_beta_and_extreme_values(nu):
    import math

    import torch

    x = torch.tensor([-1000.0, -1000.0, 5.0], dtype=torch.float64)
    got = float(dlbook.by_hand(nu, x, -1.0))
    assert math.isclose(got, -1000.0 - math.log(2.0), abs_tol=1e-9), (
        f"nu([-1000, -1000, 5], beta=-1) = {got!r}, expected -1000 - log 2: for beta < 0 "
        "shift by the largest exponent max(beta x), not by beta * max(x)"
    )
    low = float(
        dlbook.by_hand(nu, torch.tensor([-1000.0, -1000.0], dtype=torch.float64), 1.0)
    )
    assert math.isclose(low, -1000.0 + math.log(2.0), abs_tol=1e-9), (
        f"nu([-1000, -1000]) = {low!r}: exp(-1000) underflows to 0; shift first"
    )


# The book's helper module from the autograder zip, never the notebook's own copy (the
# tests above use it when otter runs them, after it has read this whole file).
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)
