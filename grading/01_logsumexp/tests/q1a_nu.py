"""Hidden tests for q1a_nu: what the notebook's self-check lets through."""

import importlib.util
import os

from otter.test_files import test_case

OK_FORMAT = False

name = "q1a_nu"
points = 2


# The book's helper module from the autograder, never the notebook's own copy.
_spec = importlib.util.spec_from_file_location(
    "_dlbook_grader", os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py")
)
dlbook = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dlbook)

# PyTorch's log-sum-exp and softmax are refused while the answer
# runs: they are the references the answer is compared with, not an answer.
REFUSED = [dlbook.no_operators]
WHY = "the question asks for the computation itself, not PyTorch's own"


@test_case(points=None, hidden=True)
def test_matches_logsumexp_on_unseen_shapes_and_betas(nu):
    import torch

    generator = torch.Generator().manual_seed(1)
    for shape in [(1,), (7,), (3, 5), (2, 3, 4)]:
        x = 4 * torch.randn(*shape, generator=generator, dtype=torch.float64)
        for beta in (0.1, 1.0, 3.0, 25.0):
            want = torch.logsumexp(beta * x, dim=-1) / beta
            got = torch.as_tensor(
                dlbook.refusing(nu, x, beta, refusals=REFUSED, why=WHY),
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
    got = float(dlbook.refusing(nu, x, -1.0, refusals=REFUSED, why=WHY))
    assert math.isclose(got, -1000.0 - math.log(2.0), abs_tol=1e-9), (
        f"nu([-1000, -1000, 5], beta=-1) = {got!r}, expected -1000 - log 2: for beta < 0 "
        "shift by the largest exponent max(beta x), not by beta * max(x)"
    )
    low = float(
        dlbook.refusing(
            nu,
            torch.tensor([-1000.0, -1000.0], dtype=torch.float64),
            1.0,
            refusals=REFUSED,
            why=WHY,
        )
    )
    assert math.isclose(low, -1000.0 + math.log(2.0), abs_tol=1e-9), (
        f"nu([-1000, -1000]) = {low!r}: exp(-1000) underflows to 0; shift first"
    )


@test_case(points=None, hidden=True)
def test_bad_input_is_refused(nu):
    import math

    import torch

    for beta in (0.0, math.inf, math.nan):
        try:
            dlbook.refusing(
                nu, torch.ones(3, dtype=torch.float64), beta, refusals=REFUSED, why=WHY
            )
        except ValueError:
            continue
        raise AssertionError(f"nu(x, beta={beta}) must raise ValueError")
    try:
        dlbook.refusing(
            nu, torch.ones(2, 0, dtype=torch.float64), 1.0, refusals=REFUSED, why=WHY
        )
    except ValueError:
        return
    raise AssertionError("nu of an empty last dimension must raise ValueError")
