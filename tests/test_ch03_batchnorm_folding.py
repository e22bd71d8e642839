"""Chapter 3: folding batch normalization. The glued values of the book build's run, a second run
that loads the cached weights, and in-process proof that the checks of the chapter's own claims
(cells marked `derivation`) stop on a plausible mistake."""

import re
import shutil

import nbformat
import pytest
from conftest import CHAPTERS, run_cells, run_notebook

STEM = "03_batchnorm_folding"
FLOAT32_EPS = 2.0**-23


EXACT = {  # related values on one line
    "ch3_n_parameters": 16_793_370, "ch3_n_train": 10_000, "ch3_batch_size": 100,
    "ch3_conv_padding": 1, "ch3_fc1_units": 1024, "ch3_n_classes": 10,
    "ch3_n_forward_passes": 5, "ch3_n_steps": 100, "ch3_learned_min": 0.01, "ch3_bn_momentum": 0.1,
    "ch3_n_test": 10_000, "ch3_eval_batch": 100, "ch3_n_batches": 100,
    "ch3_label_disagreements": 0, "ch3_n_f64_images": 500,
    "ch3_no_eps_min_ratio": 100, "ch3_var_n_fc1": 100, "ch3_var_n_conv1": 100 * 32 * 32,
    "ch3_time_rounds_b1": 31, "ch3_time_rounds_b100": 9,
    "ch3_time_batch_small": 1, "ch3_time_batch_large": 100, "ch3_speed_tolerance": 0.05,
}  # fmt: skip
APPROX = {
    "ch3_fc1_param_share": 16_777_216 / 16_793_370,
    # multiply-adds: conv1 442,368; conv2 2,359,296; fc1 16,777,216; fc2 10,240
    "ch3_fc1_mac_share": 16_777_216 / 19_589_120,
    "ch3_chance": 0.1,
    "ch3_init_left": 0.9**100,
    "ch3_float32_eps": FLOAT32_EPS,
    "ch3_var_ratio_fc1": 100 / 99,
    "ch3_var_ratio_conv1": 102_400 / 102_399,
}


def test_counts(chapter):
    assert {name: chapter.glue[name] for name in EXACT} == EXACT
    assert {name: chapter.glue[name] for name in APPROX} == pytest.approx(APPROX)


def test_weights_trained_or_loaded_from_the_cache(chapter):
    source = chapter.glue["ch3_measured_weights_source"]
    seconds = chapter.glue["ch3_measured_train_seconds"]
    if source.startswith("trained in this run"):
        assert seconds > 0
    else:
        assert source.startswith("loaded from the cache") and seconds == 0


def test_trained_net_and_cache(chapter):
    g = chapter.glue
    assert 0.35 <= g["ch3_test_accuracy"] < 0.7
    assert (chapter.workdir / "data" / "ch3_smallnet.pt").is_file()
    assert 0 <= g["ch3_all_zero_images"] < 10_000
    # learning moved gamma and beta themselves (the factors move without it)
    assert g["ch3_gamma_min"] < 0.99 < 1.01 < g["ch3_gamma_max"] < 1.1
    assert 0.01 < g["ch3_beta_absmax"] < 0.1
    assert g["ch3_fc1_scale_min"] < g["ch3_fc1_scale_max"]
    assert g["ch3_fc1_var_min"] < g["ch3_fc1_var_max"]
    assert g["ch3_fc1_mean_absmax"] > 0.5


def test_running_statistics_move_without_learning(chapter):
    g = chapter.glue
    assert g["ch3_untrained_mean_moved"] > 0.05 and g["ch3_untrained_var_moved"] > 0.05
    # with gamma = 1 the factors are 1/sqrt(running_var + eps): no longer all 1
    assert g["ch3_untrained_scale_min"] < 0.99 < 1.01 < g["ch3_untrained_scale_max"]


