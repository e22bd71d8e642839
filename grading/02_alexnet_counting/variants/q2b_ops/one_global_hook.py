"""Correct, another route: one global forward hook for every module
(torch.nn.modules.module.register_module_forward_hook) that keeps the calls of this
model's leaves, and the bias read from the parameters' names."""

POINTS = 3
SELF_CHECK = "passes"

import torch
from torch import nn


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


def _conv_or_linear(module, inputs, output):
    weight = dict(module.named_parameters())["weight"]
    terms = weight[0].numel()  # one output's dot product: (C_in / g) * kernel, or in
    outputs = output.numel()
    beta = 1 if "bias" in dict(module.named_parameters()) else 0
    return outputs * terms, outputs * (terms - 1 + beta)


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
    if not isinstance(model, nn.Module):
        raise TypeError(f"not an nn.Module: {type(model).__name__}")
    good = isinstance(input_shape, (tuple, list)) and len(input_shape) >= 2
    if not good or any(
        not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in input_shape
    ):
        raise ValueError(
            f"input_shape must be a tuple of >= 2 positive ints: {input_shape!r}"
        )
    missing = ", ".join(
        f"'{name}' ({type(m).__name__})"
        for name, m in leaves(model)
        if type(m) not in OP_RULES
    )
    if missing:
        raise TypeError(f"count_ops has no rule for layer {missing}")


def count_ops(model, input_shape):
    check_arguments(model, input_shape)
    names = {id(m): name for name, m in leaves(model)}
    rows = []

    def hook(module, inputs, output):
        if id(module) in names:
            rows.append(op_row(names[id(module)], module, inputs, output))

    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    training = [(m, m.training) for m in model.modules()]
    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(tuple(input_shape), device=device))
    finally:
        handle.remove()
        for m, mode in training:
            m.training = mode
    return rows
