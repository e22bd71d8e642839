"""Chapter 4: theoretical and effective receptive fields: the book build's glued values, and the
checks of the derivations (cells marked `derivation`) stopping a plausible mistake, in-process. The wrong answers to the graded questions are variants: grading/04_receptive_field/variants/."""

import math

import pytest
import torch
from conftest import run_cells

STEM = "04_receptive_field"


def test_out_size_refuses_too_small_input_with_a_fix(chapter):
    assert (
        "ValueError: input of size n=5 with padding p=0 is smaller than the dilated kernel "
        "d(k-1)+1=7: use an input of at least 7 or pad by at least 1" in chapter.text
    )


def test_receptive_field_checked_against_autograd_on_every_unit(chapter):
    g = chapter.glue
    assert g["ch4_rf_units_checked"] > 1000
    assert 200 < g["ch4_rf_border_units"] < g["ch4_rf_units_checked"]


EXACT = {  # related values on one line
    # the small net: its field's centre between pixels, and its overhang at the border
    "ch4_small_r": 24, "ch4_small_jump": 4, "ch4_small_P": 10,
    "ch4_small_map_side": 8, "ch4_small_centre_unit": 4,
    "ch4_small_first": 6, "ch4_small_last": 29,
    "ch4_small_centre": 17.5,  # r even: halfway between pixels 17 and 18
    "ch4_small_corner_first": -10, "ch4_small_corner_last": 13, "ch4_small_overhang": 10,
    "ch4_stack_stacks_checked": 251,
    # the counterexample of issue 11: J = 3, the formula's block for size 1 is 3..5, only 5 is accepted
    "ch4_cx_r": 11, "ch4_cx_jump": 3, "ch4_cx_P": 4,
    "ch4_cx_block_first": 3, "ch4_cx_block_last": 5, "ch4_cx_nmin": 5, "ch4_cx_only_input": 5,
    # Net1's trace and receptive field
    "ch4_net1_sizes": [32, 26, 24, 22, 20, 18], "ch4_net1_trace": "32 → 26 → 24 → 22 → 20 → 18",
    "ch4_net1_features_rf": 15, "ch4_net1_feature_side": 18,
    "ch4_net1_features_jump": 1, "ch4_net1_P": 0, "ch4_net1_classifier_adds": 17,
    "ch4_net1_rf": 32, "ch4_net1_jump": 1, "ch4_net1_shrink": 31, "ch4_net1_sympy": "H - 31",
    "ch4_net1_map_36x38": "5×7", "ch4_net1_map_48x48": "17×17",
    "ch4_n_train": 3000, "ch4_epochs": 2, "ch4_n_test": 1000, "ch4_n_erf": 256,
    # exercises: inputs no output sees
    "ch4_unseen_paper224": 5, "ch4_unseen_paper224_first": 219,
    "ch4_unseen_paper227": 0, "ch4_unseen_tv224": 0,
}  # fmt: skip


def test_exact_values(chapter):
    assert {name: chapter.glue[name] for name in EXACT} == EXACT
    # centre pixel of the 15 x 15 field: 79 paths per axis to a corner's 1 (binomial-like counts)
    assert chapter.glue["ch4_paths_centre_over_corner"] == pytest.approx(79.0**2)


def test_stack_theorem_brute_forced_and_old_sentence_refuted(chapter):
    g = chapter.glue
    assert g["ch4_stack_sizes_checked"] > 3000
    assert g["ch4_stack_pairs_checked"] > 2000
    # the unconditional "exactly J inputs per output size" fails, in many stacks
    assert 0 < g["ch4_old_sentence_failures"] < g["ch4_stack_pairs_checked"]
    assert g["ch4_old_sentence_stacks"] > 10


def test_training_is_real(chapter):
    g = chapter.glue
    assert g["ch4_test_accuracy"] > 3 * g["ch4_chance"]
    # a fresh folder has no cache
    assert "trained in this run" in g["ch4_measured_weights_source"]
    sources = ("using the offline JPEG mirror", "official torchvision download")
    assert any(source in chapter.text for source in sources)


def test_effective_receptive_field(chapter):
    g = chapter.glue
    r2 = g["ch4_small_r"] ** 2
    for name in ("init", "trained"):
        side50, side90 = g[f"ch4_erf_{name}_side50"], g[f"ch4_erf_{name}_side90"]
        # centre between pixels
        assert 0 < side50 < side90 < g["ch4_small_r"] and side50 % 2 == side90 % 2 == 0
        # concentrated: half the mass on less than half the area
        assert g[f"ch4_erf_{name}_area50"] == side50**2 / r2 < 0.5
        assert g[f"ch4_erf_{name}_area90"] == side90**2 / r2 < 0.9
        assert 3 < g[f"ch4_erf_{name}_rms"] < g["ch4_small_r"] / 2
        assert 1 < g[f"ch4_erf_{name}_sigma"] < g["ch4_small_r"]
        assert g[f"ch4_erf_{name}_gauss_err"] < g[f"ch4_erf_{name}_flat_err"]
    rms_init, rms_trained = g["ch4_erf_init_rms"], g["ch4_erf_trained_rms"]
    if rms_trained == rms_init:
        word = "the same as"
    elif abs(rms_trained - rms_init) <= 0.02 * rms_init:
        word = "about the same as"
    else:
        word = "larger than" if rms_trained > rms_init else "smaller than"
    assert g["ch4_erf_rms_word"] == word
    assert g["ch4_erf_shape_word"] == "closer to"
    assert g["ch4_erf_gauss_exact_word"] in (
        "and the Gaussian fits it to within 1%",
        "but no Gaussian fits it to within 1%",
    )
    assert g["ch4_erf_side90_word"] in ("the same as", "larger than", "smaller than")
    assert chapter.images == 2


