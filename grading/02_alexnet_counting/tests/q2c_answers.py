"""q2c_answers: the public case (the chapter's self-check) and the hidden tests: the totals and
shares, counted by PyTorch on the test's own copy of the network and by the student's own tools."""

import math
import os
from functools import partial
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q2c_answers"
points = 2


@test_case(points=0, hidden=False)
def test_complete_and_consistent(answers, ANSWER_KEYS):
    """answers is complete and consistent (its values are for the hidden tests)"""
    import math

    import numpy as np

    missing = [key for key in ANSWER_KEYS if key not in answers]
    assert not missing, f"answers lacks {missing}"
    counts = [key for key in ANSWER_KEYS if not key.endswith("_share")]
    not_int = [k for k in counts if not isinstance(answers[k], (int, np.integer))]
    not_int += [k for k in counts if isinstance(answers[k], bool)]
    assert not not_int, (
        f"{not_int} are counts: give them as ints, as count_parameters and count_ops do"
    )
    for what in ("params", "mults", "adds"):
        assert answers[f"conv_{what}"] + answers[f"linear_{what}"] <= answers[what], (
            f"conv_{what} + linear_{what} exceeds {what}: totals are over all layers"
        )
    for share in [key for key in ANSWER_KEYS if key.endswith("_share")]:
        kind, what, _ = share.split("_")
        want = answers[f"{kind}_{what}s"] / answers[f"{what}s"]
        assert math.isclose(answers[share], want, rel_tol=1e-12), (
            f"{share} = {answers[share]} does not agree with the counts in answers: "
            "expected a fraction between 0 and 1 (not a percentage)"
        )


_PARTS = [("", "all"), ("conv_", "conv"), ("linear_", "linear")]  # (key prefix, kind)
_KEYS = [p + w for w in ("params", "mults", "adds") for p, _ in _PARTS]
_KEYS += [f"{k}_{w}_share" for w in ("param", "mult") for k in ("conv", "linear")]


def _counts(side=227, bias=True):
    """{key: value} for the problem's AlexNet (typed again) on one 3 x side x side image, from
    PyTorch's parameters, FlopCounterMode per layer and the layers' output sizes."""
    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    convs = [(3, 64, 11, 4, 0), (64, 192, 5, 1, 2), (192, 384, 3, 1, 1)]
    convs += [(384, 256, 3, 1, 1), (256, 256, 3, 1, 1)]  # (C_in, C_out, k, s, p)
    layers, meta = [], dict(bias=bias, device="meta")
    for i, (c_in, c_out, k, s, p) in enumerate(convs):
        layers += [nn.Conv2d(c_in, c_out, k, s, p, **meta), nn.ReLU(inplace=True)]
        layers += [nn.MaxPool2d(kernel_size=3, stride=2)] if i in (0, 1, 4) else []
    layers += [nn.AdaptiveAvgPool2d((6, 6)), nn.Flatten()]
    for f_in, f_out in [(256 * 6 * 6, 4096), (4096, 4096), (4096, 1000)]:
        layers += [nn.Linear(f_in, f_out, **meta), nn.ReLU(inplace=True)]
    c = dict.fromkeys(_KEYS[:9], 0)
    x = torch.zeros(1, 3, side, side, device="meta")
    for m in layers[:-1]:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            out = m(x)
        kind = {nn.Conv2d: "conv", nn.Linear: "linear"}.get(type(m))
        if kind:
            mults = counter.get_total_flops() // 2
            c[f"{kind}_params"] += sum(p.numel() for p in m.parameters())
            c[f"{kind}_mults"] += mults
            c[f"{kind}_adds"] += mults - (0 if bias else out.numel())
        if isinstance(m, nn.AdaptiveAvgPool2d):
            # a mean of w numbers: w - 1 additions and a multiplication; w by autograd
            (_, planes, h, w) = x.shape
            jac = torch.autograd.functional.jacobian(m, torch.zeros(1, 1, h, w))
            sizes = (jac.reshape(-1, h * w) != 0).sum(1).tolist()
            c["mults"] += planes * sum(1 for size in sizes if size > 1)
            c["adds"] += planes * sum(size - 1 for size in sizes)
        x = out
    for what in ("params", "mults", "adds"):
        c[what] += c[f"conv_{what}"] + c[f"linear_{what}"]
    for share in _KEYS[9:]:
        kind, what, _ = share.split("_")
        c[share] = c[f"{kind}_{what}s"] / c[f"{what}s"]
    return c


