"""q2a_params: the public case (the chapter's self-check) and the hidden tests: unseen networks
(norms, 1-3-d and grouped convolutions, no biases, a container's parameter, shared tensors)."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q2a_params"
points = 2


@test_case(points=0, hidden=False)
def test_alexnet_as_pytorch_counts_it(count_parameters):
    """AlexNet and a bias-free Linear counted as PyTorch does; a state_dict refused"""
    import torch
    import torchvision
    from torch import nn

    with torch.device("meta"):
        net = torchvision.models.alexnet()
    rows, totals = count_parameters(net)
    unique = sum(p.numel() for p in net.parameters())
    total = totals["all"]["total"]
    assert total <= unique, (
        f"total {total:,}, PyTorch counts {unique:,}: too many, you counted "
        "parameters more than once, in a block and again in its layers"
    )
    assert total == unique, f"total {total:,}, PyTorch counts {unique:,}: too few"
    for kind, cls in (("conv", nn.Conv2d), ("linear", nn.Linear)):
        layers = [m for m in net.modules() if isinstance(m, cls)]
        w, b = (sum(getattr(m, t).numel() for m in layers) for t in ("weight", "bias"))
        want = {"weights": w, "biases": b, "total": w + b}
        assert totals[kind] == want, (
            f"totals[{kind!r}] = {totals[kind]}, expected {want}: a parameter named "
            "'bias' is a bias, any other a weight"
        )
    layers = [n for n, m in net.named_modules() if hasattr(m, "weight")]
    assert [row["layer"] for row in rows] == layers, (
        f"rows for {[row['layer'] for row in rows]}, expected one per layer with "
        f"parameters, named as in named_modules(): {layers}"
    )
    got = count_parameters(nn.Linear(5, 3, bias=False))[1]["linear"]
    assert got == {"weights": 15, "biases": 0, "total": 15}, (
        f"a Linear(5, 3, bias=False) gave {got}: a layer without a bias has "
        "bias=None, which is not a parameter"
    )
    what = "count_parameters(model.state_dict()), not of a module,"
    dlbook.must_raise(TypeError, count_parameters, net.state_dict(), what=what)


def _reference(model):
    """[(layer, kind, weights, biases)] from named_parameters() (a shared tensor at its first)."""
    from torch import nn

    rows = {}
    for full, p in model.named_parameters():
        layer, _, pname = full.rpartition(".")
        m = model.get_submodule(layer)
        conv = isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d))
        kind = "conv" if conv else "linear" if isinstance(m, nn.Linear) else "other"
        row = rows.setdefault(layer, [layer, kind, 0, 0])
        row[3 if pname == "bias" else 2] += p.numel()
    return [tuple(row) for row in rows.values()]


def _totals(model, kind):
    """The reference's (weights, biases) of one kind, or of "all"."""
    mine = [r for r in _reference(model) if kind in (r[1], "all")]
    return sum(r[2] for r in mine), sum(r[3] for r in mine)


def _unseen_net():
    import torch
    from torch import nn

    net = nn.Module()
    net.scale = nn.Parameter(torch.ones(3))  # owned by the container itself
    stem = nn.Conv2d(3, 6, 3, groups=3, bias=False), nn.BatchNorm2d(6), nn.ReLU()
    net.stem = nn.Sequential(*stem)
    net.seq = nn.Conv1d(4, 8, 5, groups=2)
    net.vol = nn.Conv3d(2, 4, (1, 3, 3), bias=False)
    head = nn.Flatten(), nn.Linear(10, 7, bias=False), nn.LayerNorm(7), nn.Linear(7, 2)
    net.head = nn.Sequential(*head)
    return net


def _rows(count_parameters, model):
    rows, totals = count_parameters(model)
    bad_total = [r["layer"] for r in rows if r["total"] != r["weights"] + r["biases"]]
    assert not bad_total, f"rows {bad_total}: total must be weights + biases"
    return [(r["layer"], r["kind"], r["weights"], r["biases"]) for r in rows], totals


@dlbook.hidden_case(0.5)
def test_rows_by_module_weights_and_biases_by_name(count_parameters):
    model = _unseen_net()
    got, totals = _rows(count_parameters, model)
    layers, want_layers = [row[0] for row in got], [row[0] for row in _reference(model)]
    assert layers == want_layers, (
        f"rows for layers {layers}, expected {want_layers}: every module that owns "
        "parameters itself is a row, in named_modules() order: batch and layer norms too "
        "(kind 'other'), and a container's own nn.Parameter (the root's name is '')"
    )
    for want in _reference(model):
        row = next((r for r in got if r[0] == want[0]), None)
        assert row == want, (
            f"layer {want[0]!r}: (layer, kind, weights, biases) = {row}, expected {want}: a "
            "parameter named 'bias' is a bias and every other one a weight, whatever its shape "
            "(a norm's 1-d weight is a weight)"
        )
    for kind in ("conv", "linear", "other", "all"):
        w, b = _totals(model, kind)
        want = {"weights": w, "biases": b, "total": w + b}
        assert totals.get(kind) == want, (
            f"totals[{kind!r}] = {totals.get(kind)}, expected {want}: sum the rows of each "
            "kind, and all of them for 'all'"
        )


@dlbook.hidden_case(0.5)
def test_a_shared_tensor_counts_once(count_parameters):
    from torch import nn

    model = nn.ModuleDict({key: nn.Linear(5, 5) for key in "ab"})
    model["c"] = nn.Linear(5, 5, bias=False)
    model["b"].weight = model["c"].weight = model["a"].weight  # b keeps its own bias
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


@dlbook.hidden_case(0.5)
def test_torchvision_networks(count_parameters):
    import torch
    import torchvision

    for label in ("mobilenet_v2", "resnet18"):
        with torch.device("meta"):
            model = getattr(torchvision.models, label)()
        _, totals = count_parameters(model)
        for kind in ("conv", "linear", "other", "all"):
            got = totals[kind]["weights"], totals[kind]["biases"]
            want = _totals(model, kind)
            assert got == want, (
                f"torchvision {label}, {kind}: (weights, biases) = {got}, PyTorch's own count "
                f"gives {want}: count every module that owns parameters (batch norms are "
                "'other'), biases by name"
            )


@dlbook.hidden_case(0.5)
def test_bad_input_is_refused(count_parameters):
    import torch
    from torch import nn

    layer = nn.Linear(3, 2)
    for bad in (layer.state_dict(), [layer], nn.Linear, torch.ones(3)):
        what = f"count_parameters({type(bad).__name__} object)"
        instead = "not count: only an nn.Module instance has parameters to count"
        dlbook.must_raise(TypeError, count_parameters, bad, what=what, instead=instead)
