"""q2_ex_conv_counts: the public case (the chapter's self-check) and the hidden tests: unseen layers
(3, 4 and depthwise groups, strides 3, odd sizes, biases or not) and bad input. Every call that
computes counts refuses PyTorch's convolutions (dlbook.from_the_geometry), as the statement says."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q2_ex_conv_counts"
points = 1


@test_case(points=0, hidden=False)
def test_four_layers(conv_counts):
    """four layers (strides, padding, groups, a bias or not) counted as computed once"""
    cases = {  # (n, c_in, c_out, k, s, p, groups, bias): (out, params, mults)
        "AlexNet's conv1 padded by 2": (
            (227, 3, 64, 11, 4, 2, 1, 1),
            (56, 23296, 72855552),
        ),
        "a stride that does not divide": (
            (30, 16, 32, 3, 2, 0, 1, 1),
            (14, 4640, 903168),
        ),
        "padding 1": ((12, 8, 16, 3, 1, 1, 1, 1), (12, 1168, 165888)),
        "grouped, bias-free, strided": (
            (27, 64, 192, 5, 2, 2, 2, 0),
            (14, 153600, 30105600),
        ),
    }
    keys = ["adds", "mults", "out", "params"]  # the adds: hidden, exact
    for case, ((n, c_in, c_out, k, s, p, groups, bias), values) in cases.items():
        args = n, c_in, c_out, k, s, p, groups
        counts = [
            dlbook.from_the_geometry(conv_counts, *args, b) for b in (True, False)
        ]
        for got in counts:
            assert isinstance(got, dict) and set(keys) <= set(got), (
                f"conv_counts must return a dict with keys {keys}, not {got!r}"
            )
        got = counts[not bias]
        for key, value in zip(("out", "params", "mults"), values):
            v = got[key]
            assert v == value, (
                f"{case}: {key}={v!r}, expected {value}: the count of {key} is wrong "
                f"({dlbook.symptom(v, value, 'count')})"
            )
        adds = [got["adds"] for got in counts]
        assert adds[0] > adds[1], (
            f"{case}: adds={adds[0]} with a bias, {adds[1]} without: the count "
            "of adds is wrong."
        )
    what = "a 7x7 kernel on a 4x4 input padded by 1: conv_counts(4, 3, 8, 7, p=1)"
    no = "it was not refused"
    dlbook.must_raise(ValueError, conv_counts, 4, 3, 8, 7, p=1, what=what, instead=no)


@dlbook.hidden_case(0.5)
def test_layers_the_self_check_never_shows(conv_counts):
    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    cases = [(19, 6, 9, 3, 3, 1, 3, True), (20, 8, 12, 5, 2, 0, 4, False)]
    cases += [(15, 16, 16, 3, 1, 1, 16, True), (9, 5, 7, 9, 1, 0, 1, True)]
    cases += [(33, 12, 6, 4, 3, 2, 2, False)]  # (n, c_in, c_out, k, s, p, groups, bias)
    for n, c_in, c_out, k, s, p, groups, bias in cases:
        with torch.device("meta"), FlopCounterMode(display=False) as counter:
            layer = nn.Conv2d(c_in, c_out, k, s, p, groups=groups, bias=bias)
            out = layer(torch.zeros(1, c_in, n, n))
        mults, params = counter.get_total_flops() // 2, layer.weight.numel()
        want = {"out": out.shape[-1], "params": params + (c_out if bias else 0)}
        want |= {"mults": mults, "adds": mults - (0 if bias else out.numel())}
        args = n, c_in, c_out, k, s, p, groups, bias
        got = dlbook.from_the_geometry(conv_counts, *args)
        got = {key: got.get(key) for key in want} if isinstance(got, dict) else got
        assert got == want, (
            f"conv_counts(n={n}, c_in={c_in}, c_out={c_out}, k={k}, s={s}, p={p}, "
            f"groups={groups}, bias={bias}) = {got}, PyTorch's layer gives {want}"
        )


@dlbook.hidden_case(0.5)
def test_bad_input_is_refused(conv_counts):
    bad = {"groups=4 do not divide c_in=6": dict(n=8, c_in=6, c_out=8, k=3, groups=4)}
    bad["groups=4 do not divide c_out=6"] = dict(n=8, c_in=8, c_out=6, k=3, groups=4)
    bad["a 5x5 kernel on a 3x3 input"] = dict(n=3, c_in=2, c_out=2, k=5)
    for what, args in bad.items():
        what, instead = f"conv_counts({what})", "not count"
        dlbook.must_raise(ValueError, conv_counts, **args, what=what, instead=instead)
    got = dlbook.from_the_geometry(conv_counts, 3, 2, 2, 5, 1, 1)  # n, c_in, ..., s, p
    assert isinstance(got, dict) and got.get("out") == 1, (
        f"conv_counts(n=3, k=5, p=1) gave {got}: a kernel that just fits the padded "
        "input (n + 2p = k) has one output position"
    )
