"""q3_ex_bn_before: the public case (the chapter's self-check) and the hidden tests: sizes,
eps and dtypes the self-check never shows, the inputs left untouched, bad input refused."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q3_ex_bn_before"
points = 2


@test_case(points=0, hidden=False)
def test_every_bias_and_affine_combination(fold_bn_into_next, random_bn_statistics):
    """fold_bn_into_next equals linear(bn(x)) for every bias/affine combination"""
    import itertools

    import torch
    from torch import nn

    torch.manual_seed(0)
    for bias, affine in itertools.product((True, False), repeat=2):
        bn = random_bn_statistics(nn.BatchNorm1d(6, affine=affine).double())
        linear = nn.Linear(6, 4, bias=bias).double()
        folded = dlbook.without_fusion(fold_bn_into_next, bn, linear)
        x, zero = torch.randn(8, 6).double(), torch.zeros(1, 6).double()
        with torch.no_grad():  # differences of outputs do not see the bias
            got_0, want_0 = folded(zero), linear(bn(zero))
            got, want = folded(x) - got_0, linear(bn(x)) - want_0
        where = f"(bias={bias}, affine={affine})"
        assert torch.allclose(got, want, atol=1e-10), (
            f"the weight is wrong {where}: folded(x) - folded(0) differs from "
            "linear(bn(x)) - linear(bn(0)); compare it with your W'"
        )
        assert torch.allclose(got_0, want_0, atol=1e-10), (
            f"the weight is right but the bias is wrong {where}: folded(0) differs "
            "from linear(bn(0)); compare it with your b'"
        )


@dlbook.hidden_case(1)
def test_unseen_sizes_eps_and_dtypes(fold_bn_into_next):
    import copy
    import itertools

    import torch
    from torch import nn

    def state(module):
        return [(k, v.tolist()) for k, v in module.state_dict().items()]

    generator = torch.Generator().manual_seed(37)
    for dtype, bias, affine in itertools.product(
        (torch.float64, torch.float32), (True, False), (True, False)
    ):
        bn = nn.BatchNorm1d(9, eps=0.25, affine=affine).to(dtype)
        linear = nn.Linear(9, 3, bias=bias).to(dtype)
        with torch.no_grad():
            bn.running_mean.copy_(torch.randn(9, generator=generator))
            bn.running_var.copy_(0.01 + 0.5 * torch.rand(9, generator=generator))
            if affine:
                bn.weight.copy_(torch.randn(9, generator=generator))
                bn.bias.copy_(torch.randn(9, generator=generator))
        reference = copy.deepcopy(nn.Sequential(bn.eval(), linear)).double()
        before = state(bn), state(linear)
        x = torch.randn(6, 9, generator=generator).to(dtype)
        where = f"fold_bn_into_next({bn}, {linear}) in {dtype}"
        with torch.no_grad():
            want = reference(x.double())
            folded = dlbook.without_fusion(fold_bn_into_next, bn, linear)
            assert isinstance(folded, nn.Linear) and folded is not linear, (
                f"{where} must return a new nn.Linear"
            )
            assert folded.weight.dtype == dtype, (
                f"{where} returned {folded.weight.dtype} weights"
            )
            got = folded(x).double()
        error = float((got - want).abs().max())
        tolerance = 1e-10 if dtype == torch.float64 else 1e-4 * float(want.abs().max())
        assert error < tolerance, (
            f"{where} differs from linear(bn(x)) by {error:.2e}: W' = W diag(s), b' = b + W (beta - s mu), "
            "with s = gamma / sqrt(running_var + bn.eps), the BN's own eps"
        )
        for module, saved in zip((bn, linear), before):
            assert state(module) == saved, (
                f"{where} changed its {type(module).__name__}: fold copies"
            )


@dlbook.hidden_case(1)
def test_bad_input_is_refused(fold_bn_into_next):
    from torch import nn

    linear = nn.Linear(4, 2)
    untracked = nn.BatchNorm1d(4, track_running_stats=False).eval()
    for bn, layer, error, what in [
        (nn.BatchNorm2d(4).eval(), linear, TypeError, "a BatchNorm2d"),
        (nn.BatchNorm1d(4).eval(), nn.Conv1d(4, 2, 1), TypeError, "a Conv1d"),
        (nn.BatchNorm1d(5).eval(), linear, ValueError, "5 features into a Linear of 4"),
        (nn.BatchNorm1d(4), linear, ValueError, "a BatchNorm1d in training mode"),
        (untracked, linear, ValueError, "a BatchNorm1d without running statistics"),
    ]:
        what = f"fold_bn_into_next with {what}"
        dlbook.must_raise(error, fold_bn_into_next, bn, layer, what=what)
