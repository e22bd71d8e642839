"""Chapter 3: folding batch normalization. Runs the twin once (from an empty folder, so it trains)."""

from pathlib import Path

import jupytext
import nbformat
import pytest
from conftest import execution_error, replace_solution
from nbclient import NotebookClient

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"

STEM = "03_batchnorm_folding"
BUDGET_SECONDS = 120
FLOAT32_EPS = 2.0**-23


@pytest.fixture(scope="module")
def ch3(run_chapter):
    return run_chapter(STEM)


def test_runs_within_budget_including_training(ch3):
    assert ch3.glue["ch3_measured_weights_source"].startswith("trained in this run"), (
        "the cache must be absent"
    )
    assert ch3.seconds < BUDGET_SECONDS, (
        f"chapter 3 took {ch3.seconds:.1f} s (budget {BUDGET_SECONDS} s)"
    )


def test_trained_net_and_cache(ch3):
    g = ch3.glue
    assert g["ch3_n_parameters"] == 16_793_370
    assert g["ch3_fc1_param_share"] == pytest.approx(16_777_216 / 16_793_370)
    # multiply-adds: conv1 442,368; conv2 2,359,296; fc1 16,777,216; fc2 10,240
    assert g["ch3_fc1_mac_share"] == pytest.approx(16_777_216 / 19_589_120)
    assert g["ch3_n_train"] == 10_000 and g["ch3_batch_size"] == 100
    assert (g["ch3_conv_padding"], g["ch3_fc1_units"], g["ch3_n_classes"]) == (
        1,
        1024,
        10,
    )
    assert g["ch3_chance"] == pytest.approx(0.1)
    assert 0.35 <= g["ch3_test_accuracy"] < 0.7
    assert g["ch3_measured_train_seconds"] > 0
    assert (ch3.workdir / "data" / "ch3_smallnet.pt").is_file()
    assert 0 <= g["ch3_all_zero_images"] < 10_000
    # BN statistics far from their defaults: the fold is not trivial
    assert g["ch3_fc1_scale_min"] < 0.8 or g["ch3_fc1_scale_max"] > 1.25
    assert g["ch3_fc1_scale_min"] < g["ch3_fc1_scale_max"]
    assert g["ch3_fc1_mean_absmax"] > 0.5


def test_running_statistics_move_without_learning(ch3):
    g = ch3.glue
    assert g["ch3_n_forward_passes"] == 5
    assert g["ch3_untrained_mean_moved"] > 0.05 and g["ch3_untrained_var_moved"] > 0.05
    # with gamma = 1 the factors are 1/sqrt(running_var + eps): no longer all 1
    assert g["ch3_untrained_scale_min"] < 0.99 < 1.01 < g["ch3_untrained_scale_max"]


def test_cache_is_reused(ch3, tmp_path):
    """A second run in the same folder loads the weights instead of training."""
    import shutil

    workdir = tmp_path / "again"
    (workdir / "data").mkdir(parents=True)
    shutil.copy(ch3.workdir / "data" / "ch3_smallnet.pt", workdir / "data")
    notebook = nbformat.read(CHAPTERS / f"{STEM}.ipynb", as_version=4)
    # only the setup, network and training cells: enough to see which branch ran
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    upto = next(i for i, c in enumerate(cells) if "def train_smallnet" in c.source)
    notebook.cells = cells[: upto + 1]
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    ).execute()
    text = "".join(
        o.get("text", "") for c in notebook.cells for o in c.get("outputs", [])
    )
    assert "weights loaded from the cache" in text
    assert "CIFAR-10 train" not in text, (
        "with the cache present the training set must not be loaded"
    )


def test_folded_net_matches_on_whole_test_set(ch3):
    g = ch3.glue
    assert (
        g["ch3_n_test"] == 10_000
        and g["ch3_eval_batch"] == 100
        and g["ch3_n_batches"] == 100
    )
    assert 0 < g["ch3_max_sq_error"] < 1e-8
    assert g["ch3_label_disagreements"] == 0
    assert g["ch3_fold_unit_cases"] == 12


