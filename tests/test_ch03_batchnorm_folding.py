"""Chapter 3: folding batch normalization. Runs the twin once (from an empty folder, so it trains)."""
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from conftest import execution_error, replace_solution

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"

STEM = "03_batchnorm_folding"
BUDGET_SECONDS = 120
FLOAT32_EPS = 2.0 ** -23


@pytest.fixture(scope="module")
def ch3(run_chapter):
    return run_chapter(STEM)


def test_runs_within_budget_including_training(ch3):
    assert ch3.glue["ch3_measured_weights_source"].startswith("trained in this run"), "the cache must be absent"
    assert ch3.seconds < BUDGET_SECONDS, f"chapter 3 took {ch3.seconds:.1f} s (budget {BUDGET_SECONDS} s)"


def test_trained_net_and_cache(ch3):
    g = ch3.glue
    assert g["ch3_n_parameters"] == 16_793_370
    assert g["ch3_fc1_param_share"] == pytest.approx(16_777_216 / 16_793_370)
    # multiply-adds: conv1 442,368; conv2 2,359,296; fc1 16,777,216; fc2 10,240
    assert g["ch3_fc1_mac_share"] == pytest.approx(16_777_216 / 19_589_120)
    assert g["ch3_n_train"] == 10_000 and g["ch3_batch_size"] == 100
    assert g["ch3_chance"] == pytest.approx(0.1)
    assert 0.35 <= g["ch3_test_accuracy"] < 0.7
    assert g["ch3_measured_train_seconds"] > 0
    assert (ch3.workdir / "data" / "ch3_smallnet.pt").is_file()
    assert 0 <= g["ch3_all_zero_images"] < 10_000
    # BN statistics far from their defaults: the fold is not trivial
    assert g["ch3_fc1_scale_min"] < 0.8 or g["ch3_fc1_scale_max"] > 1.25
    assert g["ch3_fc1_scale_min"] < g["ch3_fc1_scale_max"]
    assert g["ch3_fc1_mean_absmax"] > 0.5


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
    notebook.cells = cells[:upto + 1]
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()
    text = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "weights loaded from the cache" in text
    assert "CIFAR-10 train" not in text, "with the cache present the training set must not be loaded"


def test_folded_net_matches_on_whole_test_set(ch3):
    g = ch3.glue
    assert g["ch3_n_test"] == 10_000 and g["ch3_eval_batch"] == 100 and g["ch3_n_batches"] == 100
    assert 0 < g["ch3_max_sq_error"] < 1e-8
    assert g["ch3_label_disagreements"] == 0
    assert g["ch3_fold_unit_cases"] == 12


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


def test_timings_reported_consistently(ch3):
    g = ch3.glue
    assert (g["ch3_time_rounds_b1"], g["ch3_time_rounds_b100"]) == (31, 9)
    for batch in (1, 100):
        bn, folded = g[f"ch3_measured_time_bn_b{batch}"], g[f"ch3_measured_time_folded_b{batch}"]
        assert bn > 0 and folded > 0
        ratio = g[f"ch3_measured_speedup_b{batch}"]
        assert ratio == pytest.approx(bn / folded)
        word = g[f"ch3_measured_speed_word_b{batch}"]
        expected = "faster than" if ratio > 1.05 else "slower than" if ratio < 1 / 1.05 else "about as fast as"
        assert word == expected
        # Shares of separately timed medians: noisy on a loaded machine, so only sanity bounds.
        assert 0 < g[f"ch3_measured_bn_share_b{batch}"] < 2
        assert 0 < g[f"ch3_measured_fc1_share_b{batch}"] < 3
    # a batch of 100 costs more than one image
    assert g["ch3_measured_time_bn_b100"] > g["ch3_measured_time_bn_b1"]


def test_exercise_checks_pass_and_figure(ch3):
    assert ch3.text.count("PASSED:") == 6
    assert "FAILED" not in ch3.text
    images = [o for c in ch3.notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
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
    return _run_cells(tmp_path, lambda src: "fold_bn_into_next" in src, "fold_bn_into_next", wrong_body)


def _run_first_mismatch(tmp_path, wrong_body):
    keep = lambda src: ("class SmallNet(" in src or "def fold_bn(" in src or "def fold_net(" in src
                        or "first_mismatch" in src)
    return _run_cells(tmp_path, keep, "first_mismatch", wrong_body,
                      extra_after=("def fold_bn(", STAND_IN))


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
    wrong = BN_BEFORE_PREFIX + """        folded.weight = nn.Parameter(linear.weight * s)
        folded.bias = nn.Parameter(bias + t.sum())
    return folded"""
    message = _run_bn_before(tmp_path, wrong)
    assert "CheckFailed" in message
    assert "the weight is right but the bias is wrong" in message
    assert "must pass through W" in message


def test_bn_before_check_names_the_rows_mistake(tmp_path):
    # Plausible slip: copy the theorem and scale the rows (outputs) instead of the columns (inputs).
    wrong = BN_BEFORE_PREFIX + """        folded.weight = nn.Parameter(linear.weight * s[: linear.out_features, None])
        folded.bias = nn.Parameter(bias + linear.weight @ t)
    return folded"""
    message = _run_bn_before(tmp_path, wrong)
    assert "CheckFailed" in message
    assert "the weight is wrong" in message and "columns of W, not its rows" in message


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
    assert "flagged at 'fc2', expected 'conv1'" in message and "in the order conv1, conv2, fc1, fc2" in message


def test_twin_is_in_sync():
    twin = nbformat.read(CHAPTERS / f"{STEM}.ipynb", as_version=4)
    source = jupytext.read(CHAPTERS / f"{STEM}.md")
    assert [c.source for c in twin.cells] == [c.source for c in source.cells]
