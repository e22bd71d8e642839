"""Chapter 5: fully connected layers as convolutions (Net1 vs its convolutionalized twin Net2)."""

import sys
from fractions import Fraction

import pytest
from conftest import ROOT, run_cells

sys.path.insert(0, str(ROOT))
from dlbook import CheckFailed  # noqa: E402

STEM = "05_fully_convolutional"

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


def times_faster(ratio):
    return (
        f"{ratio:.2f} times faster" if ratio >= 1 else f"{1 / ratio:.2f} times slower"
    )


TIMING_WORDS = (
    "loop batched fcn kernel gmacs peak init matmul lowering share_pct verdict net2_way chapter_s "
    "cpu_s"
).split()


def test_timing_glue_names_are_marked_measured(chapter):
    """Timings and values computed from them carry `_measured` (tests/test_determinism.py skips only those)."""
    g = chapter.glue
    for name in g:
        if any(word in name for word in TIMING_WORDS):
            assert "_measured" in name, (
                f"{name} depends on a timing or on memory use but lacks `_measured`"
            )


def test_memory_numbers(chapter):
    g = chapter.glue
    assert g["ch5_fc1_weights"] == 339_738_624
    assert g["ch5_fc1_gb"] == pytest.approx(339_738_624 * 4 / 1e9)
    convs = sum(cin * cout * k * k + cout for cin, cout, k in CONVS)
    assert g["ch5_net1_params"] == convs + sum(i * o + o for i, o in LINEARS)
    assert g["ch5_memory_limit_gb"] == 12
    assert g["ch5_net1_gb"] < g["ch5_measured_peak_gb"] < g["ch5_memory_limit_gb"]


def test_equivalence_on_32x32(chapter):
    g = chapter.glue
    assert g["ch5_n_images"] >= 2
    # Net1 and Net2 agree to float32 rounding; the H, W, C reshape breaks the equality
    assert g["ch5_mse32"] < 1e-10 * g["ch5_signal32"] and g["ch5_rel32"] < 1e-5
    assert g["ch5_mse_wrong"] > 1e-3 * g["ch5_signal32"]
    # real images were loaded, and the source was reported
    assert "CIFAR-10 test" in chapter.text


def test_sliding_window_equivalence(chapter):
    g = chapter.glue
    assert (g["ch5_size_a"], g["ch5_map_a"], g["ch5_windows_a"]) == ("36×38", "5×7", 35)
    assert (g["ch5_map_a_rows"], g["ch5_map_a_cols"]) == (5, 7)
    h, w = (int(v) for v in g["ch5_size_b"].split("×"))
    assert g["ch5_map_b"] == f"{h - 31}×{w - 31}"
    assert g["ch5_windows_b"] == (h - 31) * (w - 31)
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


def test_net2_built_explicitly(chapter):
    g = chapter.glue
    assert (g["ch5_built_image"], g["ch5_built_map"]) == ("33×35", "2×4")
    assert g["ch5_built_rel_corners"] < 1e-5 and g["ch5_built_rel_twin"] < 1e-5


def test_im2col_lowering(chapter):
    g = chapter.glue
    assert g["ch5_err_im2col_small"] < 1e-12
    # float32 sums of 82,944 products
    assert g["ch5_rel_im2col"] < 1e-4 and g["ch5_rel_im2col_net2"] < 1e-4
    assert g["ch5_measured_conv_gmacs"] > 0 and g["ch5_measured_matmul_gmacs"] > 0
    # = t_conv / t_matmul
    ratio = g["ch5_measured_matmul_gmacs"] / g["ch5_measured_conv_gmacs"]
    assert g["ch5_measured_lowering"] == times_faster(ratio)
    assert g["ch5_measured_net2_way"].startswith(
        "with its 18×18 convolution as im2col" if ratio > 1 else "with PyTorch's"
    )


def test_timing_table(chapter):
    g = chapter.glue
    for k in range(3):
        h, w = (int(v) for v in g[f"ch5_timing_size_{k}"].split("×"))
        n = (h - 31) * (w - 31)
        assert g[f"ch5_timing_windows_{k}"] == n
        assert g[f"ch5_mac_ratio_{k}"] == pytest.approx(
            n * net1_macs_per_window() / net2_macs(h, w)
        )
        assert g[f"ch5_measured_fcn_{k}"] > 0
        assert g[f"ch5_measured_gmacs_fcn_{k}"] == pytest.approx(
            net2_macs(h, w) / g[f"ch5_measured_fcn_{k}"] / 1e9
        )
    # the loop runs on the two small images only
    for way, sizes in (("batched", 3), ("loop", 2)):
        for k in range(sizes):
            assert g[f"ch5_measured_{way}_{k}"] > 0
            ratio = g[f"ch5_measured_speedup_{way}_{k}"]
            assert ratio == pytest.approx(
                g[f"ch5_measured_{way}_{k}"] / g[f"ch5_measured_fcn_{k}"]
            )
            assert g[f"ch5_measured_vs_{way}_{k}"] == times_faster(ratio)
    assert "ch5_measured_loop_2" not in g
    # What holds on any machine: one fully convolutional pass beats the window-by-window loop.
    assert all(g[f"ch5_measured_speedup_loop_{k}"] > 1 for k in range(2))
    share_first = 100 * 289 * LINEARS[0][0] * LINEARS[0][1] / net2_macs(48, 48)
    assert g["ch5_first_conv_share"] == pytest.approx(share_first)
    assert g["ch5_first_conv_share"] > 90
    windows = [g[f"ch5_timing_windows_{k}"] for k in range(3)]
    assert windows == sorted(windows) and len(set(windows)) == 3
    assert g["ch5_timing_size_2"] == "48×48", "the timing must reach 48×48 (issue 11)"
    ratios = [g[f"ch5_mac_ratio_{k}"] for k in range(3)]
    assert ratios == sorted(ratios) and ratios[-1] < g["ch5_mac_limit"]
    below = all(g[f"ch5_measured_speedup_batched_{k}"] < ratios[k] for k in range(3))
    above = all(g[f"ch5_measured_speedup_batched_{k}"] > ratios[k] for k in range(3))
    mixed = "sometimes below and sometimes above"
    word = "below" if below else "above" if above else mixed
    assert g["ch5_measured_vs_count"] == word


def test_exercise_ratio_side(chapter):
    g = chapter.glue
    m1 = net1_macs_per_window()
    side = next(s for s in range(32, 200) if (s - 31) ** 2 * m1 >= 3 * net2_macs(s, s))
    assert g["ch5_side_ratio3"] == side
    assert g["ch5_ratio_at_side"] == pytest.approx(
        (side - 31) ** 2 * m1 / net2_macs(side, side)
    )
    assert g["ch5_ratio_at_side"] >= 3


def test_the_im2col_check_names_channels_last_windows():
    """The lemma's check cell (taken by its metadata) fails, naming the order, when conv_as_matmul
    flattens each window channels-last (kh, kw, C): run in-process after the setup cell."""
    channels_last = ("permute(0, 2, 3, 1, 4, 5)", "permute(0, 2, 3, 4, 5, 1)")
    with pytest.raises(CheckFailed, match=r"channel-major \(C, kh, kw\)"):
        run_cells(
            STEM, "ch5-lem-im2col", sources=["def conv_as_matmul("], edit=channels_last
        )