def test_cache_is_reused(chapter, tmp_path):
    """A second run in the same folder loads the weights instead of training."""
    workdir = tmp_path / "again"
    (workdir / "data").mkdir(parents=True)
    for name in ("ch3_smallnet.pt", "ch3_smallnet.pt.sha256"):  # weights and checksum
        shutil.copy(chapter.workdir / "data" / name, workdir / "data")
    notebook = nbformat.read(CHAPTERS / f"{STEM}.ipynb", as_version=4)
    # only the cells up to the one that got the weights (seen in the executed chapter's outputs):
    # enough to see which branch runs. The twin has the chapter's cells after its hidden helper cell.
    executed = chapter.notebook.cells
    texts = [
        "\n".join(o.get("text", "") for o in c.get("outputs", [])) for c in executed
    ]
    weights = re.compile(r"^(epoch \d+:|ch3_smallnet\.pt: loaded)", re.M)
    upto = next(i for i, text in enumerate(texts) if weights.search(text))
    offset = len(notebook.cells) - len(executed)
    # a self-check cell holds its cases there
    pairs = zip(notebook.cells[offset:], executed)
    assert all(a.source == b.source for a, b in pairs if "check" not in a.metadata)
    notebook.cells = notebook.cells[: offset + upto + 1]
    run_notebook(notebook, workdir, timeout=300)
    text = "".join(
        o.get("text", "") for c in notebook.cells for o in c.get("outputs", [])
    )
    assert "ch3_smallnet.pt: loaded from the cache (checksum verified)" in text
    assert "CIFAR-10 train" not in text, (
        "with the cache present the training set must not be loaded"
    )


def test_folded_net_matches_on_whole_test_set(chapter):
    assert 0 < chapter.glue["ch3_max_sq_error"] < 1e-8


def test_scale_free_error_explains_the_absolute_bound(chapter):
    g = chapter.glue
    assert g["ch3_rel_error"] == pytest.approx(g["ch3_rel_error_eps"] * FLOAT32_EPS)
    # rounding size: a few float32 epsilons, the worst batch no better than the whole test set
    assert 0 < g["ch3_rel_error_eps"] <= g["ch3_rel_error_eps_max_batch"] < 10
    assert 0 < g["ch3_logit_rms"] < 100
    assert g["ch3_c_net"] / 2 < g["ch3_rel_error_eps"] < 2 * g["ch3_c_net"]
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


def test_agrees_with_torch_fusion(chapter):
    assert 0 <= chapter.glue["ch3_fuse_rel_diff"] <= 4 * FLOAT32_EPS


def test_float64_shows_rounding(chapter):
    g = chapter.glue
    assert 0 < g["ch3_err32"] < 1e-8
    assert g["ch3_err64"] < 1e-20 and g["ch3_f64_predicted"] == 2.0**-58
    assert g["ch3_f64_ratio"] == pytest.approx(g["ch3_err64"] / g["ch3_err32"])
    assert 1 / 100 < g["ch3_f64_ratio"] / g["ch3_f64_predicted"] < 100
    assert 0 < g["ch3_c32"] < 10 and 0 < g["ch3_c64"] < 10


def test_classic_mistakes_are_large(chapter):
    g = chapter.glue
    assert g["ch3_train_mode_error"] > 1.0
    assert g["ch3_train_mode_error"] > 1e6 * g["ch3_max_sq_error"]
    assert g["ch3_running_mean_moved"] > 0
    assert g["ch3_no_eps_error"] > 100 * g["ch3_max_sq_error"]
    assert 0 < g["ch3_first_batch_error"] <= g["ch3_max_sq_error"]
    assert g["ch3_no_eps_ratio"] == pytest.approx(
        g["ch3_no_eps_error"] / g["ch3_first_batch_error"]
    )
    assert g["ch3_no_eps_ratio"] > 100


def test_biased_and_unbiased_variance(chapter):
    assert chapter.glue["ch3_var_deviation_unbiased_fc1"] > 1e-4
    assert "Expected more than 1 value per channel when training" in chapter.text


