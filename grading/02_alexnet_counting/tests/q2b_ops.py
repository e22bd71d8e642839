"""Hidden tests for q2b_ops: 1-d, 2-d and 3-d convolutions (grouped, depthwise, without a bias, strided,
padded, dilated, non-square), linear layers on batches and sequences, the parameter-free layers, networks
the chapter never shows (a module called twice, torchvision's SqueezeNet), the model left as it was, and
bad input. Multiplications are compared with PyTorch's FlopCounterMode (two FLOPs per multiply-add)."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q2b_ops"
points = 3


def _calls(model, shape):
    """[(layer, module, input shape, output)] for every leaf-module call of one forward pass, in
    order; the FLOPs PyTorch counts per module; their total."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    calls, handles = [], []
    for layer, module in model.named_modules():
        if not list(module.children()):
            handles.append(
                module.register_forward_hook(
                    lambda m, i, o, layer=layer: calls.append(
                        (layer, m, tuple(i[0].shape), o.detach())
                    )
                )
            )
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model.eval()(torch.zeros(shape))
    finally:
        for handle in handles:
            handle.remove()
    return calls, counter.get_flop_counts(), counter.get_total_flops()


def _window_sizes(pool, h, w):
    """The size of every window of an adaptive average pool on an h x w plane, from the pool's
    own gradient: the inputs each output depends on."""
    import torch

    jac = torch.autograd.functional.jacobian(pool, torch.zeros(1, 1, h, w))
    return (jac.reshape(-1, h * w) != 0).sum(1).tolist()


def _expected(model, shape):
    """[(layer, mults, adds)] per call, by the chapter's conventions, from PyTorch's own counts."""
    from torch import nn

    calls, flops, total = _calls(model, shape)
    prefix, rows, weighted = type(model).__name__, [], 0
    uses = {}
    for layer, *_ in calls:
        uses[layer] = uses.get(layer, 0) + 1
    for layer, module, in_shape, out in calls:
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)):
            key = prefix if layer == "" else f"{prefix}.{layer}"
            mults = sum(flops[key].values()) // 2 // uses[layer]
            weighted += mults
            outputs = out.numel()
            adds = mults - outputs + (outputs if module.bias is not None else 0)
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            h, w = in_shape[-2:]
            sizes = _window_sizes(module, h, w)
            planes = out.numel() // (out.shape[-2] * out.shape[-1])
            mults = planes * sum(1 for size in sizes if size > 1)
            adds = planes * sum(size - 1 for size in sizes)
        else:
            mults = adds = 0
        rows.append((layer, mults, adds))
    assert weighted == total // 2, "the reference's own FLOP count is inconsistent"
    return rows


def _compare(count_ops, model, shape, label, hint):
    want = _expected(model, shape)
    rows = count_ops(model, shape)
    got = [(r["layer"], r["mults"], r["adds"]) for r in rows]
    assert [g[0] for g in got] == [w[0] for w in want], (
        f"{label}: rows for {[g[0] for g in got]}, expected one per leaf-module call, "
        f"{[w[0] for w in want]}"
    )
    for g, w in zip(got, want):
        assert g == w, (
            f"{label}, layer {g[0]!r}: (mults, adds) = {g[1:]}, expected {w[1:]}: {hint}"
        )


def _compare_layers(count_ops, cases, hint):
    """_compare on every (layer, input shape) of cases, labelled by both."""
    for layer, shape in cases:
        _compare(count_ops, layer, shape, f"{layer} on {shape}", hint)


@test_case(points=None, hidden=True)
def test_convolutions_of_every_dimension(count_ops):
    from torch import nn

    cases = [
        (nn.Conv1d(6, 4, 5, stride=2, padding=1, dilation=2, groups=2), (3, 6, 40)),
        (
            nn.Conv2d(
                12,
                8,
                (3, 5),
                stride=(2, 1),
                padding=(1, 2),
                dilation=(1, 2),
                groups=4,
                bias=False,
            ),
            (2, 12, 17, 23),
        ),
        (nn.Conv2d(8, 8, 3, padding=1, groups=8), (5, 8, 10, 6)),
        (nn.Conv3d(4, 6, (2, 3, 3), stride=2, padding=1), (1, 4, 7, 9, 11)),
        (nn.Conv3d(4, 2, 1, bias=False), (2, 4, 3, 5, 4)),
    ]
    _compare_layers(
        count_ops,
        cases,
        "a convolution's output is N x C_out x (its spatial sizes), each a dot product of "
        "(C_in / groups) times the kernel's elements; read both from the shapes, in 1, 2 or 3 "
        "dimensions",
    )


@test_case(points=None, hidden=True)
def test_linear_layers_on_batches_and_sequences(count_ops):
    from torch import nn

    cases = [
        (nn.Linear(7, 5), (3, 7)),
        (nn.Linear(7, 5, bias=False), (2, 4, 7)),
        (nn.Sequential(nn.Flatten(), nn.Linear(12, 3)), (6, 3, 2, 2)),
    ]
    _compare_layers(
        count_ops,
        cases,
        "a Linear layer computes out_features outputs for every row of its input (the batch "
        "and any other leading dimension), each a dot product of in_features terms",
    )