def test_scale_free_error_explains_the_absolute_bound(ch3):
    g = ch3.glue
    assert g["ch3_rel_error"] == pytest.approx(g["ch3_rel_error_eps"] * FLOAT32_EPS)
    # rounding size: a few float32 epsilons, the worst batch no better than the whole test set
    assert 0 < g["ch3_rel_error_eps"] <= g["ch3_rel_error_eps_max_batch"] < 10
    assert 0 < g["ch3_logit_rms"] < 100
    assert g["ch3_predicted_max_sq_error"] == pytest.approx(
        g["ch3_rel_error"] ** 2 * g["ch3_batch_sq_norm_max"]
    )
    assert 0.5 < g["ch3_predicted_max_sq_error"] / g["ch3_max_sq_error"] < 2
    assert g["ch3_logit_headroom"] == pytest.approx(
        (1e-8 / g["ch3_max_sq_error"]) ** 0.5
    )
    factor = g["ch3_scale_factor"]
    assert factor >= 2 and factor & (factor - 1) == 0, "a power of two"
    assert g["ch3_scaled_sq_error"] == pytest.approx(
        factor**2 * g["ch3_max_sq_error"], rel=1e-6
    )
    assert g["ch3_scaled_sq_error"] > 1e-8 > g["ch3_scaled_sq_error"] / 4, (
        "the smallest such power of two"
    )


def test_agrees_with_torch_fusion(ch3):
    assert 0 <= ch3.glue["ch3_fuse_rel_diff"] <= 4 * FLOAT32_EPS
    assert ch3.glue["ch3_float32_eps"] == pytest.approx(FLOAT32_EPS)


def test_float64_shows_rounding(ch3):
    g = ch3.glue
    assert g["ch3_n_f64_images"] == 500
    assert 0 < g["ch3_err32"] < 1e-8
    assert g["ch3_err64"] < 1e-20
    assert g["ch3_err64"] < 1e-12 * g["ch3_err32"]
    # the fold's float32 error is of the size float32 makes anyway
    assert 1e-2 < g["ch3_err32"] / g["ch3_err32_vs_f64"] < 1e2


def test_classic_mistakes_are_large(ch3):
    g = ch3.glue
    assert g["ch3_train_mode_error"] > 1.0
    assert g["ch3_train_mode_error"] > 1e6 * g["ch3_max_sq_error"]
    assert g["ch3_running_mean_moved"] > 0
    assert g["ch3_no_eps_error"] > 100 * g["ch3_max_sq_error"]
    assert g["ch3_no_eps_min_ratio"] == 100
    assert 0 < g["ch3_first_batch_error"] <= g["ch3_max_sq_error"]
    assert g["ch3_no_eps_ratio"] == pytest.approx(
        g["ch3_no_eps_error"] / g["ch3_first_batch_error"]
    )
    assert g["ch3_no_eps_ratio"] > 100


def test_biased_and_unbiased_variance(ch3):
    g = ch3.glue
    assert g["ch3_var_n_fc1"] == 100 and g["ch3_var_ratio_fc1"] == pytest.approx(
        100 / 99
    )
    assert g["ch3_var_n_conv1"] == 100 * 32 * 32
    assert g["ch3_var_ratio_conv1"] == pytest.approx(102_400 / 102_399)
    assert g["ch3_var_deviation_unbiased_fc1"] > 1e-4
    assert "Expected more than 1 value per channel when training" in ch3.text


def test_folding_and_int8_quantization(ch3):
    g = ch3.glue
    for name in ("conv1", "conv2", "fc1"):
        assert g[f"ch3_q_{name}_spread_after"] > g[f"ch3_q_{name}_spread_before"] >= 1
        assert g[f"ch3_q_{name}_tensor_after"] > g[f"ch3_q_{name}_tensor_before"] > 0
        assert (
            0
            < g[f"ch3_q_{name}_channel_after"]
            < g[f"ch3_q_{name}_tensor_after"]
            < 0.05
        )
    assert 0 < g["ch3_q_output_channel"] < g["ch3_q_output_tensor"] < 0.1
    assert 0 <= g["ch3_q_labels_channel"] <= g["ch3_q_labels_tensor"] <= 100


def test_timings_reported_consistently(ch3):
    g = ch3.glue
    assert (g["ch3_time_rounds_b1"], g["ch3_time_rounds_b100"]) == (31, 9)
    assert (
        g["ch3_time_batch_small"],
        g["ch3_time_batch_large"],
        g["ch3_speed_tolerance"],
    ) == (1, 100, 0.05)
    for batch in (1, 100):
        bn, folded = (
            g[f"ch3_measured_time_bn_b{batch}"],
            g[f"ch3_measured_time_folded_b{batch}"],
        )
        assert bn > 0 and folded > 0
        ratio = g[f"ch3_measured_speedup_b{batch}"]
        assert ratio == pytest.approx(bn / folded)
        word = g[f"ch3_measured_speed_word_b{batch}"]
        expected = (
            "faster than"
            if ratio > 1.05
            else "slower than"
            if ratio < 1 / 1.05
            else "about as fast as"
        )
        assert word == expected
        # Shares of separately timed medians: noisy on a loaded machine, so only sanity bounds.
        assert 0 < g[f"ch3_measured_bn_share_b{batch}"] < 2
        assert 0 < g[f"ch3_measured_fc1_share_b{batch}"] < 3
    # a batch of 100 costs more than one image
    assert g["ch3_measured_time_bn_b100"] > g["ch3_measured_time_bn_b1"]


