"""Chapter 1's glued values, as the book build executed the chapter (`run_chapter`), and the mistakes
its derivation checks catch, shown in-process."""

import math
import re

import pytest
import sympy as sp
from conftest import run_cells

STEM = "01_logsumexp"


EXACT = {  # related values on one line
    "ch1_bound_cases": 5400, "ch1_bound_violations": 0, "ch1_bound_interval_cases": 100,
    "ch1_bound_tied_cases": 44, "ch1_bound_tight_cases": 16,
    "ch1_rate_cases": 490, "ch1_half_ulp_of_max": 2.0**-52,
    "ch1_limit_ordered": "x1", "ch1_limit_tied": "x1",
    "ch1_softmax_limit_unique": [1.0, 0.0, 0.0], "ch1_softmax_limit_tie": [0.5, 0.5, 0.0],
    "ch1_gradient_vectors": 1000, "ch1_gradient_length": 7,
    # comparing nu with torch.logsumexp checks nothing: they agree bit for bit
    "ch1_lse_identical": 810, "ch1_lse_compared": 810,
    "ch1_n_long": 10_000, "ch1_n_near_zero": 1_000,
    "ch1_curvature_points": 20, "ch1_curvature_n": 6,
}  # fmt: skip


def test_exact_values(chapter):
    assert {name: chapter.glue[name] for name in EXACT} == EXACT


def test_sandwich_bound_is_tight_but_never_exceeded(chapter):
    assert 0.99 < chapter.glue["ch1_bound_worst_ratio"] <= 1 + 1e-12


def test_rate_of_the_gap(chapter):
    g = chapter.glue
    # float64 stops seeing the exponentially small gap of x = (0.3, -1, 2, 1.2, 0) near beta = 40.7:
    # past that, log(1 + e^(-0.8 beta) + ...) is below half an ulp of 2 beta (about 2 beta 2^-53)
    beta = g["ch1_float64_zero_beta"]
    assert 40 < beta < 42
    gap = math.log(1 + sum(math.exp(-beta * d) for d in (0.8, 1.7, 2.0, 3.0))) / beta
    assert g["ch1_gap_at_zero_beta"] == pytest.approx(gap, rel=1e-12)
    assert math.log(gap * beta) < math.log(2 * beta * 2.0**-53) + 1
    # and below half an ulp of max x = 2: a correctly rounded nu is exactly 2 there too
    assert g["ch1_gap_at_zero_beta"] < g["ch1_half_ulp_of_max"]
    for ties, limit in (("x1 = x2 > x3", "1/2"), ("x1 > x2 = x3", "2")):
        line = f"{ties}: e^(beta Delta) [beta (nu - max) - log k] -> {limit}"
        assert line in chapter.text


def test_gradient_is_softmax(chapter):
    assert 0 <= chapter.glue["ch1_gradient_max_abs_error"] < 1e-14


def test_stability_thresholds(chapter):
    g = chapter.glue
    largest = {"float32": 3.4028234663852886e38, "float64": 1.7976931348623157e308}
    for kind, value in largest.items():
        assert g[f"ch1_overflow_exponent_{kind}"] == pytest.approx(math.log(value))
    assert g["ch1_overflow_beta_float32"] == pytest.approx(29.5743, abs=1e-3)
    assert "naive = inf" in chapter.text and "naive = -inf" in chapter.text


def test_accuracy_in_ulp_against_mpmath(chapter):
    g = chapter.glue
    # well-conditioned inputs: a few ulp, not 0 (a reference equal to the result would give 0)
    for name in ("nu_float64", "nu_float32", "naive_float64"):
        assert 0.3 < g[f"ch1_ulp_well_{name}"] <= 4, (name, g[f"ch1_ulp_well_{name}"])
    # near 0 every method loses accuracy, within what the condition number allows
    assert g["ch1_condition_near0"] > 1e5
    for name in ("nu_float64", "naive_float64", "torch_float64"):
        ulp = g[f"ch1_ulp_near0_{name}"]
        assert 100 < ulp <= g["ch1_condition_near0"], (name, ulp)
    # acceptable, not unavoidable: an accurate sum, then log1p, does much better
    assert g["ch1_ulp_near0_fsum_float64"] < g["ch1_ulp_near0_nu_float64"] / 10


