"""q2b_ops: the public cases (the chapter's self-check) and the hidden tests: 1-3-d convolutions,
linear layers on batches and sequences, parameter-free layers, unseen networks (a module called
twice, SqueezeNet), the model left as it was, bad input; multiplications as FlopCounterMode's."""

import os
from collections import Counter, OrderedDict
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q2b_ops"
points = 3


@test_case(points=0, hidden=False)
def test_alexnet_layer_by_layer(count_ops):
    """AlexNet's conv and linear layers agree with FlopCounterMode, biases or not"""
    import torch
    import torchvision
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    shape = (1, 3, 227, 227)
    with torch.device("meta"):
        net, bias_free = torchvision.models.alexnet(), torchvision.models.alexnet()
    for module in bias_free.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            module.bias = None
    rows = {row["layer"]: row for row in count_ops(net, shape)}
    free = {row["layer"]: row for row in count_ops(bias_free, shape)}
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net.eval()(torch.zeros(shape, device="meta"))
    for name, module in net.named_modules():
        if not isinstance(module, (nn.Conv2d, nn.Linear)):
            continue
        layer = f"{name} ({type(module).__name__})"
        assert name in rows, f"count_ops has no row for {layer}"
        theirs = sum(counter.get_flop_counts()[f"AlexNet.{name}"].values())
        mults, adds = rows[name]["mults"], rows[name]["adds"]
        assert 2 * mults == theirs, (
            f"count_ops gives {mults:,} multiplications for {layer}, too "
            f"{'few' if 2 * mults < theirs else 'many'} for FlopCounterMode (which "
            "counts two FLOPs per multiply-add)"
        )
        assert free[name]["mults"] == mults and free[name]["adds"] < adds, (
            f"{layer} without a bias: the additions are wrong; its bias is module.bias "
            "(None when there is no bias)"
        )


@test_case(points=0, hidden=False)
def test_odd_conv_and_no_rule(count_ops):
    """a strided, padded, dilated, grouped conv at batch 2 counted; a GELU refused"""
    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        odd = nn.Conv2d(12, 8, (3, 5), stride=2, padding=3, dilation=2, groups=4)
        shape = tuple(odd(torch.zeros(2, 12, 31, 29)).shape)
    mults = counter.get_total_flops() // 2  # two FLOPs per multiply-add
    want = [(shape, mults)]  # the adds: the first case compares them
    rows = count_ops(odd, (2, 12, 31, 29))
    got = [(row["output_shape"], row["mults"]) for row in rows]
    assert got == want, (
        f"{odd} on (2, 12, 31, 29): (output shape, mults) = {got}, expected "
        f"{want}: count every output of every image"
    )
    net = nn.Sequential(nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 2))
    what = "count_ops on Linear, GELU, Linear"
    instead = "naming '1' (GELU): a layer missing from OP_RULES is an error, not zero"
    error = dlbook.must_raise(
        TypeError, count_ops, net, (1, 8), what=what, instead=instead
    )
    assert "'1' (GELU)" in str(error), f"{what} raised TypeError({error}), {instead}"


def _expected(model, shape):
    """[(layer, mults, adds)] per leaf-module call, from FlopCounterMode and autograd."""
    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    calls, leaves = [], [m for m in model.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(lambda *call: calls.append(call)) for m in leaves]
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model.eval()(torch.zeros(shape))
    finally:
        for hook in hooks:
            hook.remove()
    names, uses = {m: n for n, m in model.named_modules()}, Counter(c[0] for c in calls)
    rows, dense, flops = [], 0, counter.get_flop_counts()
    for module, (x, *_), out in calls:
        layer, mults, adds = names[module], 0, 0
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)):
            key = f"{type(model).__name__}.{layer}" if layer else type(model).__name__
            mults = sum(flops[key].values()) // 2 // uses[module]
            dense += mults
            adds = mults - (0 if module.bias is not None else out.numel())
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            h, w = x.shape[-2:]
            jac = torch.autograd.functional.jacobian(module, torch.zeros(1, 1, h, w))
            sizes = (jac.reshape(-1, h * w) != 0).sum(1).tolist()
            planes = out.numel() // (out.shape[-2] * out.shape[-1])
            mults = planes * sum(1 for size in sizes if size > 1)
            adds = planes * sum(size - 1 for size in sizes)
        rows.append((layer, mults, adds))
    assert dense == counter.get_total_flops() // 2, "the reference's FLOPs differ"
    return rows


