"""Chapter 4: theoretical and effective receptive fields. Runs the twin once and asserts its glued values;
injects plausible wrong answers and checks that the page's checks stop with a message naming the mistake."""

import math
import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest
import sympy
from conftest import execution_error, replace_solution

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"

STEM = "04_receptive_field"
BUDGET_SECONDS = 90


@pytest.fixture(scope="module")
def ch4(run_chapter):
    return run_chapter(STEM)


def test_runs_within_budget(ch4):
    assert ch4.seconds < BUDGET_SECONDS, (
        f"chapter 4 took {ch4.seconds:.1f} s (budget {BUDGET_SECONDS} s)"
    )


def test_out_size_refuses_too_small_input_with_a_fix(ch4):
    assert (
        "ValueError: input of size n=5 with padding p=0 is smaller than the dilated kernel "
        "d(k-1)+1=7: use an input of at least 7 or pad by at least 1" in ch4.text
    )


def test_receptive_field_checked_against_autograd_on_every_unit(ch4):
    g = ch4.glue
    assert g["ch4_rf_units_checked"] > 1000
    assert 200 < g["ch4_rf_border_units"] < g["ch4_rf_units_checked"]


def test_small_net_field_centre_between_pixels_and_border_overhang(ch4):
    g = ch4.glue
    assert (g["ch4_small_r"], g["ch4_small_jump"], g["ch4_small_P"]) == (24, 4, 10)
    assert (g["ch4_small_map_side"], g["ch4_small_centre_unit"]) == (8, 4)
    assert (g["ch4_small_first"], g["ch4_small_last"]) == (6, 29)
    assert g["ch4_small_centre"] == 17.5  # r even: halfway between pixels 17 and 18
    assert (
        g["ch4_small_corner_first"],
        g["ch4_small_corner_last"],
        g["ch4_small_overhang"],
    ) == (-10, 13, 10)


def test_stack_theorem_brute_forced_and_old_sentence_refuted(ch4):
    g = ch4.glue
    assert g["ch4_stack_stacks_checked"] == 251
    assert g["ch4_stack_sizes_checked"] > 3000
    assert g["ch4_stack_pairs_checked"] > 2000
    # the unconditional "exactly J inputs per output size" fails, in many stacks
    assert 0 < g["ch4_old_sentence_failures"] < g["ch4_stack_pairs_checked"]
    assert g["ch4_old_sentence_stacks"] > 10
    # the counterexample of issue 11: J = 3, the formula's block for size 1 is 3..5, only 5 is accepted
    assert (g["ch4_cx_r"], g["ch4_cx_jump"], g["ch4_cx_P"]) == (11, 3, 4)
    assert (g["ch4_cx_block_first"], g["ch4_cx_block_last"]) == (3, 5)
    assert g["ch4_cx_nmin"] == g["ch4_cx_only_input"] == 5


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
    # centre pixel of the 15 x 15 field: 79 paths per axis to a corner's 1 (binomial-like counts)
    assert g["ch4_paths_centre_over_corner"] == pytest.approx(79.0**2)


def test_training_is_real(ch4):
    g = ch4.glue
    assert (g["ch4_n_train"], g["ch4_epochs"], g["ch4_n_test"], g["ch4_n_erf"]) == (
        3000,
        2,
        1000,
        256,
    )
    assert g["ch4_test_accuracy"] > 3 * g["ch4_chance"]
    assert (
        "trained in this run" in g["ch4_measured_weights_source"]
    )  # a fresh folder has no cache
    assert (
        "using the offline JPEG mirror" in ch4.text
        or "official torchvision download" in ch4.text
    )


