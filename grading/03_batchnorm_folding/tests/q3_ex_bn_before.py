"""Hidden tests for q3_ex_bn_before: sizes, eps and dtypes the self-check never shows, the inputs left
untouched, and bad input refused with the right error."""

from otter.test_files import test_case

OK_FORMAT = False

name = "q3_ex_bn_before"
points = 2


@test_case(points=None, hidden=True)
def test_unseen_sizes_eps_and_dtypes(fold_bn_into_next):
    import copy

    import torch
    from torch import nn

    generator = torch.Generator().manual_seed(37)
    for dtype in (torch.float64, torch.float32):
        for bias in (True, False):
            for affine in (True, False):
                bn = nn.BatchNorm1d(9, eps=0.25, affine=affine).to(dtype)
                linear = nn.Linear(9, 3, bias=bias).to(dtype)
                with torch.no_grad():
                    bn.running_mean.copy_(torch.randn(9, generator=generator))
                    bn.running_var.copy_(
                        0.01 + 0.5 * torch.rand(9, generator=generator)
                    )
                    if affine:
                        bn.weight.copy_(torch.randn(9, generator=generator))
                        bn.bias.copy_(torch.randn(9, generator=generator))
                bn.eval()
                bn_before, linear_before = copy.deepcopy(bn), copy.deepcopy(linear)
                x = torch.randn(6, 9, generator=generator).to(dtype)
                with torch.no_grad():
                    reference = (
                        copy.deepcopy(linear).double(),
                        copy.deepcopy(bn).double(),
                    )
                    want = reference[0](reference[1](x.double()))
                    folded = fold_bn_into_next(bn, linear)
                    where = (
                        f"fold_bn_into_next(BatchNorm1d(9, eps=0.25, affine={affine}), "
                        f"Linear(9, 3, bias={bias})) in {dtype}"
                    )
                    assert isinstance(folded, nn.Linear) and folded is not linear, (
                        f"{where} must return a new nn.Linear"
                    )
                    assert folded.weight.dtype == dtype, (
                        f"{where} returned {folded.weight.dtype} weights"
                    )
                    got = folded(x).double()
                error = float((got - want).abs().max())
                tolerance = (
                    1e-10 if dtype == torch.float64 else 1e-4 * float(want.abs().max())
                )
                assert error < tolerance, (
                    f"{where} differs from linear(bn(x)) by {error:.2e}: W' = W diag(s), "
                    "b' = b + W (beta - s mu), with s = gamma / sqrt(running_var + "
                    "bn.eps), the BN's own eps"
                )
                for module, before in ((bn, bn_before), (linear, linear_before)):
                    after, saved = module.state_dict(), before.state_dict()
                    assert after.keys() == saved.keys() and all(
                        torch.equal(saved[k], after[k]) for k in saved
                    ), f"{where} changed its {type(module).__name__}: fold copies"


@test_case(points=None, hidden=True)
def test_bad_input_is_refused(fold_bn_into_next):
    from torch import nn

    cases = [
        (nn.BatchNorm2d(4).eval(), nn.Linear(4, 2), TypeError, "a BatchNorm2d"),
        (nn.BatchNorm1d(4).eval(), nn.Conv1d(4, 2, 1), TypeError, "a Conv1d"),
        (
            nn.BatchNorm1d(5).eval(),
            nn.Linear(4, 2),
            ValueError,
            "5 features into a Linear reading 4",
        ),
        (
            nn.BatchNorm1d(4),
            nn.Linear(4, 2),
            ValueError,
            "a BatchNorm1d in training mode",
        ),
        (
            nn.BatchNorm1d(4, track_running_stats=False).eval(),
            nn.Linear(4, 2),
            ValueError,
            "a BatchNorm1d without running statistics",
        ),
    ]
    for bn, layer, expected, what in cases:
        try:
            fold_bn_into_next(bn, layer)
        except expected:
            continue
        except Exception as error:  # noqa: BLE001 - the wrong kind of error
            raise AssertionError(
                f"fold_bn_into_next with {what} raised {type(error).__name__}: {error}; "
                f"expected {expected.__name__}"
            ) from None
        raise AssertionError(
            f"fold_bn_into_next accepted {what}: it must raise {expected.__name__}"
        )