@test_case(points=None, hidden=True)
def test_parameter_free_layers(count_ops):
    from torch import nn

    model = nn.Sequential(
        nn.ReLU(),
        nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Dropout(0.3),
        nn.Identity(),
        nn.AdaptiveAvgPool2d((3, 4)),
        nn.AdaptiveAvgPool2d((3, 4)),
        nn.Flatten(),
    )
    _compare(
        count_ops,
        model,
        (2, 5, 15, 21),
        "ReLU, max-pool, dropout, identity, average pools",
        "ReLU, max-pool, dropout, identity and flatten cost nothing; a mean of w numbers costs "
        "w - 1 additions and one multiplication, a window of one nothing",
    )


@test_case(points=None, hidden=True)
def test_networks_the_chapter_never_shows(count_ops):
    import torchvision
    from torch import nn

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(5, 5, 3, padding=1, bias=False)
            self.act = nn.ReLU()

        def forward(self, x):
            return self.act(self.conv(self.act(self.conv(x))))

    class Unseen(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(
                nn.Conv2d(3, 5, (3, 5), stride=(1, 2), padding=(0, 2)), nn.ReLU()
            )
            self.block = Twice()
            self.pool = nn.MaxPool2d(2, ceil_mode=True)
            self.avg = nn.AdaptiveAvgPool2d((2, 3))
            self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(30, 4))

        def forward(self, x):
            return self.head(self.avg(self.pool(self.block(self.stem(x)))))

    _compare(
        count_ops,
        Unseen(),
        (2, 3, 11, 17),
        "a network with a module called twice",
        "count every call of a leaf module, with the shapes of that call",
    )
    _compare(
        count_ops,
        torchvision.models.squeezenet1_1(),
        (1, 3, 97, 130),
        "torchvision's SqueezeNet 1.1 on a 97 x 130 image",
        "every convolution call counts, and the final average pool averages whole planes",
    )


@test_case(points=None, hidden=True)
def test_the_model_is_left_as_it_was(count_ops):
    import torch
    from torch import nn

    model = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2)
    )
    for training in (True, False):
        model.train(training)
        first = count_ops(model, (1, 3, 8, 8))
        assert model.training == training and all(
            m.training == training for m in model.modules()
        ), (
            f"a model in {'training' if training else 'evaluation'} mode came back in "
            f"{'training' if model.training else 'evaluation'} mode: restore the mode you found"
        )
        left = [
            n
            for n, m in model.named_modules()
            if m._forward_hooks or m._forward_pre_hooks
        ]
        assert not left, (
            f"count_ops left hooks on {left}: remove every hook it registered"
        )
        again = count_ops(model, (1, 3, 8, 8))
        assert again == first, (
            "a second call of count_ops on the same model gave other rows"
        )
    for shape in ([1, 3, 8, 8], torch.Size([1, 3, 8, 8])):
        rows = count_ops(model, shape)
        assert len(rows) == 4, (
            f"input_shape given as {type(shape).__name__} gave {len(rows)} rows"
        )
    assert all(p.grad is None for p in model.parameters()), (
        "count_ops must not compute gradients"
    )


@test_case(points=None, hidden=True)
def test_bad_input_is_refused(count_ops):
    from torch import nn

    layer = nn.Conv2d(3, 4, 3)
    dlbook.must_raise(
        TypeError,
        count_ops,
        layer.state_dict(),
        (1, 3, 8, 8),
        what="count_ops(a state_dict, ...)",
        instead="not count: it needs an nn.Module",
    )
    for shape in (
        (1, 3, 0, 8),
        (1, 3, 8.0, 8),
        "1, 3, 8, 8",
        (8,),
        None,
        (1, 3, -8, 8),
    ):
        dlbook.must_raise(
            ValueError,
            count_ops,
            layer,
            shape,
            what=f"count_ops(model, input_shape={shape!r})",
            instead="not count: input_shape is a tuple of at least two positive ints, "
            "the batch first",
        )
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Sequential(nn.BatchNorm2d(4), nn.Tanh()))
    what = "a BatchNorm2d nested in a Sequential has no rule in OP_RULES: count_ops"
    instead = "naming it, not count it as zero"
    message = str(
        dlbook.must_raise(
            TypeError, count_ops, net, (1, 3, 8, 8), what=what, instead=instead
        )
    )
    assert "1.0" in message and "BatchNorm2d" in message, (
        f"the error {message!r} must name the layer without a rule, its name ('1.0') and type "
        "(BatchNorm2d)"
    )
    left = [n for n, m in net.named_modules() if m._forward_hooks]
    assert not left, f"after refusing, count_ops left hooks on {left}"


# The book's helper module from the autograder zip, never the notebook's own copy (the
# tests above use it when otter runs them, after it has read this whole file).
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)
