"""Correct, another route: a recursive walk over the children (each module visited
once), helper functions for a row and for the totals, no totals_by_kind."""

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


def _row(name, module, parameters):
    biases = sum(p.numel() for pname, p in parameters if pname == "bias")
    weights = sum(p.numel() for pname, p in parameters) - biases
    return {
        "layer": name,
        "type": type(module).__name__,
        "kind": layer_kind(module),
        "weights": weights,
        "biases": biases,
        "total": weights + biases,
    }


def _sum(rows):
    totals = {}
    for kind in ("conv", "linear", "other", "all"):
        mine = [r for r in rows if kind in (r["kind"], "all")]
        totals[kind] = {
            key: sum(r[key] for r in mine) for key in ("weights", "biases", "total")
        }
    return totals


def count_parameters(model):
    if not isinstance(model, nn.Module):
        raise TypeError("count_parameters counts the parameters of an nn.Module")
    rows, seen_modules, seen_tensors = [], set(), set()

    def visit(prefix, module):
        if id(module) in seen_modules:
            return
        seen_modules.add(id(module))
        own = [(n, p) for n, p in module._parameters.items() if p is not None]
        own = [(n, p) for n, p in own if id(p) not in seen_tensors]
        seen_tensors.update(id(p) for _, p in own)
        if own:
            rows.append(_row(prefix, module, own))
        for child_name, child in module.named_children():
            visit(f"{prefix}.{child_name}" if prefix else child_name, child)

    visit("", model)
    return rows, _sum(rows)