def test_curvature_shift_and_cross_entropy(chapter):
    g = chapter.glue
    errors = ("hessian_error", "hessian_null_residual", "shift_error", "jacobian_error",
              "cross_entropy_error")  # fmt: skip
    for name in errors:
        assert 0 <= g[f"ch1_{name}"] < 1e-12, name
    # 1 is in the null space: the minimum is 0
    assert -1e-12 < g["ch1_hessian_min_eigenvalue"] < 1e-12


def test_bad_input_is_refused_with_what_to_change(chapter):
    assert "ValueError: beta must be a finite nonzero number" in chapter.text


# A mistake in a derivation's check is caught in-process: the chapter's setup cell, its nu and the
# check's cells (marked `:derivation: <label>`), with one definition or piece of source made wrong.
def nu_in_float32(namespace):
    nu = namespace["nu"]
    return lambda x, b: nu(x.float(), b).to(x.dtype)


MISTAKES = {  # name: (the derivation, its change (run_cells' arguments), the failure's phrase)
    # the rate theorem's bounds with the log k of tied maxima left out (the unique-maximum rate)
    "missing log k": ("ch1-thm-rate",
        {"sources": ["def rate_bounds_hold("], "edit": (" - mpmath.log(k)", "")},
        "check the log k term of the tied maxima"),
    # the Hessian without the factor beta of the chain rule
    "missing beta": ("ch1-thm-hessian",
        {"sources": ["def hessian_formula("], "edit": ("return beta * (", "return (")},
        "is the factor beta from the chain rule missing"),
    # nu computed in float32 whatever its input
    "float32 nu": ("ch1-ulp", {"wrong": {"nu": nu_in_float32}},
                   "ulp off on the 'moderate' inputs in torch.float64"),
    # the same past overflow: allclose with torch.logsumexp (rtol 1e-5) let it through
    "float32 nu, overflow": ("ch1-overflow", {"sources": ["def nu_naive("],
        "wrong": {"nu": nu_in_float32}}, "off in torch.float64: more than 4 eps"),
}  # fmt: skip


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_a_derivation_check_catches_a_mistake(mistake):
    label, change, message = MISTAKES[mistake]
    with pytest.raises(AssertionError, match=re.escape(message)):
        run_cells(STEM, label, answers=("q1a_nu",), **change)


def test_all_entries_equal_is_the_sandwich_s_equality_outside_the_rate_theorem():
    # 30-digit sympy (the old check) gave -0.e-165 < 0 for such equalities; intervals decide
    equal = ("for _ in range(rng.randint(2, 4))]", "] * rng.randint(2, 4)")
    ns = run_cells(
        STEM, "ch1-thm-sandwich", sources=["def rate_bounds_hold("], edit=equal
    )
    assert ns["tight_cases"] == len(ns["checked"]) == 100
    with pytest.raises(ValueError, match="empty"):  # k = n: no runner-up, no Delta
        ns["rate_bounds_hold"]([1.5, 1.5], 1.0)


def test_without_the_shift_only_m_0_is_determinate():
    # x = (m, m - 1): L'Hopital's unshifted numerator and denominator as beta -> oo
    beta = sp.symbols("beta", positive=True)
    for m, limits in ((1, [sp.oo, sp.oo]), (-1, [0, 0]), (0, [0, 1])):
        terms = [(x, sp.exp(beta * x)) for x in (m, m - 1)]
        sums = sum(x * e for x, e in terms), sum(e for _, e in terms)
        assert [sp.limit(t, beta, sp.oo) for t in sums] == limits, m