def test_folding_and_int8_quantization(chapter):
    g = chapter.glue
    for name in ("conv1", "conv2", "fc1"):
        assert g[f"ch3_q_{name}_spread_after"] > g[f"ch3_q_{name}_spread_before"] >= 1
        assert g[f"ch3_q_{name}_tensor_after"] > g[f"ch3_q_{name}_tensor_before"] > 0
        channel, tensor = (g[f"ch3_q_{name}_{k}_after"] for k in ("channel", "tensor"))
        assert 0 < channel < tensor < 0.05
    assert 0 < g["ch3_q_output_channel"] < g["ch3_q_output_tensor"] < 0.1
    assert 0 <= g["ch3_q_labels_channel"] <= g["ch3_q_labels_tensor"] <= 100


def test_timings_reported_consistently(chapter):
    g = chapter.glue
    for batch in (1, 100):
        bn = g[f"ch3_measured_time_bn_b{batch}"]
        folded = g[f"ch3_measured_time_folded_b{batch}"]
        assert bn > 0 and folded > 0
        ratio = g[f"ch3_measured_speedup_b{batch}"]
        assert ratio == pytest.approx(bn / folded)
        not_faster = "slower than" if ratio < 1 / 1.05 else "about as fast as"
        word = "faster than" if ratio > 1.05 else not_faster
        assert g[f"ch3_measured_speed_word_b{batch}"] == word
        # Shares of separately timed medians: noisy on a loaded machine, so only sanity bounds.
        assert 0 < g[f"ch3_measured_bn_share_b{batch}"] < 2
        assert 0 < g[f"ch3_measured_fc1_share_b{batch}"] < 3
    # a batch of 100 costs more than one image
    assert g["ch3_measured_time_bn_b100"] > g["ch3_measured_time_bn_b1"]


def test_one_figure(chapter):
    assert chapter.images == 1


# --- Mistakes in the chapter's own checks, caught in-process -----------------------------------------
# The answers' mistakes are variant data (grading/03_batchnorm_folding/variants). These are the chapter's
# own claims: the setup cell, SmallNet's cell and the answers run, then a stand-in for the trained net
# (random BN statistics) and for the test set (random images), then the cells marked
# `:derivation: <id>` with one piece of their source made wrong. Seconds: no CIFAR-10, no training.
STAND_IN = """
net = random_bn_statistics(SmallNet())
bns = {name: getattr(net, name)[1] for name in ("conv1", "conv2", "fc1")}
EVAL_BATCH = 100
test_inputs = torch.randn(5 * EVAL_BATCH, 3, 32, 32)


def outputs_by_batch(model, inputs, batch_size=EVAL_BATCH):
    with torch.inference_mode():
        return torch.cat([model(batch) for batch in inputs.split(batch_size)])


net_outputs = outputs_by_batch(net, test_inputs)
"""
ON_THE_STAND_IN = {
    "answers": ("q3a_fold_bn", "q3b_fold_net"),
    "sources": ["class SmallNet(", "N_TRAIN, BATCH_SIZE, LEARNING_RATE"],
    "extra": STAND_IN,
}


ALL_CLAIMS = ("ch3-running-statistics", "ch3-fold-bound", "ch3-scale-free", "ch3-scaling",
              "ch3-train-mode", "ch3-epsilon", "ch3-variance", "ch3-quantization")  # fmt: skip
