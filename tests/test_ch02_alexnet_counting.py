"""Chapter 2: counting AlexNet's parameters, multiplications and additions."""

import functools
import re
import sys

import pytest
from conftest import ROOT, run_cells
from torch import nn

sys.path.insert(0, str(ROOT))
from dlbook import CheckFailed  # noqa: E402

STEM = "02_alexnet_counting"
FORWARD, CONV1 = 2 * 714_188_480, 2 * 64 * 55**2 * 363  # FLOPs: the net's, conv1's


EXACT = {  # related values on one line
    "ch2_conv_params": 2_469_696, "ch2_linear_params": 58_631_144, "ch2_total_params": 61_100_840,
    "ch2_other_params": 0,
    "ch2_conv_weights": 2_468_544, "ch2_conv_biases": 1_152,
    "ch2_linear_weights": 58_621_952, "ch2_linear_biases": 9_192,
    "ch2_fc6_params": 9216 * 4096 + 4096,
    "ch2_tv_params": 61_100_840, "ch2_tv_params_relation": "equal to",
    "ch2_n_layer_diffs": 1,  # only the first convolution's padding
    "ch2_n_dropout": 2,
    "ch2_conv1_out": 55, "ch2_pool5_out": 6, "ch2_tv_conv1_out": 55,
    "ch2_conv_mults": 655_566_528, "ch2_linear_mults": 58_621_952, "ch2_total_mults": 714_188_480,
    "ch2_vgg_conv2_mults": 128 * 112 * 112 * 64 * 9,
    # with bias: k - 1 additions per k-term dot product, plus one for the bias: as many as mults
    "ch2_conv_adds": 655_566_528, "ch2_linear_adds": 58_621_952, "ch2_total_adds": 714_188_480,
    # without bias: one fewer per output
    "ch2_conv_outputs": 64 * 55 * 55 + 192 * 27 * 27 + (384 + 256 + 256) * 13 * 13,  # 484,992
    "ch2_linear_outputs": 4096 + 4096 + 1000,
    "ch2_conv_adds_nobias": 655_566_528 - 484_992, "ch2_linear_adds_nobias": 58_621_952 - 9_192,
    "ch2_total_adds_nobias": 713_694_296, "ch2_other_ops": 0,
    # FlopCounterMode's FLOPs are twice the mults, on three models
    "ch2_fc_alexnet_flops": 2 * (655_566_528 + 58_621_952),
    "ch2_tv224_conv_mults": 655_566_528, "ch2_tv224_linear_mults": 58_621_952,
    "ch2_tv224_flops": 2 * (655_566_528 + 58_621_952), "ch2_tv_cost_relation": "the same as",
    "ch2_vgg11_conv_mults": 7_485_456_384, "ch2_vgg11_linear_mults": 123_633_664,
    "ch2_vgg11_flops": 2 * (7_485_456_384 + 123_633_664),
    "ch2_batch_small": 1, "ch2_batch_large": 64,
    "ch2_linear_reuse": 1.0, "ch2_linear_reuse_large": 64.0,  # one use per weight per image
    "ch2_conv1_reuse": 55 * 55,
    "ch2_widths": "64–192–384–256–256",  # torchvision's
    "ch2_weird_widths": "64–192–384–384–256",  # "One weird trick", footnote p. 5
    "ch2_orig_widths": "96–256–384–384–256",  # Krizhevsky et al. 2012
    "ch2_tv_conv1_padding": 2, "ch2_bytes_per_weight": 4,
    "ch2_orig_wider_layers": "conv1, conv2 and conv4", "ch2_conv1_out_224_unpadded": 54,
    "ch2_orig_total_params": 60_965_224, "ch2_orig_conv_params": 2_334_080,
    # conv1..conv5 at 227, C_out H_out^2 (C_in k^2): 96 55^2 363 + 256 27^2 1200
    # + 384 13^2 2304 + 384 13^2 1728 + 256 13^2 1728
    "ch2_orig_conv_mults": 665_784_864,
    "ch2_hybrid_total_params": 60_209_960,
    "ch2_bwd_flops": 2 * FORWARD - CONV1,  # 2,716,200,320
    "ch2_bwd_fwd_ratio_grad_input": 2.0,
    "ch2_vgg_conv2_params": 128 * 64 * 9 + 128, "ch2_conv_mults_224": 583_299_840,
    # groups=2 on conv2, conv4, conv5 halves their weights and multiplications
    "ch2_grouped_conv_params": 2_469_696 - (307_200 + 884_736 + 589_824) // 2,
    "ch2_grouped_conv_mults": 655_566_528 - (223_948_800 + 149_520_384 + 99_680_256) // 2,
    "ch2_grouped_total_params": 61_100_840 - (307_200 + 884_736 + 589_824) // 2,
    "ch2_grouped_saved_params": 890_880,
}  # fmt: skip
PERCENT = {  # rounded to two decimals
    "ch2_conv_param_share": 4.04, "ch2_linear_param_share": 95.96,
    "ch2_linear_mult_share": 8.21, "ch2_conv_mult_share": 91.79,
}  # fmt: skip
APPROX = {
    "ch2_conv_reuse": 655_566_528 / 2_468_544,
    "ch2_orig_linear_param_share": 58_631_144 / 60_965_224,
    "ch2_orig_linear_mult_share": 58_621_952 / (665_784_864 + 58_621_952),
    "ch2_bwd_fwd_ratio": 2 - CONV1 / FORWARD,
    "ch2_conv1_flop_share": CONV1 / FORWARD,
    "ch2_step_fwd_ratio": 3 - CONV1 / FORWARD,
    "ch2_grouped_param_ratio": 60_209_960 / 61_100_840,
    "ch2_linear_weight_mb": 58_621_952 * 4 / 1e6,
}


