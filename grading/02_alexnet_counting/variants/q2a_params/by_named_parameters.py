"""Correct, another route: PyTorch's named_parameters() already lists a shared tensor
once, at the first module that owns it; each name's prefix is its module."""

POINTS = 2
SELF_CHECK = "passes"

from torch import nn


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
    if not isinstance(model, nn.Module):
        raise TypeError(f"count_parameters expects an nn.Module, got {type(model)}")
    modules = dict(model.named_modules())
    rows = {}
    for full_name, parameter in model.named_parameters():
        layer, _, pname = full_name.rpartition(".")
        module = modules[layer]
        row = rows.setdefault(
            layer,
            {
                "layer": layer,
                "type": type(module).__name__,
                "kind": layer_kind(module),
                "weights": 0,
                "biases": 0,
                "total": 0,
            },
        )
        row["biases" if pname == "bias" else "weights"] += parameter.numel()
        row["total"] += parameter.numel()
    rows = list(rows.values())
    return rows, totals_by_kind(rows, ("weights", "biases", "total"))
