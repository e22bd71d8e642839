"""Chapter 2: counting AlexNet's parameters, multiplications and additions."""
from pathlib import Path

import nbformat
import pytest

from conftest import execution_error, replace_solution

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"
STEM = "02_alexnet_counting"
BUDGET_SECONDS = 60


@pytest.fixture(scope="module")
def ch(run_chapter):
    return run_chapter(STEM)


def test_runs_within_budget(ch):
    assert ch.seconds < BUDGET_SECONDS, f"chapter took {ch.seconds:.1f} s, budget {BUDGET_SECONDS} s"


def test_parameter_counts(ch):
    g = ch.glue
    assert g["ch2_conv_params"] == 2_469_696
    assert g["ch2_linear_params"] == 58_631_144
    assert g["ch2_total_params"] == 61_100_840
    assert g["ch2_other_params"] == 0
    # weights and biases apart
    assert (g["ch2_conv_weights"], g["ch2_conv_biases"]) == (2_468_544, 1_152)
    assert (g["ch2_linear_weights"], g["ch2_linear_biases"]) == (58_621_952, 9_192)
    assert g["ch2_fc6_params"] == 9216 * 4096 + 4096


def test_parameter_shares(ch):
    g = ch.glue
    assert round(100 * g["ch2_conv_param_share"], 2) == 4.04
    assert round(100 * g["ch2_linear_param_share"], 2) == 95.96
    assert g["ch2_conv_param_share"] + g["ch2_linear_param_share"] == pytest.approx(1.0, abs=1e-12)


def test_same_parameter_count_as_torchvision(ch):
    g = ch.glue
    assert g["ch2_tv_params"] == 61_100_840
    assert g["ch2_tv_params_relation"] == "equal to"
    assert g["ch2_n_layer_diffs"] == 1  # only the first convolution's padding
    assert g["ch2_n_dropout"] == 2


def test_output_sizes(ch):
    assert ch.glue["ch2_conv1_out"] == 55
    assert ch.glue["ch2_pool5_out"] == 6
    assert ch.glue["ch2_tv_conv1_out"] == 55


def test_multiplications(ch):
    g = ch.glue
    assert g["ch2_conv_mults"] == 655_566_528
    assert g["ch2_linear_mults"] == 58_621_952
    assert g["ch2_total_mults"] == 714_188_480
    assert round(100 * g["ch2_linear_mult_share"], 2) == 8.21
    assert g["ch2_conv2_mults"] == 192 * 27 * 27 * 64 * 25


def test_additions_with_and_without_bias(ch):
    g = ch.glue
    # with bias: k - 1 additions per k-term dot product, plus one for the bias -> equal to mults
    assert g["ch2_conv_adds"] == g["ch2_conv_mults"] == 655_566_528
    assert g["ch2_linear_adds"] == g["ch2_linear_mults"] == 58_621_952
    assert g["ch2_total_adds"] == 714_188_480
    # without bias: fewer by one per output
    assert g["ch2_conv_outputs"] == 64 * 55 * 55 + 192 * 27 * 27 + (384 + 256 + 256) * 13 * 13
    assert g["ch2_linear_outputs"] == 4096 + 4096 + 1000
    assert g["ch2_conv_adds_nobias"] == 655_566_528 - 484_992 == 655_081_536
    assert g["ch2_linear_adds_nobias"] == 58_621_952 - 9_192 == 58_612_760
    assert g["ch2_total_adds_nobias"] == 713_694_296
    assert g["ch2_other_ops"] == 0


def test_flop_counter_agrees_on_three_models(ch):
    g = ch.glue
    assert g["ch2_fc_alexnet_flops"] == 2 * (655_566_528 + 58_621_952) == 1_428_376_960
    assert g["ch2_tv224_flops"] == 2 * (g["ch2_tv224_conv_mults"] + g["ch2_tv224_linear_mults"])
    assert (g["ch2_tv224_conv_mults"], g["ch2_tv224_linear_mults"]) == (655_566_528, 58_621_952)
    assert g["ch2_tv_cost_relation"] == "the same as"
    assert g["ch2_vgg11_flops"] == 2 * (g["ch2_vgg11_conv_mults"] + g["ch2_vgg11_linear_mults"])
    assert (g["ch2_vgg11_conv_mults"], g["ch2_vgg11_linear_mults"]) == (7_485_456_384, 123_633_664)
    assert g["ch2_vgg11_flops"] == 15_218_180_096
    # the table printed by the chapter says every row agrees
    rows = [line for line in ch.text.splitlines()
            if line.startswith(("problem's AlexNet, 227", "torchvision AlexNet, 224", "torchvision VGG-11, 224"))]
    assert len(rows) == 3 and all(line.rstrip().endswith("True") for line in rows), rows


def test_unknown_layer_raises_with_its_name(ch):
    assert "count_ops has no rule for layer '1' (GELU)" in ch.text


