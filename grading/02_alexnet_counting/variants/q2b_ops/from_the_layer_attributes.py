"""Correct, another route: K from the layer's attributes (in_channels / groups times the
kernel's elements, or in_features), the arguments checked in two helpers, the hooks
removed by a contextlib.ExitStack."""

POINTS = 3
SELF_CHECK = "passes"

import contextlib
import math

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
    if isinstance(module, nn.Linear):
        terms = module.in_features
    else:
        terms = module.in_channels // module.groups * math.prod(module.kernel_size)
    mults = output.numel() * terms
    # K - 1 additions per output, and one more where there is a bias
    return mults, mults - output.numel() * (module.bias is None)


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


def _check_shape(input_shape):
    if not isinstance(input_shape, (tuple, list)):
        raise ValueError(f"input_shape must be a tuple or list, not {input_shape!r}")
    if len(input_shape) < 2:
        raise ValueError("input_shape needs the batch and at least one more size")
    for size in input_shape:
        if type(size) is not int or size <= 0:
            raise ValueError(f"input_shape holds positive ints, not {size!r}")


def check_arguments(model, input_shape):
    if not isinstance(model, nn.Module):
        raise TypeError("count_ops counts an nn.Module")
    _check_shape(input_shape)
    for name, module in leaves(model):
        if type(module) not in OP_RULES:
            raise TypeError(
                f"count_ops has no rule for layer '{name}' ({type(module).__name__})"
            )


def count_ops(model, input_shape):
    check_arguments(model, input_shape)
    rows = []
    devices = {p.device for p in model.parameters()} or {torch.device("cpu")}
    mode = {m: m.training for m in model.modules()}
    with contextlib.ExitStack() as stack:
        for name, module in leaves(model):
            handle = module.register_forward_hook(
                lambda m, i, o, name=name: rows.append(op_row(name, m, i, o))
            )
            stack.callback(handle.remove)
        stack.callback(lambda: [m.train(t) for m, t in mode.items()])
        model.eval()
        with torch.inference_mode():
            model(torch.zeros(*input_shape, device=devices.pop()))
    return rows
