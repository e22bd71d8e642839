"""Takes every 1-d parameter for a bias (a norm's scale too), not the parameters named
'bias'."""

POINTS = 1
SELF_CHECK = "passes"
MESSAGE = "a parameter named 'bias' is a bias"

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
    rows, seen = [], set()
    for name, module in model.named_modules():
        own = [p for p in module.parameters(recurse=False) if id(p) not in seen]
        if not own:
            continue
        seen.update(id(p) for p in own)
        biases = sum(p.numel() for p in own if p.ndim == 1)
        weights = sum(p.numel() for p in own if p.ndim != 1)
        rows.append(
            {"layer": name, "type": type(module).__name__, "kind": layer_kind(module)}
            | {"weights": weights, "biases": biases, "total": weights + biases}
        )
    return rows, totals_by_kind(rows, ("weights", "biases", "total"))