OPTIMIZER_STEP = """optimizer = torch.optim.SGD(untrained.parameters(), lr=0.1)
for k in range(N_FORWARD_PASSES):
    untrained(test_inputs[k * EVAL_BATCH : (k + 1) * EVAL_BATCH]).sum().backward()
    optimizer.step()
with torch.no_grad():"""
FOLDED = ("ch3-fold-bound", "ch3-train-mode")  # the folded net, and x: one test batch
MISTAKES = {  # name: (the derivations run, (old, new) source, phrases of the failure message)
    # forward passes in eval mode, which neither uses nor updates batch statistics
    "eval-mode forward passes": (
        ("ch3-running-statistics",), ("SmallNet().train()", "SmallNet().eval()"),
        "the running statistics stayed near (0, 1)", "were the forward passes made in training mode?"),
    # "a few training steps" instead of forward passes alone
    "an optimizer step": (
        ("ch3-running-statistics",), ("= None\nwith torch.no_grad():", "= None\n" + OPTIMIZER_STEP),
        "gamma or beta changed without an optimizer step"),
    # BNs left out of the optimizer: running statistics moved, gamma 1 and beta 0. The old check
    # (an fc1 factor below 0.8 or above 1.25) passed it: its factors 1/sqrt(U(0.05, 4)) span 0.5-4.2
    "BNs that never learned": (
        ("ch3-running-statistics",), ("if bn.affine:\n" + " " * 20 + "bn", "if False:\n" + " " * 20 + "bn"),
        "gamma and beta barely moved"),
    # an absolute error under the name relative_error
    "relative_error without the norm": (
        ("ch3-fold-bound", "ch3-scale-free", "ch3-scaling"),
        ("return ((approx - exact).norm() / exact.norm()).item()", "return (approx - exact).norm().item()"),
        "divide the relative error by the norm of the outputs"),
    # a fold off by a uniform relative 1e-6 (8 eps): within the bound, and the old check, which
    # fitted c to these outputs and predicted their worst batch from it, passed it
    "a uniform relative error": (
        ("ch3-fold-bound", "ch3-scale-free"),
        ("outputs_by_batch(net_folded, test_inputs)", "outputs_by_batch(net_folded, test_inputs) * (1 + 1e-6)"),
        "is not the size of float32 rounding"),
    # "ten times larger logits", a factor float32 cannot apply exactly
    "a factor 10**k": (
        ("ch3-fold-bound", "ch3-scale-free", "ch3-scaling"), ("factor = 2**k", "factor = 10**k"),
        "logits scaled exactly: False", "scale by a power of two"),
    # the BN net compared in eval mode: the training-mode error is then no larger
    "training mode left out": (
        ("ch3-fold-bound", "ch3-train-mode"), ("copy.deepcopy(net).train()", "copy.deepcopy(net).eval()")),
    # no copy, so eps = 0 is set on the reference net's BNs as well
    "with_eps_zero without a copy": (
        (*FOLDED, "ch3-epsilon"), ("copied = copy.deepcopy(net)", "copied = net"),
        "leaving out epsilon made no clear difference", "on a copy of the net"),
    # torch.var's default, which divides by N - 1
    "torch.var's default": (
        (*FOLDED, "ch3-variance"), ("z.var(dim=dims, correction=0)", "z.var(dim=dims)"),
        "torch.var divides by N - 1 unless correction=0"),
    # N = the batch size, also for BatchNorm2d (where N is batch x height x width)
    "n = len(z)": (
        (*FOLDED, "ch3-variance"), ("n = z.numel() // z.shape[1]", "n = len(z)"),
        "conv1: running_var / biased variance", "does N count every value of a channel (batch x positions)?"),
    # the maximum over dim 0: one step per input column instead of per output channel
    "amax(dim=0)": (
        ("ch3-fold-bound", "ch3-scale-free", "ch3-quantization"),
        ("rows.abs().amax(dim=1, keepdim=True)", "rows.abs().amax(dim=0, keepdim=True)"),
        "per output channel"),
}  # fmt: skip


def test_the_claims_hold_on_the_stand_in():
    """Without a mistake every marked check passes on the stand-in net and data."""
    run_cells(STEM, *ALL_CLAIMS, **ON_THE_STAND_IN)


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_a_mistake_in_the_chapters_own_checks_is_caught(mistake):
    derivations, edit, *phrases = MISTAKES[mistake]
    with pytest.raises(AssertionError) as failure:
        run_cells(STEM, *derivations, edit=edit, **ON_THE_STAND_IN)
    for phrase in phrases:
        assert phrase in str(failure.value), str(failure.value)
