"""Chapter 1, executed from its .ipynb twin in an empty folder with a fresh kernel (as Colab would)."""

import math

import jupytext
import pytest
from conftest import CHAPTERS, execution_error, replace_solution

STEM = "01_logsumexp"


@pytest.fixture(scope="module")
def chapter(run_chapter):
    return run_chapter(STEM)


def test_runs_alone_within_budget(chapter):
    assert sorted(p.name for p in chapter.workdir.iterdir()) == [f"{STEM}.ipynb"], (
        "the chapter wrote files"
    )
    assert chapter.seconds < 30, f"chapter 1 took {chapter.seconds:.1f} s (budget 30 s)"


def test_sandwich_bound(chapter):
    g = chapter.glue
    assert g["ch1_bound_cases"] == 5400 and g["ch1_bound_violations"] == 0
    assert (
        0.99 < g["ch1_bound_worst_ratio"] <= 1 + 1e-12
    )  # the envelope is tight but never exceeded
    assert g["ch1_bound_exact_cases"] == 100


def test_rate_of_the_gap(chapter):
    g = chapter.glue
    assert g["ch1_rate_cases"] == 490
    # float64 stops seeing the exponentially small gap of x = (0.3, -1, 2, 1.2, 0) near beta = 40.7: past that,
    # log(1 + e^(-0.8 beta) + ...) is below half an ulp of 2 beta (about 2 beta * 2^-53)
    beta = g["ch1_float64_zero_beta"]
    assert 40 < beta < 42
    true_gap = (
        math.log(1 + sum(math.exp(-beta * d) for d in (0.8, 1.7, 2.0, 3.0))) / beta
    )
    assert g["ch1_gap_at_zero_beta"] == pytest.approx(true_gap, rel=1e-12)
    assert (
        math.log(true_gap * beta) < math.log(2 * beta * 2.0**-53) + 1
    )  # about half an ulp of 2 beta
    # and the true gap is below half an ulp of max x = 2: a correctly rounded nu is exactly 2 there too
    assert (
        g["ch1_half_ulp_of_max"] == 2.0**-52
        and g["ch1_gap_at_zero_beta"] < g["ch1_half_ulp_of_max"]
    )
    assert (
        "x1 = x2 > x3: e^(beta Delta) [beta (nu - max) - log k] -> 1/2" in chapter.text
    )
    assert "x1 > x2 = x3: e^(beta Delta) [beta (nu - max) - log k] -> 2" in chapter.text


def test_symbolic_limits_including_ties(chapter):
    g = chapter.glue
    assert g["ch1_limit_ordered"] == "x1" and g["ch1_limit_tied"] == "x1"
    assert g["ch1_softmax_limit_unique"] == [1.0, 0.0, 0.0]
    assert g["ch1_softmax_limit_tie"] == [0.5, 0.5, 0.0]


def test_gradient_is_softmax(chapter):
    g = chapter.glue
    assert 0 <= g["ch1_gradient_max_abs_error"] < 1e-14
    assert (g["ch1_gradient_vectors"], g["ch1_gradient_length"]) == (1000, 7)


def test_stability_thresholds(chapter):
    g = chapter.glue
    assert g["ch1_overflow_exponent_float32"] == pytest.approx(
        math.log(3.4028234663852886e38)
    )
    assert g["ch1_overflow_exponent_float64"] == pytest.approx(
        math.log(1.7976931348623157e308)
    )
    assert g["ch1_overflow_beta_float32"] == pytest.approx(29.5743, abs=1e-3)
    assert "naive = inf" in chapter.text and "naive = -inf" in chapter.text


def test_accuracy_in_ulp_against_mpmath(chapter):
    g = chapter.glue
    # comparing nu with torch.logsumexp checks nothing: they agree bit for bit
    assert g["ch1_lse_identical"] == g["ch1_lse_compared"] == 810
    # well-conditioned inputs: a few ulp, and not trivially zero (a reference equal to the result would give 0)
    for name in (
        "ch1_ulp_well_nu_float64",
        "ch1_ulp_well_nu_float32",
        "ch1_ulp_well_naive_float64",
    ):
        assert 0.3 < g[name] <= 4, (name, g[name])
    # near 0 every method loses accuracy, within what the condition number allows
    assert g["ch1_condition_near0"] > 1e5
    for name in (
        "ch1_ulp_near0_nu_float64",
        "ch1_ulp_near0_naive_float64",
        "ch1_ulp_near0_torch_float64",
    ):
        assert 100 < g[name] <= g["ch1_condition_near0"], (name, g[name])
    assert g["ch1_n_long"] == 10_000 and g["ch1_n_near_zero"] == 1_000


