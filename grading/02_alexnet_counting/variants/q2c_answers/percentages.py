"""Gives the shares as percentages."""

POINTS = 1.5
SELF_CHECK = "fails"
MESSAGE = "(not a percentage)"

import torch
from torch import nn


class AlexNet(nn.Module):
    """The problem's AlexNet: no padding in the first convolution, no dropout."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(
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
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def leaves(model):
    """(name, module) for every module without children, in registration order."""
    return [(name, m) for name, m in model.named_modules() if not list(m.children())]


def layer_kind(m):
    if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        return "conv"
    return "linear" if isinstance(m, nn.Linear) else "other"


def totals_by_kind(rows, keys):
    """Sum the `keys` of the rows per kind ("conv", "linear", "other") and over all."""
    kinds = ("conv", "linear", "other", "all")
    totals = {kind: dict.fromkeys(keys, 0) for kind in kinds}
    for row in rows:
        for kind in (row["kind"], "all"):
            for key in keys:
                totals[kind][key] += row[key]
    return totals


def count_parameters(model):
    """Per-layer and per-kind parameter counts, weights and biases apart.

    Returns (rows, totals): one row per module that owns parameters (layer, type, kind,
    weights, biases, total); totals maps "conv", "linear", "other" and "all" to dicts
    with weights, biases and total (totals_by_kind).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"count_parameters expects an nn.Module, not {type(model)}")
    rows, seen = [], set()
    for name, module in model.named_modules():
        own = module.named_parameters(recurse=False)
        own = [(pname, p) for pname, p in own if id(p) not in seen]
        seen.update(id(p) for _, p in own)
        biases = sum(p.numel() for pname, p in own if pname == "bias")
        weights = sum(p.numel() for pname, p in own if pname != "bias")
        if own:
            kind, type_name = layer_kind(module), type(module).__name__
            rows.append(
                {"layer": name, "type": type_name, "kind": kind, "weights": weights}
                | {"biases": biases, "total": weights + biases}
            )
    return rows, totals_by_kind(rows, ("weights", "biases", "total"))


def _conv_or_linear(module, inputs, output):
    """(multiplications, additions) of one call of a Conv1d/2d/3d or Linear layer, by
    the lemma, from the layer and the output the hook sees."""
    # K of the lemma: (C_in / g) * kernel size, or in_features
    terms = module.weight.shape[1:].numel()
    outputs = output.numel()  # O of the lemma
    has_bias = module.bias is not None
    return outputs * terms, outputs * (terms - 1) + (outputs if has_bias else 0)


def _free(module, inputs, output):
    return 0, 0


def _adaptive_avg(module, inputs, output):
    (x,) = inputs
    muls = adds = 0
    h_in, w_in = x.shape[-2:]
    h_out, w_out = output.shape[-2:]
    planes = output.numel() // (h_out * w_out)
    # PyTorch's windows: start = floor(i * in / out), end = ceil((i + 1) * in / out)
    rows = [(-(-(i + 1) * h_in // h_out)) - (i * h_in // h_out) for i in range(h_out)]
    cols = [(-(-(j + 1) * w_in // w_out)) - (j * w_in // w_out) for j in range(w_out)]
    for r in rows:
        for c in cols:
            if r * c > 1:
                adds += r * c - 1
                muls += 1
    return planes * muls, planes * adds


OP_RULES = {nn.Conv1d: _conv_or_linear, nn.Conv2d: _conv_or_linear}
OP_RULES |= {nn.Conv3d: _conv_or_linear, nn.Linear: _conv_or_linear}
OP_RULES |= {nn.AdaptiveAvgPool2d: _adaptive_avg}
OP_RULES |= dict.fromkeys(
    [nn.ReLU, nn.MaxPool2d, nn.Dropout, nn.Flatten, nn.Identity], _free
)


def op_row(name, module, inputs, output):
    """The row of one call of a leaf module, counted by its rule in OP_RULES."""
    mults, adds = OP_RULES[type(module)](module, inputs, output)
    return {
        "layer": name,
        "type": type(module).__name__,
        "kind": layer_kind(module),
        "input_shape": tuple(inputs[0].shape),
        "output_shape": tuple(output.shape),
        "mults": int(mults),
        "adds": int(adds),
    }


def op_totals(rows):
    """Sum mults and adds per kind (conv, linear, other) and overall."""
    return totals_by_kind(rows, ("mults", "adds"))


def check_arguments(model, input_shape):
    """Raise TypeError or ValueError for what count_ops cannot count."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"count_ops expects an nn.Module, got {type(model).__name__}")
    shape = input_shape if isinstance(input_shape, (tuple, list)) else ()
    if len(shape) < 2 or not all(isinstance(v, int) and v > 0 for v in shape):
        raise ValueError(
            "input_shape must be a tuple of positive ints with the batch first, "
            f"e.g. (1, 3, 227, 227); got {input_shape!r}"
        )
    unknown = [(n, m) for n, m in leaves(model) if type(m) not in OP_RULES]
    if unknown:
        named = ", ".join(f"'{n}' ({type(m).__name__})" for n, m in unknown)
        raise TypeError(
            f"count_ops has no rule for layer {named}: add its formula "
            "to OP_RULES (the class -> a function returning (mults, adds)) instead of "
            "counting it as zero"
        )


def count_ops(model, input_shape):
    """Per-layer multiplications and additions of one forward pass on a zero tensor of
    input_shape (batch first, e.g. (1, 3, 227, 227)), on the model's device: one row
    (op_row) per leaf-module call."""
    check_arguments(model, input_shape)
    rows, handles, was_training = [], [], model.training

    def hook_for(name):
        return lambda module, i, o: rows.append(op_row(name, module, i, o))

    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    try:
        for name, m in leaves(model):
            handles.append(m.register_forward_hook(hook_for(name)))
        with torch.no_grad():
            model.eval()(torch.zeros(tuple(input_shape), device=device))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return rows


INPUT = (1, 3, 227, 227)
alexnet = AlexNet().eval()
param_rows, param_totals = count_parameters(alexnet)
op_rows = count_ops(alexnet, INPUT)

ANSWER_KEYS = (
    *("params", "conv_params", "linear_params"),  # weights and biases together
    *("mults", "conv_mults", "linear_mults"),  # one forward pass
    *("adds", "conv_adds", "linear_adds"),
    *("conv_param_share", "linear_param_share"),  # of all parameters
    *("conv_mult_share", "linear_mult_share"),  # of all multiplications
)
answers = {}
measured = op_totals(op_rows)
for prefix, kind in (("", "all"), ("conv_", "conv"), ("linear_", "linear")):
    answers[f"{prefix}params"] = param_totals[kind]["total"]
    answers[f"{prefix}mults"] = measured[kind]["mults"]
    answers[f"{prefix}adds"] = measured[kind]["adds"]
for kind in ("conv", "linear"):
    answers[f"{kind}_param_share"] = answers[f"{kind}_params"] / answers["params"] * 100
    answers[f"{kind}_mult_share"] = answers[f"{kind}_mults"] / answers["mults"] * 100