def _compare(count_ops, cases, hint):
    """count_ops against _expected, call by call, on each (model, input shape[, label])."""
    for model, shape, *label in cases:
        want, label = _expected(model, shape), (label or [f"{model} on {shape}"])[0]
        got = [(r["layer"], r["mults"], r["adds"]) for r in count_ops(model, shape)]
        assert [g[0] for g in got] == [w[0] for w in want], (
            f"{label}: rows for {[g[0] for g in got]}, expected one per leaf-module "
            f"call, {[w[0] for w in want]}"
        )
        for g, w in zip(got, want):
            assert g == w, f"{label}, layer {g[0]!r}: (mults, adds) = {g[1:]}, " + (
                f"expected {w[1:]}: {hint}"
            )


@dlbook.hidden_case(0.5)
def test_convolutions_of_every_dimension(count_ops):
    from torch import nn

    conv1d = nn.Conv1d(6, 4, 5, stride=2, padding=1, dilation=2, groups=2)
    conv2d = nn.Conv2d(12, 8, (3, 5), (2, 1), (1, 2), (1, 2), groups=4, bias=False)
    cases = [(conv1d, (3, 6, 40)), (conv2d, (2, 12, 17, 23))]
    cases += [(nn.Conv2d(8, 8, 3, padding=1, groups=8), (5, 8, 10, 6))]
    cases += [(nn.Conv3d(4, 6, (2, 3, 3), stride=2, padding=1), (1, 4, 7, 9, 11))]
    cases += [(nn.Conv3d(4, 2, 1, bias=False), (2, 4, 3, 5, 4))]
    hint = (
        "N x C_out x (its spatial sizes) outputs, each a dot product of (C_in / groups) "
        "times the kernel's elements: read both from the shapes, in 1, 2 or 3 dimensions"
    )
    _compare(count_ops, cases, hint)


@dlbook.hidden_case(0.5)
def test_linear_layers_on_batches_and_sequences(count_ops):
    from torch import nn

    flat = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    cases = [(nn.Linear(7, 5), (3, 7)), (nn.Linear(7, 5, bias=False), (2, 4, 7))]
    hint = (
        "a Linear layer computes out_features outputs for every row of its input (the "
        "batch and any other leading dimension), each a dot product of in_features terms"
    )
    _compare(count_ops, [*cases, (flat, (6, 3, 2, 2))], hint)


@dlbook.hidden_case(0.5)
def test_parameter_free_layers(count_ops):
    import torch
    from torch import nn

    free = [nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True), nn.Dropout(0.3)]
    pools = [nn.AdaptiveAvgPool2d((3, 4)), nn.AdaptiveAvgPool2d((3, 4)), nn.Flatten()]
    model = nn.Sequential(*free, nn.Identity(), *pools)
    # one parameter, on no layer: the statement names no model without parameters
    model.register_parameter("unused", nn.Parameter(torch.zeros(1)))
    label = "ReLU, max-pool, dropout, identity, average pools"
    hint = (
        "ReLU, max-pool, dropout, identity and flatten cost nothing; a mean of w numbers "
        "costs w - 1 additions and one multiplication, a window of one nothing"
    )
    _compare(count_ops, [(model, (2, 5, 15, 21), label)], hint)


