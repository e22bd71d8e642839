"""Adds the bias whether or not the layer has one."""

POINTS = 1.5
SELF_CHECK = "fails"
MESSAGE = "without a bias: the additions are wrong"

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
    """(multiplications, additions) of one call of a Conv1d/2d/3d or Linear layer, by
    the lemma, from the layer and the output the hook sees."""
    terms = module.weight.shape[1:].numel()
    outputs = output.numel()
    return outputs * terms, outputs * terms


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
