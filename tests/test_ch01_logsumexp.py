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
    assert sorted(p.name for p in chapter.workdir.iterdir()) == [f"{STEM}.ipynb"], "the chapter wrote files"
    assert chapter.seconds < 30, f"chapter 1 took {chapter.seconds:.1f} s (budget 30 s)"


def test_sandwich_bound(chapter):
    g = chapter.glue
    assert g["ch1_bound_cases"] == 5400 and g["ch1_bound_violations"] == 0
    assert 0.99 < g["ch1_bound_worst_ratio"] <= 1 + 1e-12  # the envelope is tight but never exceeded
    assert g["ch1_bound_exact_cases"] == 100


def test_symbolic_limits_including_ties(chapter):
    g = chapter.glue
    assert g["ch1_limit_ordered"] == "x1" and g["ch1_limit_tied"] == "x1"
    assert g["ch1_softmax_limit_unique"] == [1.0, 0.0, 0.0]
    assert g["ch1_softmax_limit_tie"] == [0.5, 0.5, 0.0]


def test_gradient_is_softmax(chapter):
    assert 0 <= chapter.glue["ch1_gradient_max_abs_error"] < 1e-14


def test_stability_thresholds(chapter):
    g = chapter.glue
    assert g["ch1_overflow_exponent_float32"] == pytest.approx(math.log(3.4028234663852886e38))
    assert g["ch1_overflow_exponent_float64"] == pytest.approx(math.log(1.7976931348623157e308))
    assert g["ch1_overflow_beta_float32"] == pytest.approx(29.5743, abs=1e-3)
    assert g["ch1_stable_rel_error_float32"] < 16 * 2.0**-23
    assert g["ch1_stable_rel_error_float64"] < 16 * 2.0**-52
    assert "naive = inf" in chapter.text and "naive = -inf" in chapter.text


def test_self_checks_pass_and_bad_input_is_refused(chapter):
    assert chapter.text.count("PASSED:") == 2
    assert "ValueError: beta must be a finite nonzero number" in chapter.text


def run_with_solution_replaced(tmp_path, function_name, wrong_body):
    """Execute the chapter with one solution region replaced; return the error text."""
    notebook = jupytext.read(CHAPTERS / f"{STEM}.md")
    replace_solution(notebook.cells, function_name, wrong_body)
    return execution_error(notebook, tmp_path, timeout=300)


def test_ties_blind_argmax_gets_a_helpful_message(tmp_path):
    message = run_with_solution_replaced(
        tmp_path, "softmax_limit",
        "    x = torch.as_tensor(x, dtype=torch.float64)\n"
        "    return torch.nn.functional.one_hot(x.argmax(dim=-1), x.shape[-1]).to(torch.float64)")
    assert "CheckFailed" in message
    assert "with ties the mass is shared equally among all maximisers" in message
    assert "[3.0, 1.0, 3.0]" in message  # it names the input that exposes the mistake


def test_wrong_sign_in_smooth_min_gets_a_helpful_message(tmp_path):
    message = run_with_solution_replaced(
        tmp_path, "smooth_min", "    return nu(torch.as_tensor(x, dtype=torch.float64), beta)")
    assert "CheckFailed" in message and "did you negate both the input and the result of nu?" in message