def test_counts(chapter):
    g = chapter.glue
    assert {name: g[name] for name in EXACT} == EXACT
    assert {name: round(100 * g[name], 2) for name in PERCENT} == PERCENT
    assert {name: g[name] for name in APPROX} == pytest.approx(APPROX)
    shares = g["ch2_conv_param_share"] + g["ch2_linear_param_share"]
    assert shares == pytest.approx(1.0, abs=1e-12)


def test_activation_memory(chapter):
    g = chapter.glue
    conv_out = 64 * 55**2 + 192 * 27**2 + 384 * 13**2 + 2 * 256 * 13**2  # 484,992
    pool_out = 64 * 27**2 + 192 * 13**2 + 256 * 6**2  # 88,320
    # + avgpool and the linear outputs; the in-place ReLU outputs take no new memory
    distinct = conv_out + pool_out + 256 * 6**2 + (4096 + 4096 + 1000)
    relu_out = conv_out + 4096 + 4096
    assert g["ch2_act_elems"] == distinct == 591_720
    assert g["ch2_act_every_output"] == distinct + relu_out == 1_084_904
    assert g["ch2_act_mb"] == pytest.approx(4 * 591_720 / 1e6)
    saved = ("ch2_input_elems", "ch2_logits_elems", "ch2_pool_index_elems")
    assert [g[name] for name in saved] == [3 * 227**2, 1000, pool_out]
    floats = 591_720 - 1000 + 3 * 227**2  # the outputs but the logits, and the input
    assert g["ch2_saved_float_mb"] == pytest.approx(4 * floats / 1e6)
    assert g["ch2_saved_index_mb"] == pytest.approx(8 * pool_out / 1e6)
    assert g["ch2_saved_mb"] == pytest.approx(3.687788)
    # "keeps X MB of those activations": a part of what the forward creates, the rest not
    assert g["ch2_saved_act_mb"] < g["ch2_act_mb"] < g["ch2_saved_mb"]
    kept = ("ch2_saved_act_mb", "ch2_input_mb", "ch2_saved_index_mb")
    assert sum(g[name] for name in kept) == pytest.approx(g["ch2_saved_mb"])
    assert g["ch2_weights_mb"] == pytest.approx(4 * 61_100_840 / 1e6)
    assert g["ch2_batch_pair"] == 2
    assert g["ch2_act_crossover_batch"] == -(-4 * 61_100_840 // 3_687_788) == 67


def test_timing_glued_and_words_follow_numbers(chapter):
    g = chapter.glue
    assert g["ch2_runs_b1"] >= 5 and g["ch2_runs_b64"] >= 3
    for b in (1, 64):
        conv, lin, pool = (
            g[f"ch2_measured_{kind}_time_share_b{b}"]
            for kind in ("conv", "linear", "pool")
        )
        assert 0 < conv < 1 and 0 < lin < 1 and 0 < pool < 1 and conv + lin + pool <= 1
        assert g[f"ch2_measured_time_ms_b{b}"] > 0
        ratio = lin / g["ch2_linear_mult_share"]
        assert g[f"ch2_measured_linear_time_ratio_b{b}"] == pytest.approx(ratio)
    t = {k.removeprefix("ch2_measured_linear_"): v for k, v in g.items()}
    share, gmacs = t["time_share_b1"], t["gmacs_b1"]
    for name, more, less, a, b in (  # the word for a > b, and for a <= b
        ("b1_vs_conv", "slower", "faster", g["ch2_measured_conv_gmacs_b1"], gmacs),
        ("b1_vs_b64", "higher", "lower", share, t["time_share_b64"]),
        ("b1_vs_arith", "larger", "smaller", share, g["ch2_linear_mult_share"]),
        ("b64_vs_b1_rate", "faster", "slower", t["gmacs_b64"], gmacs),
    ):
        assert t[name] == (more if a > b else less), name
    ratio = g["ch2_measured_linear_ms_b1"] / g["ch2_measured_weight_read_ms"]
    assert g["ch2_measured_linear_vs_read"] == pytest.approx(ratio)


# --- Mistakes in the chapter's own tools and predictions: each check must name them. -----------
# The answers' mistakes are variant data (grading/02_alexnet_counting/variants). These are the
# chapter's claims: the chapter's cells run once in this process (the timing cells left out), then
# each check cell (taken by its `derivation` metadata) runs again with one wrong definition.


def original_conv3_grouped(namespace):
    class Conv3Grouped(namespace["OriginalAlexNet"]):
        def __init__(self):
            super().__init__()
            self.features[6] = nn.Conv2d(256, 384, kernel_size=3, padding=1, groups=2)

    return Conv3Grouped


def linear_ignores_the_batch(namespace):
    rules = dict(namespace["OP_RULES"])
    rules[nn.Linear] = lambda m, i, o: (
        m.in_features * m.out_features,
        m.out_features * (m.in_features - 1 + (m.bias is not None)),
    )
    return rules


def counting_in_place_outputs(namespace):
    return lambda records: sum(o.numel() for _, o, _ in records)


WRONG_TOOLS = {  # name: (the claim, {name: its wrong value} or an (old, new) edit, the failure)
    # a linear layer "costs in * out" whatever the batch (right at batch 1)
    "linear counter ignores the batch": ("reuse", {"OP_RULES": linear_ignores_the_batch},
        "classifier.0 at batch 64: count_ops gives 1 multiplications per weight, FlopCounterMode 64"),
    # activation memory counting the in-place ReLU outputs as new memory
    "in-place outputs counted": ("activation-memory",
        {"activation_elements": counting_in_place_outputs}, "count an in-place output (ReLU) once"),
    # "the backward pass costs exactly twice the forward", even when the input needs none
    "backward exactly 2x": ("backward", {"predicted_backward": lambda ns: lambda fwd, conv1: 2 * fwd},
        "the first layer's input gradient is computed only when"),
    # the original with conv3 grouped too
    "original conv3 grouped": ("original-alexnet", {"OriginalAlexNet": original_conv3_grouped},
        "check the original's widths and groups"),
    # a classifier for 10 classes: the old check compared the original's linear layers with
    # AlexNet's, which they inherit, so a class count wrong in both passed it
    "original for 10 classes": ("original-alexnet", {"OriginalAlexNet": lambda ns:
        functools.partial(ns["OriginalAlexNet"], 10)}, "(54575114, 54566912) linear ones"),
    # the lemma with K = C_in k_h k_w whatever the groups, or without the bias's addition;
    # the old sympy cell only rearranged the lemma's definitions, and passed both
    "lemma ignores groups": ("cost-lemma", ("c_in // g *", "c_in *"), "groups=2"),
    "lemma drops the bias's addition": ("cost-lemma", ("(K - 1 + bias)", "(K - 1)"),
        "(24, 6, 4320, 4320) in PyTorch, (24, 6, 4320, 3240) by the lemma"),
}  # fmt: skip


@pytest.fixture(scope="module")
def checked_chapter():
    """The cells up to the last claim's check cell: every check passes with the right definitions."""
    return run_cells(STEM, "original-alexnet", upto=True)


@pytest.mark.parametrize("mistake", list(WRONG_TOOLS))
def test_a_mistake_in_the_chapters_tools_is_caught(checked_chapter, mistake):
    claim, wrong, expected = WRONG_TOOLS[mistake]
    how = {"edit": wrong} if isinstance(wrong, tuple) else {"wrong": wrong}
    with pytest.raises(CheckFailed, match=re.escape(expected)):
        run_cells(STEM, claim, **how, namespace=checked_chapter)


def test_the_by_hand_exercise_is_not_answered_above_it(chapter):
    """Its example, VGG-11's conv2, is printed nowhere before the exercise; AlexNet's conv2, the
    example it had, is a row of the parameter table."""
    cells = chapter.notebook.cells
    answers = [c.metadata.get("answer") for c in cells]
    above = cells[: answers.index("q2_ex_conv_counts")]
    printed = "".join(o.get("text", "") for c in above for o in c.get("outputs", []))
    assert f"{307_392:,}" in printed
    for name in ("ch2_vgg_conv2_params", "ch2_vgg_conv2_mults"):
        assert f"{chapter.glue[name]:,}" not in printed
