"""Chapter 5: fully connected layers as convolutions (Net1 vs its convolutionalized twin Net2)."""
from fractions import Fraction
from pathlib import Path

import jupytext
import pytest

from conftest import execution_error, replace_solution

STEM = "05_fully_convolutional"
MD = Path(__file__).resolve().parent.parent / "chapters" / f"{STEM}.md"
BUDGET_SECONDS = 90

# Independent of the chapter: Net1's layers as (C_in, C_out, k) and its classifier as (n_in, n_out).
CONVS = [(3, 64, 7), (64, 192, 3), (192, 384, 3), (384, 256, 3), (256, 256, 3)]
LINEARS = [(256 * 18 * 18, 4096), (4096, 4096), (4096, 10)]


def net1_macs_per_window():
    side, total = 32, 0
    for cin, cout, k in CONVS:
        side = side - k + 1
        total += cin * cout * k * k * side * side
    assert side == 18
    return total + sum(n_in * n_out for n_in, n_out in LINEARS)


def net2_macs(h, w):
    total, shrink = 0, 0
    for cin, cout, k in CONVS:
        shrink += k - 1
        total += cin * cout * k * k * (h - shrink) * (w - shrink)
    return total + sum(n_in * n_out for n_in, n_out in LINEARS) * (h - 31) * (w - 31)


@pytest.fixture(scope="module")
def chapter(run_chapter):
    return run_chapter(STEM)


def test_timing_glue_names_are_marked_measured(chapter):
    """Timings and values computed from them carry `_measured` (tests/test_determinism.py skips only those)."""
    g = chapter.glue
    for name in g:
        if any(word in name for word in ("loop", "batched", "fcn", "kernel", "gmacs", "peak", "init", "onednn")):
            assert "_measured" in name, f"{name} depends on a timing or on memory use but lacks `_measured`"


def test_runs_within_budget(chapter):
    assert chapter.seconds < BUDGET_SECONDS, f"chapter 5 took {chapter.seconds:.1f} s (budget {BUDGET_SECONDS} s)"


def test_memory_numbers(chapter):
    g = chapter.glue
    assert g["ch5_fc1_weights"] == 339_738_624
    assert g["ch5_fc1_gb"] == pytest.approx(339_738_624 * 4 / 1e9)
    assert g["ch5_net1_params"] == sum(cin * cout * k * k + cout for cin, cout, k in CONVS) + sum(
        n_in * n_out + n_out for n_in, n_out in LINEARS)
    assert g["ch5_net1_gb"] < g["ch5_measured_peak_gb"] < 12


def test_equivalence_on_32x32(chapter):
    g = chapter.glue
    assert g["ch5_n_images"] >= 2
    assert g["ch5_mse32"] < 1e-10 * g["ch5_signal32"], "Net1 and Net2 must agree to float32 rounding"
    assert g["ch5_rel32"] < 1e-5
    assert g["ch5_mse_wrong"] > 1e-3 * g["ch5_signal32"], "the H, W, C reshape must break the equality"
    assert "CIFAR-10 test" in chapter.text  # real images were loaded, and the source was reported


def test_sliding_window_equivalence(chapter):
    g = chapter.glue
    assert (g["ch5_size_a"], g["ch5_map_a"], g["ch5_windows_a"]) == ("36×38", "5×7", 35)
    assert (g["ch5_map_a_rows"], g["ch5_map_a_cols"]) == (5, 7)
    h, w = (int(v) for v in g["ch5_size_b"].split("×"))
    assert g["ch5_map_b"] == f"{h - 31}×{w - 31}" and g["ch5_windows_b"] == (h - 31) * (w - 31)
    assert g["ch5_size_b"] != g["ch5_size_a"]
    for name in ("a", "b"):
        assert g[f"ch5_rel_{name}"] < 1e-5
        assert g[f"ch5_mse_{name}"] < 1e-10 * g["ch5_signal32"]


def test_convolutionalize_rejects_wrong_input_size(chapter):
    assert "does not match what reaches it: 256×22×22 = 123904" in chapter.text
    assert "Pass the input_size the network was built for" in chapter.text