@dlbook.hidden_case(0.5)
def test_networks_the_chapter_never_shows(count_ops):
    import torchvision
    from torch import nn

    class Twice(nn.Module):  # a convolution and a ReLU, each called twice
        def __init__(self):
            super().__init__()
            self.conv, self.act = nn.Conv2d(5, 5, 3, padding=1, bias=False), nn.ReLU()

        def forward(self, x):
            return self.act(self.conv(self.act(self.conv(x))))

    stem = [nn.Conv2d(3, 5, (3, 5), stride=(1, 2), padding=(0, 2)), nn.ReLU()]
    head = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(30, 4))
    pool, avg = nn.MaxPool2d(2, ceil_mode=True), nn.AdaptiveAvgPool2d((2, 3))
    layers = dict(stem=nn.Sequential(*stem), block=Twice(), pool=pool, avg=avg)
    unseen = nn.Sequential(OrderedDict(**layers, head=head))
    label = "a network with a module called twice"
    hint = "count every call of a leaf module, with the shapes of that call"
    _compare(count_ops, [(unseen, (2, 3, 11, 17), label)], hint)
    squeezenet = torchvision.models.squeezenet1_1()
    label = "torchvision's SqueezeNet 1.1 on a 97 x 130 image"
    hint = "every convolution call counts; the last average pool averages whole planes"
    _compare(count_ops, [(squeezenet, (1, 3, 97, 130), label)], hint)


@dlbook.hidden_case(0.5)
def test_the_model_is_left_as_it_was(count_ops):
    import torch
    from torch import nn

    layers = nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2)
    model = nn.Sequential(*layers)
    mode = {True: "training", False: "evaluation"}
    for training in (True, False):
        first = count_ops(model.train(training), (1, 3, 8, 8))
        assert all(m.training == training for m in model.modules()), (
            f"a model in {mode[training]} mode came back in {mode[model.training]} "
            "mode: restore the mode you found"
        )
        hooked = [n for n, m in model.named_modules() if m._forward_hooks]
        hooked += [n for n, m in model.named_modules() if m._forward_pre_hooks]
        assert not hooked, f"count_ops left hooks on {hooked}: remove them"
        again = count_ops(model, (1, 3, 8, 8))
        assert again == first, "a second call of count_ops on the model gave other rows"
    for shape in ([1, 3, 8, 8], torch.Size([1, 3, 8, 8])):
        rows = len(count_ops(model, shape))
        assert rows == 4, (
            f"input_shape given as a {type(shape).__name__} gave {rows} rows"
        )
    assert all(p.grad is None for p in model.parameters()), "count_ops made gradients"


@dlbook.hidden_case(0.5)
def test_bad_input_is_refused(count_ops):
    from torch import nn

    layer, must_raise = nn.Conv2d(3, 4, 3), dlbook.must_raise
    what = "count_ops(a state_dict, not a module, ...)"
    must_raise(TypeError, count_ops, layer.state_dict(), (1, 3, 8, 8), what=what)
    instead = "not count: input_shape is 2+ positive ints in a tuple, the batch first"
    shapes = (1, 3, 0, 8), (1, 3, 8.0, 8), "1, 3, 8, 8", (8,), None, (1, 3, -8, 8)
    for shape in shapes:
        what = f"count_ops(model, input_shape={shape!r})"
        must_raise(ValueError, count_ops, layer, shape, what=what, instead=instead)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sequential(nn.BatchNorm2d(4), nn.Tanh()))
    why = dict(instead="naming it, not count it as zero")
    why["what"] = "a BatchNorm2d nested in a Sequential has no rule: count_ops"
    error = must_raise(TypeError, count_ops, net, (1, 3, 8, 8), **why)
    assert "1.0" in str(error) and "BatchNorm2d" in str(error), (
        f"the error {error} must name the layer without a rule: '1.0' (BatchNorm2d)"
    )
    assert not [m for m in net.modules() if m._forward_hooks], "hooks left behind"
