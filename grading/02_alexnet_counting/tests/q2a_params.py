"""Hidden tests for q2a_params: networks the chapter never shows (batch norm, layer norm, 1-d, 3-d and
grouped convolutions, layers without a bias, a parameter of a container, shared tensors) and bad input."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q2a_params"
points = 2


def _kind(module):
    from torch import nn

    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        return "conv"
    return "linear" if isinstance(module, nn.Linear) else "other"


def _reference(model):
    """[(layer, kind, weights, biases)] from PyTorch's named_parameters(), which lists a shared
    tensor once, under the first module that owns it."""
    rows = {}
    for full, p in model.named_parameters():
        layer, _, pname = full.rpartition(".")
        kind = _kind(model.get_submodule(layer))
        _, _, weights, biases = rows.get(layer, (layer, kind, 0, 0))
        if pname == "bias":
            biases += p.numel()
        else:
            weights += p.numel()
        rows[layer] = (layer, kind, weights, biases)
    return list(rows.values())


def _unseen_net():
    import torch
    from torch import nn

    class Unseen(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(3))  # owned by the container itself
            self.stem = nn.Sequential(
                nn.Conv2d(3, 6, 3, groups=3, bias=False), nn.BatchNorm2d(6), nn.ReLU()
            )
            self.seq = nn.Conv1d(4, 8, 5, groups=2)
            self.vol = nn.Conv3d(2, 4, (1, 3, 3), bias=False)
            self.head = nn.Sequential(
                nn.Flatten(),
                nn.Linear(10, 7, bias=False),
                nn.LayerNorm(7),
                nn.Linear(7, 2),
            )

    return Unseen()


def _rows(count_parameters, model):
    rows, totals = count_parameters(model)
    got = [(r["layer"], r["kind"], r["weights"], r["biases"]) for r in rows]
    bad_total = [r["layer"] for r in rows if r["total"] != r["weights"] + r["biases"]]
    assert not bad_total, f"rows {bad_total}: total must be weights + biases"
    return got, totals


@test_case(points=None, hidden=True)
def test_every_module_owning_parameters_is_a_row(count_parameters):
    model = _unseen_net()
    got, _ = _rows(count_parameters, model)
    want = [row[0] for row in _reference(model)]
    assert [row[0] for row in got] == want, (
        f"rows for layers {[row[0] for row in got]}, expected {want}: every module that owns "
        "parameters itself is a row, in named_modules() order: batch and layer norms too (kind "
        "'other'), and a container's own nn.Parameter (the root's name is '')"
    )


@test_case(points=None, hidden=True)
def test_weights_and_biases_by_name_and_kind(count_parameters):
    model = _unseen_net()
    got, totals = _rows(count_parameters, model)
    for layer, kind, weights, biases in _reference(model):
        row = next((r for r in got if r[0] == layer), None)
        assert row == (layer, kind, weights, biases), (
            f"layer {layer!r}: (layer, kind, weights, biases) = {row}, expected "
            f"{(layer, kind, weights, biases)}: a parameter named 'bias' is a bias and every "
            "other one a weight, whatever its shape (a norm's 1-d weight is a weight)"
        )
    for kind in ("conv", "linear", "other", "all"):
        mine = [r for r in _reference(model) if kind in (r[1], "all")]
        want = {
            "weights": sum(r[2] for r in mine),
            "biases": sum(r[3] for r in mine),
            "total": sum(r[2] + r[3] for r in mine),
        }
        assert totals.get(kind) == want, (
            f"totals[{kind!r}] = {totals.get(kind)}, expected {want}: sum the rows of each kind, "
            "and all of them for 'all'"
        )


@test_case(points=None, hidden=True)
def test_a_shared_tensor_counts_once(count_parameters):
    from torch import nn

    model = nn.ModuleDict(
        {"a": nn.Linear(5, 5), "b": nn.Linear(5, 5), "c": nn.Linear(5, 5, bias=False)}
    )
    model["b"].weight = model["a"].weight  # tied: b keeps its own bias
    model["c"].weight = model["a"].weight  # tied: c owns nothing else
    got, totals = _rows(count_parameters, model)
    unique = sum(p.numel() for p in model.parameters())
    assert totals["all"]["total"] == unique, (
        f"{totals['all']['total']} parameters for three Linear(5, 5) sharing one weight, "
        f"PyTorch counts {unique}: a tensor shared by several modules counts once, at the first"
    )
    assert got == [("a", "linear", 25, 5), ("b", "linear", 0, 5)], (
        f"rows {got}: the shared weight belongs to 'a', the first module that owns it; 'b' "
        "keeps a row for its own bias, 'c' owns nothing else and has no row"
    )


@test_case(points=None, hidden=True)
def test_torchvision_networks(count_parameters):
    import torch
    import torchvision

    with torch.device("meta"):
        nets = {
            "mobilenet_v2": torchvision.models.mobilenet_v2(),
            "resnet18": torchvision.models.resnet18(),
        }
    for label, model in nets.items():
        _, totals = count_parameters(model)
        for kind in ("conv", "linear", "other", "all"):
            mine = [r for r in _reference(model) if kind in (r[1], "all")]
            want = (sum(r[2] for r in mine), sum(r[3] for r in mine))
            got = (totals[kind]["weights"], totals[kind]["biases"])
            assert got == want, (
                f"torchvision {label}, {kind}: (weights, biases) = {got}, PyTorch's own count "
                f"gives {want}: count every module that owns parameters (batch norms are "
                "'other'), biases by name"
            )


@test_case(points=None, hidden=True)
def test_bad_input_is_refused(count_parameters):
    import torch
    from torch import nn

    layer = nn.Linear(3, 2)
    for bad in (layer.state_dict(), [layer], nn.Linear, torch.ones(3)):
        dlbook.must_raise(
            TypeError,
            count_parameters,
            bad,
            what=f"count_parameters({type(bad).__name__} object)",
            instead="not count: only an nn.Module instance has parameters to count",
        )


# The book's helper module from the autograder zip, never the notebook's own copy (the
# tests above use it when otter runs them, after it has read this whole file).
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)
