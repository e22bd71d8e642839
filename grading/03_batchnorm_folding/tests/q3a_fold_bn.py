"""Hidden tests for q3a_fold_bn: layers and BNs the self-check never shows (dilated, depthwise,
circular-padded, 1x1 and rectangular convolutions, BNs with their own eps and tiny variances, float32),
the inputs left untouched, and every kind of bad input refused with the right error."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q3a_fold_bn"
points = 3


@test_case(points=None, hidden=True)
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
        bn.eval()
        layer_before = {k: v.clone() for k, v in layer.state_dict().items()}
        bn_before = {k: v.clone() for k, v in bn.state_dict().items()}
        folded = dlbook.without_fusion(fold_bn, layer, bn)
        where = f"fold_bn({type(layer).__name__}(bias={layer.bias is not None}), ...)"
        assert folded is not layer, (
            f"{where} returned the layer it was given: return a new layer (a copy)"
        )
        layer_after, bn_after = layer.state_dict(), bn.state_dict()
        assert layer_after.keys() == layer_before.keys() and all(
            torch.equal(layer_before[k], layer_after[k]) for k in layer_before
        ), f"{where} changed the layer it was given: fold a copy (copy.deepcopy)"
        assert bn_after.keys() == bn_before.keys() and all(
            torch.equal(bn_before[k], bn_after[k]) for k in bn_before
        ), f"{where} changed the batch norm it was given"
        assert not bn.training and bn.eps == 1e-5, (
            f"{where} changed the batch norm's mode or eps"
        )
        with torch.no_grad():
            folded.weight.add_(1.0)
        assert torch.equal(layer.weight, layer_before["weight"]), (
            f"{where}: the folded layer shares its weight tensor with the original, so "
            "changing one changes the other: give the folded layer tensors of its own"
        )


@test_case(points=None, hidden=True)
def test_unseen_layers_and_statistics(fold_bn):
    import copy

    import torch
    from torch import nn

    generator = torch.Generator().manual_seed(31)

    def uniform(n, low, high, dtype):
        return low + (high - low) * torch.rand(n, generator=generator, dtype=dtype)

    def randomized(layer, bn, dtype, var_range=(0.05, 4.0)):
        layer, bn = layer.to(dtype), bn.to(dtype)
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
        return layer.eval(), bn.eval()

    f64, f32 = torch.float64, torch.float32
    # (layer, BN, input shape, dtype, BN variance range, what a fold that fails here missed)
    cases = [
        (
            nn.Conv2d(4, 6, 3, padding=2, dilation=2),
            nn.BatchNorm2d(6),
            (2, 4, 11, 11),
            f64,
            (0.05, 4.0),
            "keep the convolution's dilation: fold a copy of the layer (copy.deepcopy) "
            "rather than building a new one from some of its settings",
        ),
        (
            nn.Conv2d(6, 6, 3, groups=6, bias=False),
            nn.BatchNorm2d(6, affine=False),
            (2, 6, 8, 8),
            f64,
            (0.05, 4.0),
            "a depthwise convolution (groups = channels) without bias, BN without affine "
            "parameters: scale dim 0 of the weight, gamma = 1 and beta = 0",
        ),
        (
            nn.Conv2d(
                3, 5, (1, 3), stride=(2, 1), padding=(0, 1), padding_mode="circular"
            ),
            nn.BatchNorm2d(5),
            (2, 3, 7, 6),
            f64,
            (0.05, 4.0),
            "keep the convolution's padding mode, stride and rectangular kernel: fold a "
            "copy of the layer (copy.deepcopy)",
        ),
        (
            nn.Conv2d(2, 4, 1),
            nn.BatchNorm2d(4, eps=1e-3, momentum=None),
            (3, 2, 5, 5),
            f64,
            (1e-4, 1e-2),
            "this BN has eps = 1e-3 and small variances: use the BN's own bn.eps, not "
            "PyTorch's default 1e-5",
        ),
        (
            nn.Linear(9, 2),
            nn.BatchNorm1d(2, eps=0.1),
            (5, 9),
            f64,
            (1e-3, 0.2),
            "this BN has eps = 0.1: use the BN's own bn.eps, not PyTorch's default 1e-5",
        ),
        (
            nn.Linear(5, 8, bias=False),
            nn.BatchNorm1d(8, affine=False, eps=0.5),
            (4, 5),
            f64,
            (0.05, 4.0),
            "a Linear without bias and a BN without affine parameters and eps = 0.5: "
            "b = 0, gamma = 1, beta = 0, and bn.eps",
        ),
        (
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            (2, 3, 10, 10),
            f32,
            (0.05, 4.0),
            "in float32 the folded layer must stay float32 and agree to float32 rounding",
        ),
    ]
    for layer, bn, shape, dtype, var_range, hint in cases:
        layer, bn = randomized(layer, bn, dtype, var_range)
        x = torch.randn(shape, generator=generator).to(dtype)
        described = f"fold_bn({layer}, {bn}) in {dtype}"
        with torch.no_grad():
            reference = copy.deepcopy(bn).double(), copy.deepcopy(layer).double()
            want = reference[0](reference[1](x.double())).to(dtype)
            folded = dlbook.without_fusion(fold_bn, layer, bn)
            assert isinstance(folded, type(layer)), (
                f"{described} returned a {type(folded).__name__}, expected a new "
                f"{type(layer).__name__}"
            )
            assert folded.weight.dtype == dtype, (
                f"{described} returned {folded.weight.dtype} weights: {hint}"
            )
            got = folded(x)
        tolerance = 1e-10 if dtype == f64 else 1e-5 * float(want.abs().max())
        assert got.shape == want.shape, (
            f"{described} gives outputs of shape {tuple(got.shape)}, expected "
            f"{tuple(want.shape)}: {hint}"
        )
        error = float((got - want).abs().max())
        assert error < tolerance, (
            f"{described} differs from bn(layer(x)) by {error:.2e}: {hint}"
        )


@test_case(points=None, hidden=True)
def test_bad_input_is_refused(fold_bn):
    from torch import nn

    cases = [
        (
            nn.Linear(4, 5),
            nn.BatchNorm2d(5).eval(),
            TypeError,
            "a Linear and a BatchNorm2d",
        ),
        (nn.Conv1d(3, 4, 3), nn.BatchNorm1d(4).eval(), TypeError, "a Conv1d"),
        (
            nn.Conv2d(3, 4, 3),
            nn.BatchNorm3d(4).eval(),
            TypeError,
            "a Conv2d and a BatchNorm3d",
        ),
        (nn.Linear(4, 3), nn.LayerNorm(3), TypeError, "a Linear and a LayerNorm"),
        (
            nn.Conv2d(3, 4, 3),
            nn.BatchNorm2d(4),
            ValueError,
            "a BatchNorm2d in training mode",
        ),
        (
            nn.Conv2d(3, 4, 3),
            nn.BatchNorm2d(4, track_running_stats=False).eval(),
            ValueError,
            "a BatchNorm2d without running statistics",
        ),
        (
            nn.Conv2d(3, 8, 3),
            nn.BatchNorm2d(6).eval(),
            ValueError,
            "8 channels into a BN of 6",
        ),
    ]
    for layer, bn, expected, what in cases:
        try:
            dlbook.without_fusion(fold_bn, layer, bn)
        except expected:
            continue
        except Exception as error:  # noqa: BLE001 - the wrong kind of error
            raise AssertionError(
                f"fold_bn with {what} raised {type(error).__name__}: {error}; expected "
                f"{expected.__name__} with a message saying what to do"
            ) from None
        raise AssertionError(
            f"fold_bn accepted {what}: it must raise {expected.__name__}"
        )


# The book's helper module from the autograder zip, never the notebook's own copy (the
# tests above use it when otter runs them, after it has read this whole file).
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)
