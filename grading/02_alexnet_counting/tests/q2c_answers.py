"""Hidden tests for q2c_answers: the totals and shares of the problem's AlexNet on one 3x227x227 image,
counted here independently (PyTorch's parameters and FlopCounterMode on the test's own copy of the
network), so that numbers for another network or input size fail; and the values must be the ones the
student's own count_parameters and count_ops give (no numbers copied from elsewhere)."""

from otter.test_files import test_case

OK_FORMAT = False

name = "q2c_answers"
points = 2

_KEYS = (
    *("params", "conv_params", "linear_params"),
    *("mults", "conv_mults", "linear_mults"),
    *("adds", "conv_adds", "linear_adds"),
    *("conv_param_share", "linear_param_share", "conv_mult_share", "linear_mult_share"),
)


def _problem_alexnet():
    """The problem's AlexNet, typed here again: torchvision's widths, no padding in the first
    convolution, no dropout."""
    import torch
    from torch import nn

    with torch.device("meta"):
        return nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.AdaptiveAvgPool2d((6, 6)),
            nn.Flatten(),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, 1000),
        ).eval()


def _counts(side=227, bias=True):
    """{key: value} for the problem's AlexNet on one 3 x side x side image (biases dropped if not
    bias), from PyTorch: parameter sizes, FlopCounterMode (2 FLOPs per multiply-add) per layer,
    and the output sizes the layers produce."""
    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    model = _problem_alexnet()
    if not bias:
        for m in model:
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.bias = None
    outputs = {}
    for index, m in enumerate(model):
        m.register_forward_hook(
            lambda mod, i, o, index=index: outputs.__setitem__(
                index, (i[0].shape, o.numel())
            )
        )
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, side, side, device="meta"))
    flops = counter.get_flop_counts()
    c = dict.fromkeys(_KEYS[:9], 0)
    other_mults = other_adds = 0
    for index, m in enumerate(model):
        kind = {nn.Conv2d: "conv", nn.Linear: "linear"}.get(type(m))
        if isinstance(m, nn.AdaptiveAvgPool2d):
            # the chapter's convention: a mean of w numbers costs w - 1 additions and one
            # multiplication; the windows are read off the pool's own gradient
            (_, planes, h, w), _ = outputs[index]
            jac = torch.autograd.functional.jacobian(
                nn.AdaptiveAvgPool2d((6, 6)), torch.zeros(1, 1, h, w)
            )
            sizes = (jac.reshape(-1, h * w) != 0).sum(1).tolist()
            other_mults += planes * sum(1 for size in sizes if size > 1)
            other_adds += planes * sum(size - 1 for size in sizes)
        if kind is None:
            continue
        mults = sum(flops[f"Sequential.{index}"].values()) // 2
        n_out = outputs[index][1]
        c[f"{kind}_params"] += sum(p.numel() for p in m.parameters())
        c[f"{kind}_mults"] += mults
        c[f"{kind}_adds"] += mults - n_out + (n_out if m.bias is not None else 0)
    c["params"] = c["conv_params"] + c["linear_params"]
    c["mults"] = c["conv_mults"] + c["linear_mults"] + other_mults
    c["adds"] = c["conv_adds"] + c["linear_adds"] + other_adds
    for kind in ("conv", "linear"):
        c[f"{kind}_param_share"] = c[f"{kind}_params"] / c["params"]
        c[f"{kind}_mult_share"] = c[f"{kind}_mults"] / c["mults"]
    return c


def _answers(answers):
    assert isinstance(answers, dict), (
        f"answers is {type(answers).__name__}, not a dict: run the cell that fills it"
    )
    missing = [key for key in _KEYS if key not in answers]
    assert not missing, f"answers lacks the keys {missing}"
    return answers


def _same(got, want):
    import math

    try:
        return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=0.0)
    except (TypeError, ValueError):
        return False


def _diagnose(key, got, want):
    """Why answers[key] differs, without telling the expected value."""
    at_224 = _counts(side=224)
    if _same(got, at_224[key]):
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


def _params_from_your_tools(count_parameters, alexnet):
    _, totals = count_parameters(alexnet)
    return {
        "params": totals["all"]["total"],
        "conv_params": totals["conv"]["total"],
        "linear_params": totals["linear"]["total"],
    }


def _ops_from_your_tools(count_ops, op_totals, alexnet, INPUT):
    totals = op_totals(count_ops(alexnet, INPUT))
    ops = {}
    for kind in ("all", "conv", "linear"):
        prefix = "" if kind == "all" else f"{kind}_"
        ops[f"{prefix}mults"] = totals[kind]["mults"]
        ops[f"{prefix}adds"] = totals[kind]["adds"]
    return ops


def _check(answers, keys, yours):
    """answers[key] is the right count, and it is the one the student's own tools give (the
    question asks for the answers from count_parameters and count_ops, no typed numbers): yours()
    computes those, after the values are found right."""
    answers = _answers(answers)
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


@test_case(points=None, hidden=True)
def test_parameter_counts(answers, count_parameters, alexnet):
    _check(
        answers,
        ("params", "conv_params", "linear_params"),
        lambda: _params_from_your_tools(count_parameters, alexnet),
    )


@test_case(points=None, hidden=True)
def test_multiplications_and_additions(answers, count_ops, op_totals, alexnet, INPUT):
    _check(
        answers,
        ("mults", "conv_mults", "linear_mults", "adds", "conv_adds", "linear_adds"),
        lambda: _ops_from_your_tools(count_ops, op_totals, alexnet, INPUT),
    )


@test_case(points=None, hidden=True)
def test_conv_and_linear_shares(
    answers, count_parameters, count_ops, op_totals, alexnet, INPUT
):
    def yours():
        counts = {
            **_params_from_your_tools(count_parameters, alexnet),
            **_ops_from_your_tools(count_ops, op_totals, alexnet, INPUT),
        }
        for kind in ("conv", "linear"):
            for what in ("param", "mult"):
                part, whole = counts[f"{kind}_{what}s"], counts[f"{what}s"]
                counts[f"{kind}_{what}_share"] = part / whole if whole else float("nan")
        return counts

    _check(
        answers,
        (
            "conv_param_share",
            "linear_param_share",
            "conv_mult_share",
            "linear_mult_share",
        ),
        yours,
    )