def test_exercise_spread_over_depth(chapter):
    for depth in (4, 16, 64):  # 3x3 stride 1: variance 8/12 per layer, r = 2 depth + 1
        expected = math.sqrt(depth * 8 / 12) / (2 * depth + 1)
        assert chapter.glue[f"ch4_spread_depth{depth}_ratio"] == pytest.approx(expected)


# --- Mistakes in the derivations' checks, caught in-process: the chapter's cells up to a check cell
# (taken by its `derivation` metadata), then that cell with one definition or piece of source wrong.


def field_without_p(method):
    """Field's `method` forgetting the effective padding P (a subclass in the chapter's Field's place)."""
    wrong = {
        "interval": lambda self, u: (u * self.J, u * self.J + self.r - 1),
        "centre": lambda self, u: u * self.J + (self.r - 1) / 2,
    }[method]
    return {
        "wrong": {"Field": lambda ns: type("Field", (ns["Field"],), {method: wrong})}
    }


MISTAKES = {  # name: (the derivation, its change (run_cells' arguments), phrases of the failure)
    # the earlier page: "exactly J consecutive input sizes give each output size", unconditionally
    "old stack sentence": (
        "ch4-thm-stack", {"wrong": {"inputs_by_theorem": lambda ns: ns["inputs_old_sentence"]}},
        "output size 1 of [Geometry(k=4, s=1, p=1, d=2), Geometry(k=3, s=3, p=3, d=2)]: the "
        "theorem predicts inputs [3, 4, 5], but tracing the stack gives [5]"),
    # the field's interval without the effective padding P
    "interval without P": ("rf-autograd-1d", field_without_p("interval"), "autograd", "theorem (0, "),
    # the interval right, the centre without -P: the 2-D check on the real net catches it
    "centre without P": ("rf-autograd-2d", field_without_p("centre"),
                         "the theorem centres unit 4 at 27.5, autograd's square at 17.5"),
    # the theorem's sums with J_l where J_(l-1) belongs: the recurrences no longer hold
    "r with the jump after": (
        "rf-sums", {"edit": ("(k_[l] - 1) * before[l]", "(k_[l] - 1) * before[l] * s_[l]")}),
    "P with the jump after": ("rf-sums", {"edit": ("p_[l] * before[l]", "p_[l] * before[l] * s_[l]")}),
    # the slip d*k - 1 for a dilated span, made alike in the sums and the proof's recurrence, passed
    # the check before issue 22 (a sum's increment is its last term); the walk down the taps does not
    "r with the span dk": ("rf-sums", {"edit": ("d_[l] * (k_[l] - 1) * before", "(d_[l] * k_[l] - 1) * before")}),
    # the field theorem's last sentence before issue 22 (every weight nonzero, channels regardless):
    # small integer weights on the three-channel stacks too, and an end cancels
    "ends, several channels": ("rf-autograd-1d", {"edit": ("if channels > 1:", "if False:")}, "theorem ("),
    # the nested floor lemma with the shift b outside the numerator's scale: a counterexample
    "floor lemma, b unscaled": (
        "ch4-lem-floor", {"edit": ("(x + a * b) // (a * c)", "(x + b) // (a * c)")}),
}  # fmt: skip


def test_issue_22_counterexample_is_outside_the_field_theorems_conditions():
    """All 12 weights nonzero, yet the middle unit's first pixel has derivative 0: two channels (each
    one alone attains both ends), and weights on the null set (one weight nudged attains it)."""
    ns = run_cells(STEM, "rf-autograd-1d", upto=True)
    stack, n, unit = [ns["Geometry"](3)] * 2, 9, 2
    w1 = torch.ones(2, 1, 3, dtype=torch.float64)
    w2 = torch.tensor([[[1.0, 2, 3], [-1, 5, 7]]], dtype=torch.float64)
    first, last = ns["receptive_field"](stack).interval(unit)
    derivative = ns["path_counts"](stack, n, [w1, w2])[:, unit]
    assert 0 <= first and last < n and derivative[first] == 0 != derivative[last]
    for c in (0, 1):
        alone = ns["path_counts"](stack, n, [w1[c : c + 1], w2[:, c : c + 1]])[:, unit]
        assert alone[first] != 0 != alone[last]
    w2[0, 1, 0] += 1e-3
    assert ns["path_counts"](stack, n, [w1, w2])[first, unit] != 0


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_a_derivations_check_catches_a_mistake(mistake):
    derivation, change, *phrases = MISTAKES[mistake]
    with pytest.raises(AssertionError) as failure:
        run_cells(STEM, derivation, upto=True, **change)
    for phrase in phrases:
        assert phrase in str(failure.value), str(failure.value)
