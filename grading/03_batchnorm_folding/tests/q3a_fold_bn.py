"""q3a_fold_bn: the public cases (the chapter's self-check) and the hidden tests: the
inputs left untouched, layers and BNs the self-check never shows, bad input refused."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q3a_fold_bn"
points = 3


@test_case(points=0, hidden=False)
def test_small_layer_pairs(fold_bn, random_bn_statistics):
    """fold_bn is bn(layer(x)) on 12 small float64 pairs and leaves them unchanged"""
    import itertools

    import torch
    from torch import nn

    def state(m):
        return m.training, [(k, v.tolist()) for k, v in m.state_dict().items()]

    torch.manual_seed(0)
    for bias, affine in itertools.product((True, False), repeat=2):
        for layer, shape in [
            (nn.Conv2d(3, 6, 3, padding=1, bias=bias), (4, 3, 9, 9)),
            (nn.Conv2d(4, 6, 3, stride=2, groups=2, bias=bias), (4, 4, 9, 9)),
            (nn.Linear(7, 5, bias=bias), (4, 7)),
        ]:
            kind = nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d
            bn = random_bn_statistics(kind(len(layer.weight), affine=affine)).double()
            layer, x = layer.double(), torch.randn(shape, dtype=torch.float64)
            before = state(layer), state(bn)
            folded = dlbook.without_fusion(fold_bn, layer, bn)
            assert folded is not layer and state(layer) == before[0], (
                "fold_bn changed the layer it was given: fold a copy (copy.deepcopy)"
            )
            assert state(bn) == before[1], (
                "fold_bn changed the batch norm it was given: leave bn as it was"
            )
            assert type(folded) is type(layer), (
                f"fold_bn returned a {type(folded).__name__}, not a single "
                f"{type(layer).__name__} that replaces the pair"
            )
            what = f"{layer} + BN (affine={affine})"
            with torch.no_grad():
                zero = torch.zeros_like(x[:1])
                got_0, want_0 = folded(zero), bn(layer(zero))
                got, want = folded(x) - got_0, bn(layer(x)) - want_0
            assert got.shape == want.shape and (got - want).abs().max() <= 1e-12, (
                f"the folded weight is wrong for {what}: its outputs minus their value "
                "at x = 0 differ from bn(layer(x))'s"
            )
            assert (got_0 - want_0).abs().max() <= 1e-12, (
                f"the weight is right but the bias is wrong for {what}: at x = 0 the "
                "output differs from bn(layer(0))"
            )


@test_case(points=0, hidden=False)
def test_bad_input_refused(fold_bn):
    """fold_bn refuses 5 bad inputs with the right error"""
    from torch import nn

    linear, untracked = nn.Linear(4, 3), nn.BatchNorm1d(3, track_running_stats=False)
    conv, transposed = nn.Conv2d(3, 4, 3), nn.ConvTranspose2d(3, 4, 3)
    for layer, bn, error, what in [
        (linear, nn.BatchNorm1d(3), ValueError, "a BN in training mode"),
        (linear, nn.BatchNorm1d(5).eval(), ValueError, "3 outputs into a BN of 5"),
        (conv, nn.BatchNorm1d(4).eval(), TypeError, "a Conv2d and a BatchNorm1d"),
        (linear, untracked.eval(), ValueError, "a BN without running statistics"),
        (transposed, nn.BatchNorm2d(4).eval(), TypeError, "a ConvTranspose2d"),
    ]:
        dlbook.must_raise(error, fold_bn, layer, bn, what=f"fold_bn with {what}")


def _state(module):
    """A module's state dict as lists, to compare before and after."""
    return [(k, v.tolist()) for k, v in module.state_dict().items()]


@dlbook.hidden_case(1)
def test_the_layer_and_the_bn_are_left_as_they_were(fold_bn):
    import torch
    from torch import nn

    torch.manual_seed(32)
    for layer, bn in (
        (nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4)),
        (nn.Linear(6, 5), nn.BatchNorm1d(5)),
    ):
        with torch.no_grad():
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
            bn.weight.uniform_(0.5, 2)
            bn.bias.uniform_(-1, 1)
        layer_before, bn_before = _state(layer), _state(bn.eval())
        folded = dlbook.without_fusion(fold_bn, layer, bn)
        where = f"fold_bn({type(layer).__name__}(bias={layer.bias is not None}), ...)"
        assert folded is not layer, (
            f"{where} returned the layer it was given: return a new layer (a copy)"
        )
        assert _state(layer) == layer_before, (
            f"{where} changed the layer it was given: fold a copy (copy.deepcopy)"
        )
        assert _state(bn) == bn_before, f"{where} changed the batch norm it was given"
        assert not bn.training and bn.eps == 1e-5, (
            f"{where} changed the batch norm's mode or eps"
        )
        with torch.no_grad():
            folded.weight.add_(1.0)
        assert _state(layer) == layer_before, (
            f"{where}: the folded layer shares its weight tensor with the original, so "
            "changing one changes the other: give the folded layer tensors of its own"
        )