def test_curvature_shift_and_cross_entropy(chapter):
    g = chapter.glue
    for name in (
        "hessian_error",
        "hessian_null_residual",
        "shift_error",
        "jacobian_error",
        "cross_entropy_error",
    ):
        assert 0 <= g[f"ch1_{name}"] < 1e-12, name
    assert (
        -1e-12 < g["ch1_hessian_min_eigenvalue"] < 1e-12
    )  # 1 is in the null space: the minimum is 0
    assert (g["ch1_curvature_points"], g["ch1_curvature_n"]) == (20, 6)
    assert (
        "Hessian = beta (diag p - p p^T), grad of cross-entropy = p - y: all exact"
        in chapter.text
    )


def test_self_checks_pass_and_bad_input_is_refused(chapter):
    # nu: 4 checks, grad_nu: 2, smooth_min: 2, softmax_limit: 1
    assert chapter.text.count("PASSED:") == 9
    assert "ValueError: beta must be a finite nonzero number" in chapter.text


def run_with_solution_replaced(tmp_path, function_name, wrong_body):
    """Execute the chapter with one solution region replaced; return the error text."""
    notebook = jupytext.read(CHAPTERS / f"{STEM}.md")
    replace_solution(notebook.cells, function_name, wrong_body)
    return execution_error(notebook, tmp_path, timeout=300)


def test_ties_blind_argmax_gets_a_helpful_message(tmp_path):
    message = run_with_solution_replaced(
        tmp_path,
        "softmax_limit",
        "    x = torch.as_tensor(x, dtype=torch.float64)\n"
        "    return torch.nn.functional.one_hot(x.argmax(dim=-1), x.shape[-1]).to(torch.float64)",
    )
    assert "CheckFailed" in message
    assert "with ties the mass is shared equally among all maximisers" in message
    assert "[3.0, 1.0, 3.0]" in message  # it names the input that exposes the mistake


def test_wrong_sign_in_smooth_min_gets_a_helpful_message(tmp_path):
    message = run_with_solution_replaced(
        tmp_path,
        "smooth_min",
        "    return nu(torch.as_tensor(x, dtype=torch.float64), beta)",
    )
    assert "CheckFailed" in message
    assert "smooth_min(x, beta) is outside [min x - log(n)/beta, min x]" in message
    assert "negate" not in message  # the symptom, not the answer


def run_with_cell_edited(tmp_path, old, new):
    """Execute the chapter with `old` replaced by `new` in the one code cell that contains it."""
    notebook = jupytext.read(CHAPTERS / f"{STEM}.md")
    cells = [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and old in cell.source
    ]
    assert len(cells) == 1, (
        f"expected one code cell containing {old!r}, found {len(cells)}"
    )
    cells[0].source = cells[0].source.replace(old, new)
    return execution_error(notebook, tmp_path, timeout=300)


def test_finite_beta_shortcut_fails_the_ties_exercise(tmp_path):
    message = run_with_solution_replaced(
        tmp_path,
        "softmax_limit",
        "    return torch.softmax(1e4 * torch.as_tensor(x, dtype=torch.float64), dim=-1)",
    )
    assert "CheckFailed" in message
    assert "softmax(beta x) at a large but finite beta is not the limit" in message
    assert "[1.0, 1.000001, 0.0]" in message  # entries 1e-6 apart expose it


def test_rate_check_catches_a_missing_log_k(tmp_path):
    message = run_with_cell_edited(
        tmp_path, "- b * top\n            - mpmath.log(k)\n", "- b * top\n"
    )  # the unique-maximum rate, applied to ties
    assert (
        "rate bounds fail for x = " in message
        and "check the log k term of the tied maxima" in message
    )


def test_hessian_check_catches_a_missing_beta(tmp_path):
    message = run_with_cell_edited(
        tmp_path,
        "return beta * (torch.diag(p) - torch.outer(p, p))",
        "return torch.diag(p) - torch.outer(p, p)",
    )
    assert "is the factor beta from the chain rule missing?" in message


def test_ulp_check_catches_a_float32_implementation(tmp_path):
    message = run_with_cell_edited(
        tmp_path, '"nu": nu,', '"nu": lambda x, b: nu(x.float(), b).to(x.dtype),'
    )
    assert "ulp off on the 'moderate' inputs in torch.float64" in message