def test_exercise_checks_pass_and_figure(ch3):
    # 20 in the text (2 running statistics, 2 fold_bn, 3 fold_net, 2 scale, 1 epsilon, 4 variance,
    # 6 quantization), 6 in exercises
    assert ch3.text.count("PASSED:") == 26
    assert "FAILED" not in ch3.text
    images = [
        o
        for c in ch3.notebook.cells
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert len(images) == 1
    assert ch3.glue["ch3_measured_chapter_seconds"] < ch3.seconds
    assert ch3.glue["ch3_measured_cpu_seconds"] > 0


# --- Injected mistakes: the self-checks must name the problem. ---------------------------------------


# A stand-in for the trained net (random BN statistics), run just before the chapter's fold_net cell,
# which folds it; so the exercise-1 check runs in seconds, without CIFAR-10.
STAND_IN = """
torch.manual_seed(1)
net = SmallNet()
with torch.no_grad():
    for name in ("conv1", "conv2", "fc1"):
        bn = getattr(net, name)[1]
        bn.running_mean.uniform_(-1, 1); bn.running_var.uniform_(0.2, 3)
        bn.weight.uniform_(0.5, 2); bn.bias.uniform_(-1, 1)
net.eval()
EVAL_BATCH = 100
test_inputs = torch.randn(EVAL_BATCH, 3, 32, 32)
"""


def _run_cells(tmp_path, keep, function_name, wrong_body, extra_after=None):
    """Run the setup cell and the code cells selected by `keep`, with one solution replaced."""
    notebook = jupytext.read(CHAPTERS / f"{STEM}.md")
    code = [c for c in notebook.cells if c.cell_type == "code"]
    chosen = [code[0]] + [c for c in code[1:] if keep(c.source)]
    replace_solution(chosen, function_name, wrong_body)
    if extra_after is not None:
        marker, source = extra_after
        index = next(i for i, c in enumerate(chosen) if marker in c.source)
        chosen.insert(index + 1, nbformat.v4.new_code_cell(source))
    notebook.cells = chosen
    return execution_error(notebook, tmp_path / "run", timeout=300)


def _run_bn_before(tmp_path, wrong_body):
    return _run_cells(
        tmp_path,
        lambda src: "fold_bn_into_next" in src,
        "fold_bn_into_next",
        wrong_body,
    )


def _run_first_mismatch(tmp_path, wrong_body):
    def keep(src):
        return (
            "class SmallNet(" in src
            or "def fold_bn(" in src
            or "def fold_net(" in src
            or "def first_mismatch(" in src
            or src.startswith("# Self-check (q3_ex_first_mismatch)")
        )

    return _run_cells(
        tmp_path,
        keep,
        "first_mismatch",
        wrong_body,
        extra_after=("def fold_bn(", STAND_IN),
    )


BN_BEFORE_PREFIX = """    with torch.no_grad():
        s = torch.rsqrt(bn.running_var + bn.eps)
        if bn.affine:
            s = bn.weight * s
        t = (bn.bias if bn.affine else 0) - s * bn.running_mean
        bias = linear.bias if linear.bias is not None else torch.zeros(linear.out_features,
                                                                     dtype=linear.weight.dtype)
        folded = copy.deepcopy(linear)
"""


def test_bn_before_check_names_the_bias_mistake(tmp_path):
    # Plausible slip: add the BN's shift to the bias directly instead of passing it through W.
    wrong = (
        BN_BEFORE_PREFIX
        + """        folded.weight = nn.Parameter(linear.weight * s)
        folded.bias = nn.Parameter(bias + t.sum())
    return folded"""
    )
    message = _run_bn_before(tmp_path, wrong)
    assert "CheckFailed" in message
    assert "the weight is right but the bias is wrong" in message
    assert "folded(0) differs from linear(bn(0))" in message
    # the message names the symptom, not the answer to the written q3_ex_bn_before_proof
    assert "through W" not in message and "W (beta" not in message


def test_bn_before_check_names_the_rows_mistake(tmp_path):
    # Plausible slip: copy the theorem and scale the rows (outputs) instead of the columns (inputs).
    wrong = (
        BN_BEFORE_PREFIX
        + """        folded.weight = nn.Parameter(linear.weight * s[: linear.out_features, None])
        folded.bias = nn.Parameter(bias + linear.weight @ t)
    return folded"""
    )
    message = _run_bn_before(tmp_path, wrong)
    assert "CheckFailed" in message
    assert "the weight is wrong" in message
    assert "folded(x) - folded(0) differs" in message
    # the message names the symptom, not the answer to the written q3_ex_bn_before_proof
    assert "column" not in message and "rows" not in message


def test_first_mismatch_check_names_the_absolute_error_mistake(tmp_path):
    # Plausible slip: an absolute tolerance, which large activations exceed by rounding alone.
    wrong = """    with torch.no_grad():
        for name in STAGES:
            if name == "fc1":
                x = x.flatten(1)
            a, b = getattr(net, name)(x), getattr(net_test, name)(x)
            if (a - b).norm() > rtol:
                return name
            x = a
    return None"""
    message = _run_first_mismatch(tmp_path, wrong)
    assert "CheckFailed" in message
    assert "the correct fold was flagged" in message and "relative errors" in message


def test_first_mismatch_check_names_the_order_mistake(tmp_path):
    # Plausible slip: report the last mismatching stage instead of the first.
    wrong = """    found = None
    with torch.no_grad():
        for name in STAGES:
            if name == "fc1":
                x = x.flatten(1)
            a, b = getattr(net, name)(x), getattr(net_test, name)(x)
            if (a - b).norm() > rtol * a.norm():
                found = name
            x = a
    return found"""
    message = _run_first_mismatch(tmp_path, wrong)
    assert "CheckFailed" in message
    assert (
        "flagged at 'fc2', expected 'conv1'" in message
        and "in the order conv1, conv2, fc1, fc2" in message
    )


# --- Injected mistakes in the chapter's own checks (stand-in data, no CIFAR-10) ----------------------

STAND_IN_DATA = """
EVAL_BATCH = 100
torch.manual_seed(2)
test_inputs = torch.randn(5 * EVAL_BATCH, 3, 32, 32)
"""

STAND_IN_OUTPUTS = """
def outputs_by_batch(model, inputs, batch_size=EVAL_BATCH):
    with torch.inference_mode():
        return torch.cat([model(inputs[i:i + batch_size]) for i in range(0, len(inputs), batch_size)])


def relative_error(approx, exact):
    return ((approx - exact).norm() / exact.norm()).item()


net_outputs = outputs_by_batch(net, test_inputs)
"""


def _run_edited(tmp_path, keep, edits, inserts=()):
    """Run the setup cell and the code cells selected by `keep`, after replacing each `old` by `new`
    (exactly once among them) and inserting each (marker, source) cell after the cell containing marker."""
    notebook = jupytext.read(CHAPTERS / f"{STEM}.md")
    code = [c for c in notebook.cells if c.cell_type == "code"]
    chosen = [code[0]] + [c for c in code[1:] if keep(c.source)]
    for old, new in edits:
        hits = [c for c in chosen if old in c.source]
        assert len(hits) == 1 and hits[0].source.count(old) == 1, (
            f"{old!r} must occur once"
        )
        hits[0].source = hits[0].source.replace(old, new)
    for marker, source in inserts:
        index = next(i for i, c in enumerate(chosen) if marker in c.source)
        chosen.insert(index + 1, nbformat.v4.new_code_cell(source))
    notebook.cells = chosen
    return execution_error(notebook, tmp_path / "run", timeout=300)


def _keep(*markers):
    return lambda src: any(marker in src for marker in markers)


RUNNING_STATS_CELLS = _keep("class SmallNet(", "N_FORWARD_PASSES = ")


def test_running_statistics_check_names_eval_mode(tmp_path):
    # Plausible slip: forward passes in eval mode, which neither uses nor updates batch statistics.
    message = _run_edited(
        tmp_path,
        RUNNING_STATS_CELLS,
        [("SmallNet().train()", "SmallNet().eval()")],
        [("class SmallNet(", STAND_IN_DATA)],
    )
    assert (
        "CheckFailed" in message
        and "the running statistics stayed near (0, 1)" in message
    )
    assert "were the forward passes made in training mode?" in message


def test_running_statistics_check_names_an_optimizer_step(tmp_path):
    # Plausible slip: "a few training steps" instead of forward passes alone.
    wrong = """optimizer = torch.optim.SGD(untrained.parameters(), lr=0.1)
for k in range(N_FORWARD_PASSES):
    untrained(test_inputs[k * EVAL_BATCH:(k + 1) * EVAL_BATCH]).sum().backward()
    optimizer.step()
with torch.no_grad():"""
    message = _run_edited(
        tmp_path,
        RUNNING_STATS_CELLS,
        [("with torch.no_grad():", wrong)],
        [("class SmallNet(", STAND_IN_DATA)],
    )
    assert (
        "CheckFailed" in message
        and "gamma or beta changed without an optimizer step" in message
    )


FOLDED_NET_CELLS = ("class SmallNet(", "def fold_bn(", "def fold_net(")


def _run_scale_free(tmp_path, edits):
    per_batch = """TARGET = 1e-8
folded_outputs = outputs_by_batch(net_folded, test_inputs)
per_batch = ((net_outputs - folded_outputs) ** 2).reshape(-1, EVAL_BATCH, 10).sum(dim=(1, 2))
max_sq_error = per_batch.max().item()
"""
    return _run_edited(
        tmp_path,
        _keep(*FOLDED_NET_CELLS, "def relative_error("),
        edits,
        [("def fold_bn(", STAND_IN), ("def fold_net(", STAND_IN_OUTPUTS + per_batch)],
    )


def test_scale_free_check_names_a_relative_error_without_norm(tmp_path):
    # Plausible slip: an absolute error under the name relative_error.
    message = _run_scale_free(
        tmp_path,
        [
            (
                "return ((approx - exact).norm() / exact.norm()).item()",
                "return (approx - exact).norm().item()",
            )
        ],
    )
    assert "CheckFailed" in message and "misses the measured" in message
    assert "is relative_error divided by the norm of the exact outputs" in message


def test_scaling_check_names_a_factor_that_is_not_a_power_of_two(tmp_path):
    # Plausible slip: "ten times larger logits", a factor float32 cannot apply exactly.
    message = _run_scale_free(tmp_path, [("factor = 2**k", "factor = 10**k")])
    assert "CheckFailed" in message and "logits scaled exactly: False" in message
    assert "scale by a power of two" in message


def test_epsilon_check_names_a_fold_on_the_net_s_own_bn(tmp_path):
    # Plausible slip: no copy, so eps = 0 is set on the reference net's BN as well.
    message = _run_edited(
        tmp_path,
        _keep(*FOLDED_NET_CELLS, "def with_eps_zero("),
        [("copied = copy.deepcopy(net)", "copied = net")],
        [("def fold_bn(", STAND_IN)],
    )
    assert (
        "CheckFailed" in message
        and "leaving out epsilon made no clear difference" in message
    )
    assert "on a copy of the net" in message


VARIANCE_CELLS = _keep("class SmallNet(", "def variance_conventions(")


def test_variance_check_names_torch_var_default(tmp_path):
    # Plausible slip: torch.var's default, which divides by N - 1.
    message = _run_edited(
        tmp_path,
        VARIANCE_CELLS,
        [("z.var(dim=dims, correction=0)", "z.var(dim=dims)")],
        [("class SmallNet(", STAND_IN)],
    )
    assert (
        "CheckFailed" in message
        and "torch.var divides by N - 1 unless correction=0" in message
    )


def test_variance_check_names_n_without_positions(tmp_path):
    # Plausible slip: N = the batch size, also for BatchNorm2d (where N is batch x height x width).
    message = _run_edited(
        tmp_path,
        VARIANCE_CELLS,
        [("n = z.numel() // z.shape[1]", "n = len(z)")],
        [("class SmallNet(", STAND_IN)],
    )
    assert (
        "CheckFailed" in message and "conv1: running_var / biased variance" in message
    )
    assert "does N count every value of a channel (batch x positions)?" in message


def test_quantization_check_names_the_wrong_axis(tmp_path):
    # Plausible slip: the maximum over dim 0, one step per input column instead of per output channel.
    message = _run_edited(
        tmp_path,
        _keep(*FOLDED_NET_CELLS, "def int8_quantize("),
        [
            (
                "rows.abs().amax(dim=1, keepdim=True)",
                "rows.abs().amax(dim=0, keepdim=True)",
            )
        ],
        [("def fold_bn(", STAND_IN), ("def fold_net(", STAND_IN_OUTPUTS)],
    )
    assert "CheckFailed" in message and "per output channel" in message


def test_twin_is_in_sync():
    twin = nbformat.read(CHAPTERS / f"{STEM}.ipynb", as_version=4)
    source = jupytext.read(CHAPTERS / f"{STEM}.md")
    assert [c.source for c in twin.cells] == [c.source for c in source.cells]
