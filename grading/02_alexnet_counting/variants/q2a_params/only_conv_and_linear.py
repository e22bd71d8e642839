"""Counts only the conv and linear layers' weight and bias: misses batch norms, layer
norms and a container's own parameter, and counts a shared weight twice."""

POINTS = 0.5
SELF_CHECK = "passes"
MESSAGE = "every module that owns parameters itself is a row"

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
    """Per-layer and per-kind parameter counts, weights and biases apart.

    Returns (rows, totals): one row per module that owns parameters (layer, type, kind,
    weights, biases, total); totals maps "conv", "linear", "other" and "all" to dicts
    with weights, biases and total (totals_by_kind).
    """
    if not isinstance(model, nn.Module):
        raise TypeError("count_parameters expects an nn.Module")
    rows = []
    for name, module in model.named_modules():
        if layer_kind(module) == "other":
            continue
        biases = module.bias.numel() if module.bias is not None else 0
        weights = module.weight.numel()
        rows.append(
            {"layer": name, "type": type(module).__name__, "kind": layer_kind(module)}
            | {"weights": weights, "biases": biases, "total": weights + biases}
        )
    return rows, totals_by_kind(rows, ("weights", "biases", "total"))