@dlbook.hidden_case(1)
def test_unseen_layers_and_statistics(fold_bn):
    import copy

    import torch
    from torch.nn import BatchNorm1d, BatchNorm2d, Conv2d, Linear, Sequential

    generator = torch.Generator().manual_seed(31)

    def uniform(n, low, high, dtype):
        return low + (high - low) * torch.rand(n, generator=generator, dtype=dtype)

    f64, f32, wide = torch.float64, torch.float32, (0.05, 4.0)
    copy_it = "fold a copy of the layer (copy.deepcopy)"
    own_eps = "use the BN's own bn.eps, not PyTorch's default 1e-5"
    # (layer, BN, input shape, dtype, BN variance range, what a fold that fails here missed)
    cases = [
        (Conv2d(4, 6, 3, padding=2, dilation=2), BatchNorm2d(6), (2, 4, 11, 11), f64, wide,
         f"keep the convolution's dilation: {copy_it} rather than building a new one from some of its settings"),
        (Conv2d(6, 6, 3, groups=6, bias=False), BatchNorm2d(6, affine=False), (2, 6, 8, 8), f64, wide,
         "a depthwise convolution (groups = channels) without bias, BN without affine parameters: scale dim 0 "
         "of the weight, gamma = 1 and beta = 0"),
        (Conv2d(3, 5, (1, 3), stride=(2, 1), padding=(0, 1), padding_mode="circular"), BatchNorm2d(5),
         (2, 3, 7, 6), f64, wide, f"keep the convolution's padding mode, stride and rectangular kernel: {copy_it}"),
        (Conv2d(2, 4, 1), BatchNorm2d(4, eps=1e-3, momentum=None), (3, 2, 5, 5), f64, (1e-4, 1e-2),
         f"this BN has eps = 1e-3 and small variances: {own_eps}"),
        (Linear(9, 2), BatchNorm1d(2, eps=0.1), (5, 9), f64, (1e-3, 0.2), f"this BN has eps = 0.1: {own_eps}"),
        (Linear(5, 8, bias=False), BatchNorm1d(8, affine=False, eps=0.5), (4, 5), f64, wide,
         "a Linear without bias and a BN without affine parameters and eps = 0.5: b = 0, gamma = 1, beta = 0, "
         "and bn.eps"),
        (Conv2d(3, 8, 3, padding=1), BatchNorm2d(8), (2, 3, 10, 10), f32, wide,
         "in float32 the folded layer must stay float32 and agree to float32 rounding"),
    ]  # fmt: skip
    for layer, bn, shape, dtype, var_range, hint in cases:
        layer, bn = layer.to(dtype).eval(), bn.to(dtype).eval()
        with torch.no_grad():
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator))
            if layer.bias is not None:
                layer.bias.copy_(uniform(len(layer.bias), -1, 1, dtype))
            n = bn.num_features
            bn.running_mean.copy_(uniform(n, -2, 2, dtype))
            bn.running_var.copy_(uniform(n, *var_range, dtype))
            if bn.affine:
                bn.weight.copy_(uniform(n, -2, 2, dtype))
                bn.bias.copy_(uniform(n, -1, 1, dtype))
        x = torch.randn(shape, generator=generator).to(dtype)
        described = f"fold_bn({layer}, {bn}) in {dtype}"
        with torch.no_grad():
            want = copy.deepcopy(Sequential(layer, bn)).double()(x.double()).to(dtype)
            folded = dlbook.without_fusion(fold_bn, layer, bn)
            assert isinstance(folded, type(layer)), (
                f"{described} returned a {type(folded).__name__}, expected a new {type(layer).__name__}"
            )
            assert folded.weight.dtype == dtype, (
                f"{described} returned {folded.weight.dtype} weights: {hint}"
            )
            got = folded(x)
        tolerance = 1e-10 if dtype == f64 else 1e-5 * float(want.abs().max())
        assert got.shape == want.shape, (
            f"{described} gives outputs of shape {tuple(got.shape)}, expected {tuple(want.shape)}: {hint}"
        )
        error = float((got - want).abs().max())
        assert error < tolerance, (
            f"{described} differs from bn(layer(x)) by {error:.2e}: {hint}"
        )


@dlbook.hidden_case(1)
def test_bad_input_is_refused(fold_bn):
    from torch import nn

    linear, conv = nn.Linear(4, 5), nn.Conv2d(3, 4, 3)
    untracked = nn.BatchNorm2d(4, track_running_stats=False).eval()
    for layer, bn, error, what in [
        (linear, nn.BatchNorm2d(5).eval(), TypeError, "a Linear and a BatchNorm2d"),
        (nn.Conv1d(3, 4, 3), nn.BatchNorm1d(4).eval(), TypeError, "a Conv1d"),
        (conv, nn.BatchNorm3d(4).eval(), TypeError, "a Conv2d and a BatchNorm3d"),
        (nn.Linear(4, 3), nn.LayerNorm(3), TypeError, "a Linear and a LayerNorm"),
        (conv, nn.BatchNorm2d(4), ValueError, "a BatchNorm2d in training mode"),
        (conv, untracked, ValueError, "a BatchNorm2d without running statistics"),
        (conv, nn.BatchNorm2d(6).eval(), ValueError, "4 channels into a BN of 6"),
    ]:
        what = f"fold_bn with {what}"
        dlbook.must_raise(error, dlbook.without_fusion, fold_bn, layer, bn, what=what)