def _same(got, want):
    try:
        return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=0.0)
    except (TypeError, ValueError):
        return False


def _diagnose(key, got, want):
    """Why answers[key] differs, without telling the expected value."""
    if _same(got, _counts(side=224)[key]):
        return f"answers[{key!r}] is the count for a 224x224 input: the problem's is 3x227x227"
    if not key.endswith("_share") and _same(got, 2 * want):
        return (
            f"answers[{key!r}] is twice the count: FlopCounterMode counts two FLOPs per "
            "multiply-add, count multiplications and additions"
        )
    if key.endswith("_share") and _same(got, 100 * want):
        return f"answers[{key!r}] is a percentage: give a share as a fraction between 0 and 1"
    if key.endswith("adds") and _same(got, _counts(bias=False)[key]):
        return (
            f"answers[{key!r}] counts the network without biases: every layer of the problem's "
            "AlexNet has one, which costs one addition per output"
        )
    return (
        f"answers[{key!r}] = {got!r} is not the count for the problem's AlexNet on one "
        "3x227x227 image: take it from count_parameters(alexnet) and count_ops(alexnet, INPUT)"
    )


def _yours(alexnet, count_parameters=None, count_ops=None, op_totals=None, INPUT=None):
    """What the student's own tools (those given) say, under the keys of answers."""
    yours = {}
    if count_parameters:
        totals = count_parameters(alexnet)[1]
        yours |= {f"{p}params": totals[kind]["total"] for p, kind in _PARTS}
    if count_ops:
        ops = op_totals(count_ops(alexnet, INPUT))
        yours |= {p + w: ops[k][w] for p, k in _PARTS for w in ("mults", "adds")}
    for share in _KEYS[9:] if count_parameters and count_ops else []:
        kind, what, _ = share.split("_")
        part, whole = yours[f"{kind}_{what}s"], yours[f"{what}s"]
        yours[share] = part / whole if whole else float("nan")
    return yours


def _check(answers, keys, yours):
    """answers[key] is the right count, and the one the student's own tools give (yours())."""
    assert isinstance(answers, dict), (
        f"answers is {type(answers).__name__}, not a dict: run the cell that fills it"
    )
    missing = [key for key in _KEYS if key not in answers]
    assert not missing, f"answers lacks the keys {missing}"
    want = _counts()
    for key in keys:
        assert _same(answers[key], want[key]), _diagnose(key, answers[key], want[key])
    from_the_tools = yours()
    for key in keys:
        assert _same(answers[key], from_the_tools[key]), (
            f"answers[{key!r}] = {answers[key]!r}, but your count_parameters(alexnet) and "
            f"count_ops(alexnet, INPUT) give {from_the_tools[key]!r}: take the answers from your "
            "tools, as the question asks (no typed numbers)"
        )


@dlbook.hidden_case(0.5)
def test_parameter_counts(answers, count_parameters, alexnet):
    _check(answers, _KEYS[0:3], partial(_yours, alexnet, count_parameters))


@dlbook.hidden_case(1)
def test_multiplications_and_additions(answers, count_ops, op_totals, alexnet, INPUT):
    tools = None, count_ops, op_totals, INPUT
    _check(answers, _KEYS[3:9], partial(_yours, alexnet, *tools))


@dlbook.hidden_case(0.5)
def test_conv_and_linear_shares(
    answers, count_parameters, count_ops, op_totals, alexnet, INPUT
):
    tools = count_parameters, count_ops, op_totals, INPUT
    _check(answers, _KEYS[9:], partial(_yours, alexnet, *tools))