def test_effective_receptive_field(ch4):
    g = ch4.glue
    r2 = g["ch4_small_r"] ** 2
    assert g["ch4_erf_outside"] == 0.0
    for name in ("init", "trained"):
        side50, side90 = g[f"ch4_erf_{name}_side50"], g[f"ch4_erf_{name}_side90"]
        assert (
            0 < side50 < side90 < g["ch4_small_r"] and side50 % 2 == side90 % 2 == 0
        )  # centre between pixels
        assert (
            g[f"ch4_erf_{name}_area50"] == side50**2 / r2 < 0.5
        )  # concentrated: half the mass, < half the area
        assert g[f"ch4_erf_{name}_area90"] == side90**2 / r2 < 0.9
        assert 3 < g[f"ch4_erf_{name}_rms"] < g["ch4_small_r"] / 2
        assert 1 < g[f"ch4_erf_{name}_sigma"] < g["ch4_small_r"]
        assert g[f"ch4_erf_{name}_gauss_err"] < g[f"ch4_erf_{name}_flat_err"]
    rms_init, rms_trained = g["ch4_erf_init_rms"], g["ch4_erf_trained_rms"]
    expected = (
        "the same as"
        if rms_trained == rms_init
        else "about the same as"
        if abs(rms_trained - rms_init) <= 0.02 * rms_init
        else "larger than"
        if rms_trained > rms_init
        else "smaller than"
    )
    assert g["ch4_erf_rms_word"] == expected
    assert g["ch4_erf_shape_word"] == "closer to"
    assert g["ch4_erf_gauss_exact_word"] in (
        "and the Gaussian fits it to within 1%",
        "but no Gaussian fits it to within 1%",
    )
    assert g["ch4_erf_side90_word"] in ("the same as", "larger than", "smaller than")
    images = [
        o
        for c in ch4.notebook.cells
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert len(images) == 2


def test_exercises(ch4):
    g = ch4.glue
    assert (g["ch4_unseen_paper224"], g["ch4_unseen_paper224_first"]) == (5, 219)
    assert g["ch4_unseen_paper227"] == g["ch4_unseen_tv224"] == 0
    for depth in (4, 16, 64):  # 3x3 stride 1: variance 8/12 per layer, r = 2 depth + 1
        assert g[f"ch4_spread_depth{depth}_ratio"] == pytest.approx(
            math.sqrt(depth * 8 / 12) / (2 * depth + 1)
        )
    assert ch4.text.count("PASSED:") == 4


def _notebook():
    return jupytext.read(CHAPTERS / f"{STEM}.md")


def _run(notebook, tmp_path, ch4):
    """Execute the edited chapter in tmp_path/run, with the trained weights of the main run copied in."""
    workdir = tmp_path / "run"
    shutil.copytree(
        ch4.workdir / "data", workdir / "data", ignore=shutil.ignore_patterns("cifar*")
    )
    return execution_error(notebook, workdir)


def test_old_stack_sentence_fails_the_brute_force(tmp_path, ch4):
    # The earlier page: "exactly J consecutive input sizes give each output size", without its condition.
    notebook = _with(
        [("    return [n for n in block if n >= n_min]", "    return list(block)")]
    )
    message = execution_error(notebook, tmp_path / "run")
    assert "AssertionError" in message
    assert (
        "output size 1 of [Geometry(k=4, s=1, p=1, d=2), Geometry(k=3, s=3, p=3, d=2)]: the theorem "
        "predicts inputs [3, 4, 5], but tracing the stack gives [5]"
    ) in message


def _with(replacements):
    notebook = _notebook()
    for old, new in replacements:
        cells = [c for c in notebook.cells if old in c.source]
        assert len(cells) == 1, old
        cells[0].source = cells[0].source.replace(old, new)
    return notebook


def test_interval_without_effective_padding_fails_the_autograd_check(tmp_path):
    # A plausible slip in the field's interval: forgetting the effective padding P.
    notebook = _with(
        [
            (
                "        return u * self.J - self.P, u * self.J - self.P + self.r - 1",
                "        return u * self.J, u * self.J + self.r - 1",
            )
        ]
    )
    message = execution_error(notebook, tmp_path / "run")
    assert "AssertionError" in message and "autograd measures pixels" in message
    assert "theorem's interval" in message


def test_centre_without_effective_padding_fails_the_2d_check(tmp_path):
    # The interval right but the centre formula without -P: the 2-D check on the real net catches it.
    notebook = _with(
        [
            (
                "        return u * self.J + (self.r - 1) / 2 - self.P",
                "        return u * self.J + (self.r - 1) / 2",
            )
        ]
    )
    message = execution_error(notebook, tmp_path / "run")
    assert "the theorem centres unit 4 at 27.5, autograd's square at 17.5" in message


def test_unseen_check_names_the_interval_shortcut(tmp_path, ch4):
    # The tempting answer: the pixels beyond the last unit's field interval.
    wrong = (
        "    field = receptive_field(stack)\n"
        "    last_unit = trace(stack, n)[-1][1] - 1\n"
        "    return list(range(min(field.interval(last_unit)[1] + 1, n), n))"
    )
    notebook = _notebook()
    replace_solution(notebook.cells, "unseen_pixels", wrong)
    message = _run(notebook, tmp_path, ch4)
    assert "CheckFailed" in message
    assert (
        "AlexNet (paper) at 224: got 0 unseen pixels" in message
        and "expected 5" in message
    )
    assert (
        "beyond the last unit's field interval" in message
        and "padding units" in message
    )


def test_unseen_check_names_the_padding_slip(tmp_path, ch4):
    # Forgetting to drop the padding positions: they count as seen pixels of a neighbour.
    wrong = (
        "    sizes = [n]\n"
        "    for g in stack:\n"
        "        sizes.append(out_size(sizes[-1], g.k, g.s, g.p, g.d))\n"
        "    seen = set(range(sizes[-1]))\n"
        "    for g in reversed(stack):\n"
        "        seen = {u * g.s - g.p + t * g.d for u in seen for t in range(g.k)}\n"
        "    return sorted(set(range(n)) - seen)"
    )
    notebook = _notebook()
    replace_solution(notebook.cells, "unseen_pixels", wrong)
    message = _run(notebook, tmp_path, ch4)
    assert "CheckFailed" in message and "but no path from them reaches" in message
    assert "drop" not in message and "< 0" not in message  # a symptom, not the fix


def test_spread_check_names_the_continuous_variance(tmp_path, ch4):
    wrong = (
        "    variance, jump = 0.0, 1\n"
        "    for g in stack:\n"
        "        variance += (jump * g.d) ** 2 * g.k ** 2 / 12\n"
        "        jump *= g.s\n"
        "    return variance ** 0.5"
    )
    notebook = _notebook()
    replace_solution(notebook.cells, "path_spread", wrong)
    message = _run(notebook, tmp_path, ch4)
    assert "CheckFailed" in message and "Net1 features: got" in message
    # the first layer alone is wrong; the message names it, not the formula
    assert "it already goes wrong on the first 1 layer(s)" in message
    assert "k^2" not in message and "12" not in message


def test_spread_check_names_the_missing_jump(tmp_path, ch4):
    wrong = (
        "    variance = 0.0\n"
        "    for g in stack:\n"
        "        variance += g.d ** 2 * (g.k ** 2 - 1) / 12\n"
        "    return variance ** 0.5"
    )
    notebook = _notebook()
    replace_solution(notebook.cells, "path_spread", wrong)
    message = _run(notebook, tmp_path, ch4)
    assert (
        "CheckFailed" in message
        and "SmallConvNet: got" in message
        and "the spread of the same stack with every stride 1" in message
    )


def test_twin_is_in_sync():
    twin = nbformat.read(CHAPTERS / f"{STEM}.ipynb", as_version=4)
    source = jupytext.read(CHAPTERS / f"{STEM}.md")
    assert [c.source for c in twin.cells] == [c.source for c in source.cells]


@pytest.mark.parametrize(
    "old,new",
    [
        (
            "(k_[l] - 1) * sp.prod(s_[:l])",
            "(k_[l] - 1) * sp.prod(s_[: l + 1])",
        ),
        (
            "return sum(p_[l] * sp.prod(s_[:l])",
            "return sum(p_[l] * sp.prod(s_[: l + 1])",
        ),
    ],
    ids=["r-with-the-jump-after", "P-with-the-jump-after"],
)
def test_the_sympy_check_of_the_sums_fails_on_a_wrong_sum(old, new):
    # The theorem's sums with J_l where J_(l-1) belongs: the recurrences no longer hold.
    cells = jupytext.read(CHAPTERS / f"{STEM}.md").cells
    cell = next(c.source for c in cells if c.source.startswith("L_SYM = 4"))
    exec(compile(cell, "sympy-sums", "exec"), {"sp": sympy})
    assert cell.count(old) == 1
    with pytest.raises(AssertionError):
        exec(compile(cell.replace(old, new), "sympy-sums", "exec"), {"sp": sympy})
