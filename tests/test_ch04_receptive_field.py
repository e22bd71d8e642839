"""Chapter 4: output size and receptive field. Runs the twin once and asserts its glued values."""
from pathlib import Path

import jupytext
import nbformat
import pytest

from conftest import execution_error, replace_solution

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"

STEM = "04_receptive_field"
BUDGET_SECONDS = 90


@pytest.fixture(scope="module")
def ch4(run_chapter):
    return run_chapter(STEM)


def test_runs_within_budget(ch4):
    assert ch4.seconds < BUDGET_SECONDS, f"chapter 4 took {ch4.seconds:.1f} s (budget {BUDGET_SECONDS} s)"


def test_output_size_formula_matches_pytorch_on_grid(ch4):
    g = ch4.glue
    assert g["ch4_grid_mismatches"] == 0
    assert g["ch4_grid_checked"] > 3000
    assert 0 < g["ch4_grid_refused"] < g["ch4_grid_checked"]
    assert g["ch4_conv2d_checked"] == 32
    assert g["ch4_rf_stacks_checked"] == 200
    assert g["ch4_stack_sizes_checked"] > 1000


def test_out_size_refuses_too_small_input_with_a_fix(ch4):
    assert "ValueError: input of size n=5 with padding p=0 is smaller than the dilated kernel " \
           "d(k-1)+1=7: use an input of at least 7 or pad by at least 1" in ch4.text


def test_alexnet_traces(ch4):
    g = ch4.glue
    assert g["ch4_alexnet227_sizes"] == [227, 55, 27, 27, 13, 13, 13, 13, 6]
    assert g["ch4_alexnet227_trace"] == "227 → 55 → 27 → 27 → 13 → 13 → 13 → 13 → 6"
    # torchvision's padding 2 on conv1 makes 224 work; the last entry is the adaptive pool (identity).
    assert g["ch4_tv224_sizes"] == [224, 55, 27, 27, 13, 13, 13, 13, 6, 6]
    assert g["ch4_adaptive_identity"] == "exactly the identity"
    # The paper's layers at 224 end at 5 x 5, not 6 x 6.
    assert g["ch4_paper224_trace"] == "224 → 54 → 26 → 26 → 12 → 12 → 12 → 12 → 5"
    assert g["ch4_paper224_final"] == 5


def test_alexnet_receptive_field_and_size_window(ch4):
    g = ch4.glue
    assert (g["ch4_alexnet_rf"], g["ch4_alexnet_jump"], g["ch4_alexnet_P"]) == (195, 32, 64)
    assert (g["ch4_tv_rf"], g["ch4_tv_P"]) == (195, 66)
    assert (g["ch4_alexnet_nmin6"], g["ch4_alexnet_nmax6"]) == (227, 258)
    assert (g["ch4_tv_nmin6"], g["ch4_tv_nmax6"]) == (223, 254)


def test_net1_trace_and_receptive_field(ch4):
    g = ch4.glue
    assert g["ch4_net1_sizes"] == [32, 26, 24, 22, 20, 18]
    assert g["ch4_net1_trace"] == "32 → 26 → 24 → 22 → 20 → 18"
    assert g["ch4_net1_features_rf"] == 15
    assert g["ch4_net1_feature_side"] == 18
    assert g["ch4_net1_features_jump"] == 1 and g["ch4_net1_P"] == 0
    assert g["ch4_net1_classifier_adds"] == 17
    assert (g["ch4_net1_rf"], g["ch4_net1_jump"], g["ch4_net1_shrink"]) == (32, 1, 31)
    assert g["ch4_net1_sympy"] == "H - 31"
    assert g["ch4_net1_map_36x38"] == "5×7"
    assert g["ch4_net1_map_48x48"] == "17×17"


def test_figure_and_exercises(ch4):
    g = ch4.glue
    # centre pixel of the 15 x 15 field: 79 paths per axis to a corner's 1 (binomial-like counts)
    assert g["ch4_paths_centre_over_corner"] == pytest.approx(79.0 ** 2)
    assert (g["ch4_ex_rf_dilated"], g["ch4_ex_rf_plain"]) == (15, 7)
    assert ch4.text.count("PASSED:") == 2
    images = [o for c in ch4.notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 1


def _run_with_solution(tmp_path, function_name, wrong_body):
    """Execute the chapter with one exercise's solution replaced; return the error text."""
    notebook = jupytext.read(CHAPTERS / f"{STEM}.md")
    replace_solution(notebook.cells, function_name, wrong_body)
    return execution_error(notebook, tmp_path / "run")


def test_rf_check_names_the_order_mistake(tmp_path):
    # A plausible slip: walk the layers bottom-up with the top-down recurrence.
    wrong = ("    m = 1\n"
             "    for k, s, d in stack:\n"
             "        m = s * (m - 1) + d * (k - 1) + 1\n"
             "    return m")
    message = _run_with_solution(tmp_path, "rf_top_down", wrong)
    assert "CheckFailed" in message
    assert "AlexNet (paper): got r = 123, expected 195" in message
    assert "walks the layers from the input up" in message


def test_rf_check_names_the_dilation_mistake(tmp_path):
    wrong = ("    m = 1\n"
             "    for k, s, d in reversed(stack):\n"
             "        m = s * (m - 1) + k\n"
             "    return m")
    message = _run_with_solution(tmp_path, "rf_top_down", wrong)
    assert "dilated: got r = " in message and "ignores the dilation" in message


def test_sizes_check_names_the_at_least_mistake(tmp_path):
    wrong = ("    found = []\n"
             "    for n in candidates:\n"
             "        try:\n"
             "            final = trace(layers, n)[-1][1]\n"
             "        except ValueError:\n"
             "            continue\n"
             "        if final >= m:\n"
             "            found.append(n)\n"
             "    return sorted(found)")
    message = _run_with_solution(tmp_path, "sizes_giving", wrong)
    assert "exactly m" in message and "at least m" in message


def test_twin_is_in_sync():
    twin = nbformat.read(CHAPTERS / f"{STEM}.ipynb", as_version=4)
    source = jupytext.read(CHAPTERS / f"{STEM}.md")
    assert [c.source for c in twin.cells] == [c.source for c in source.cells]