def test_reuse(ch):
    assert ch.glue["ch2_linear_reuse"] == 1.0
    assert ch.glue["ch2_conv_reuse"] == pytest.approx(655_566_528 / 2_468_544)


def test_timing_glued_and_words_follow_numbers(ch):
    g = ch.glue
    assert g["ch2_runs_b1"] >= 5 and g["ch2_runs_b64"] >= 3
    for b in (1, 64):
        conv, lin = g[f"ch2_measured_conv_time_share_b{b}"], g[f"ch2_measured_linear_time_share_b{b}"]
        pool = g[f"ch2_measured_pool_time_share_b{b}"]
        assert 0 < conv < 1 and 0 < lin < 1 and 0 < pool < 1 and conv + lin + pool <= 1
        assert g[f"ch2_measured_time_ms_b{b}"] > 0
        assert g[f"ch2_measured_linear_time_ratio_b{b}"] == pytest.approx(lin / g["ch2_linear_mult_share"])
    assert g["ch2_measured_linear_b1_vs_conv"] == (
        "slower" if g["ch2_measured_linear_gmacs_b1"] < g["ch2_measured_conv_gmacs_b1"] else "faster")
    assert g["ch2_measured_linear_b1_vs_b64"] == (
        "higher" if g["ch2_measured_linear_time_share_b1"] > g["ch2_measured_linear_time_share_b64"] else "lower")
    assert g["ch2_measured_linear_b1_vs_arith"] == (
        "larger" if g["ch2_measured_linear_time_share_b1"] > g["ch2_linear_mult_share"] else "smaller")
    assert g["ch2_measured_linear_b64_vs_b1_rate"] == (
        "faster" if g["ch2_measured_linear_gmacs_b64"] > g["ch2_measured_linear_gmacs_b1"] else "slower")
    assert g["ch2_measured_linear_vs_read"] == pytest.approx(g["ch2_measured_linear_ms_b1"] / g["ch2_measured_weight_read_ms"])
    assert g["ch2_linear_weight_mb"] == pytest.approx(58_621_952 * 4 / 1e6)


def test_exercises_pass(ch):
    g = ch.glue
    assert "PASSED: conv_counts matches count_ops" in ch.text
    assert "PASSED: grouped AlexNet" in ch.text
    assert g["ch2_conv2_params"] == 307_392
    assert g["ch2_conv_mults_224"] == 583_299_840
    # groups=2 on conv2, conv4, conv5 halves their weights and multiplications
    assert g["ch2_grouped_conv_params"] == 2_469_696 - (307_200 + 884_736 + 589_824) // 2 == 1_578_816
    assert g["ch2_grouped_conv_mults"] == 655_566_528 - (223_948_800 + 149_520_384 + 99_680_256) // 2
    assert g["ch2_grouped_total_params"] == 61_100_840 - (307_200 + 884_736 + 589_824) // 2


# --- Injected mistakes: the self-checks must fail and name the problem. ---------------------------

def _without_timing(notebook):
    """Drop the (slow, irrelevant here) timing section: from its heading to the exercises."""
    keep, skipping = [], False
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and "\n## Does time follow" in "\n" + cell.source:
            skipping = True
        if cell.cell_type == "markdown" and "\n## Exercises" in "\n" + cell.source:
            skipping = False
        if not skipping:
            keep.append(cell)
    assert len(keep) < len(notebook.cells)
    notebook.cells = keep
    return notebook


NO_STRIDE = """    out = n + 2 * p - k + 1
    terms = (c_in // groups) * k * k
    outputs = c_out * out * out
    return {"out": out, "params": c_out * terms + (c_out if bias else 0),
            "mults": outputs * terms, "adds": outputs * (terms - 1) + (outputs if bias else 0)}"""

ALWAYS_BIAS_ADD = """    out = (n + 2 * p - k) // s + 1
    terms = (c_in // groups) * k * k
    outputs = c_out * out * out
    return {"out": out, "params": c_out * terms + (c_out if bias else 0),
            "mults": outputs * terms, "adds": outputs * terms}"""

CONV3_GROUPED_TOO = """    model = AlexNet()
    for index in (3, 6, 8, 10):
        old = model.features[index]
        model.features[index] = nn.Conv2d(old.in_channels, old.out_channels, old.kernel_size,
                                          stride=old.stride, padding=old.padding, groups=groups)
    return model"""


@pytest.mark.parametrize("function_name, body, expected", [
    ("conv_counts", NO_STRIDE, "divide by the stride"),
    ("conv_counts", ALWAYS_BIAS_ADD, "plus one for the bias only when there is a bias"),
    ("alexnet_grouped", CONV3_GROUPED_TOO, "conv3 (features.6) must stay dense"),
])
def test_injected_mistake_is_named(tmp_path, function_name, body, expected):
    notebook = nbformat.read(CHAPTERS / f"{STEM}.ipynb", as_version=4)
    replace_solution(notebook.cells, function_name, body)
    message = execution_error(_without_timing(notebook), tmp_path)
    assert "CheckFailed" in message and expected in message, message[-2000:]
