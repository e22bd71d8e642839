"""Counts each module's parameters with its children's (recurse=True), so a container
counts its layers again: the self-check's total is off."""

POINTS = 0.5
SELF_CHECK = "fails"
MESSAGE = "in a block and again in its layers"

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
        own = list(module.named_parameters(recurse=True))
        if not own:
            continue
        biases = sum(p.numel() for pname, p in own if pname.endswith("bias"))
        weights = sum(p.numel() for pname, p in own if not pname.endswith("bias"))
        rows.append(
            {"layer": name, "type": type(module).__name__, "kind": layer_kind(module)}
            | {"weights": weights, "biases": biases, "total": weights + biases}
        )
    return rows, totals_by_kind(rows, ("weights", "biases", "total"))
