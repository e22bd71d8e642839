"""The untouched stub of the student edition: every hidden test fails."""

POINTS = 0
MESSAGE = "TODO:"

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
    raise NotImplementedError("TODO: the answer")