def test_counts_and_limit(chapter):
    g = chapter.glue
    m1 = net1_macs_per_window()
    assert g["ch5_macs_net1"] == m1 == 1_292_774_144
    assert g["ch5_macs_features"] == 936_217_344
    assert g["ch5_macs_classifier"] == 356_556_800
    per_position = sum(cin * cout * k * k for cin, cout, k in CONVS)
    assert g["ch5_macs_per_position"] == per_position == 2_258_112
    limit = Fraction(m1, per_position + 356_556_800)
    assert g["ch5_mac_limit"] == pytest.approx(float(limit), rel=1e-12)
    assert g["ch5_mac_limit_exact"] == f"{m1:,} / {per_position + 356_556_800:,}"
    assert 3.60 < g["ch5_mac_limit"] < 3.61


def test_timing_table(chapter):
    g = chapter.glue
    for k in range(3):
        h, w = (int(v) for v in g[f"ch5_timing_size_{k}"].split("×"))
        n = (h - 31) * (w - 31)
        assert g[f"ch5_timing_windows_{k}"] == n
        assert g[f"ch5_mac_ratio_{k}"] == pytest.approx(n * net1_macs_per_window() / net2_macs(h, w))
        for key in ("loop", "batched", "fcn"):
            assert g[f"ch5_measured_{key}_{k}"] > 0
        assert g[f"ch5_measured_speedup_loop_{k}"] == pytest.approx(g[f"ch5_measured_loop_{k}"] / g[f"ch5_measured_fcn_{k}"])
        assert g[f"ch5_measured_speedup_batched_{k}"] == pytest.approx(g[f"ch5_measured_batched_{k}"] / g[f"ch5_measured_fcn_{k}"])
        # The words in the prose follow the measured ratio.
        ratio = g[f"ch5_measured_speedup_loop_{k}"]
        assert g[f"ch5_measured_vs_loop_{k}"] == (f"{ratio:.2f} times faster" if ratio >= 1 else
                                          f"{1 / ratio:.2f} times slower")
    windows = [g[f"ch5_timing_windows_{k}"] for k in range(3)]
    assert windows == sorted(windows) and len(set(windows)) == 3
    ratios = [g[f"ch5_mac_ratio_{k}"] for k in range(3)]
    assert ratios == sorted(ratios) and ratios[-1] < g["ch5_mac_limit"]
    below = all(g[f"ch5_measured_speedup_batched_{k}"] < ratios[k] for k in range(3))
    above = all(g[f"ch5_measured_speedup_batched_{k}"] > ratios[k] for k in range(3))
    assert g["ch5_measured_vs_count"] == ("below" if below else "above" if above else "sometimes below and sometimes above")
    assert g["ch5_measured_kernel_ratio"] >= 1
    assert (g["ch5_measured_onednn"] < g["ch5_measured_matmul"]) == g["ch5_measured_kernel_faster"].startswith("oneDNN")


def test_exercise_ratio_side(chapter):
    g = chapter.glue
    m1 = net1_macs_per_window()
    side = next(s for s in range(32, 200) if (s - 31) ** 2 * m1 >= 3 * net2_macs(s, s))
    assert g["ch5_side_ratio3"] == side
    assert "PASSED: s = " in chapter.text


def _cells_between(notebook, first_marker, last_marker):
    """Indices of the code cells from the one containing first_marker to the one containing last_marker."""
    sources = [cell.source for cell in notebook.cells]
    start = next(i for i, s in enumerate(sources) if first_marker in s)
    stop = next(i for i, s in enumerate(sources) if i >= start and last_marker in s)
    return [i for i in range(start, stop + 1) if notebook.cells[i].cell_type == "code"]


def test_injected_mistake_in_channels_last_exercise(tmp_path):
    """A plain view(out, C, H, W) (the channel-major reshape) must fail the channels-last self-check."""
    notebook = jupytext.read(MD)
    setup = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and "def check(" in c.source)
    exercise = _cells_between(notebook, "def conv_from_channels_last", "conv_from_channels_last(lin_cl")
    wrong = ("    conv = nn.Conv2d(C, linear.out_features, (H, W))\n"
             "    with torch.no_grad():\n"
             "        conv.weight.copy_(linear.weight.view(linear.out_features, C, H, W))\n"
             "        conv.bias.copy_(linear.bias)\n"
             "    return conv\n")
    notebook.cells = [notebook.cells[setup]] + [notebook.cells[i] for i in exercise]
    replace_solution(notebook.cells, "conv_from_channels_last", wrong)
    message = execution_error(notebook, tmp_path, timeout=300)
    assert "CheckFailed" in message
    assert "(out, H, W, C)" in message and "channel-major" in message
