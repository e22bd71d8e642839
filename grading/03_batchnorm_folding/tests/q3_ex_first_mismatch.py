"""Hidden tests for q3_ex_first_mismatch: nets the self-check never shows (random BN statistics,
folded with PyTorch's own fusion), breaks in other stages, a tolerance other than the default, a net
whose own activations would mislead, and nets in training mode refused."""

from otter.test_files import test_case

OK_FORMAT = False

name = "q3_ex_first_mismatch"
points = 1


@test_case(points=None, hidden=True)
def test_finds_the_first_stage_on_the_same_input(
    first_mismatch, SmallNet, SmallNetTest
):
    import torch
    from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

    torch.manual_seed(35)
    generator = torch.Generator().manual_seed(35)
    net = SmallNet()
    with torch.no_grad():
        for name in ("conv1", "conv2", "fc1"):
            bn = getattr(net, name)[1]
            n = bn.num_features
            bn.running_mean.copy_(torch.rand(n, generator=generator) - 0.5)
            bn.running_var.copy_(0.2 + torch.rand(n, generator=generator))
            bn.weight.copy_(0.5 + torch.rand(n, generator=generator))
            bn.bias.copy_(torch.rand(n, generator=generator) - 0.5)
    net.eval()
    fuse_of = {
        "conv1": fuse_conv_bn_eval,
        "conv2": fuse_conv_bn_eval,
        "fc1": fuse_linear_bn_eval,
    }

    def fold_into(test, stages):
        """Fold `stages` of net into test with PyTorch's own fusion (not the notebook's fold)."""
        with torch.no_grad():
            for name in stages:
                fused = fuse_of[name](getattr(net, name)[0], getattr(net, name)[1])
                getattr(test, name)[0].load_state_dict(fused.state_dict())
        return test

    test = fold_into(SmallNetTest(), fuse_of)
    with torch.no_grad():
        test.fc2[0].load_state_dict(net.fc2[0].state_dict())
    test.eval()
    x = torch.randn(2, 3, 32, 32, generator=generator)
    got = first_mismatch(net, test, x)
    assert got is None, (
        f"an exact fold of a fresh net was flagged at {got!r}: compare relative "
        "errors and feed both nets' stages the same input"
    )

    def with_edits(edits, **kwargs):
        """first_mismatch on the exact fold with some layers edited, then restored."""
        saved = []
        with torch.no_grad():
            for stage, attribute, change in edits:
                tensor = getattr(getattr(test, stage)[0], attribute)
                saved.append((tensor, tensor.clone()))
                tensor.copy_(change(tensor))
        try:
            return first_mismatch(net, test, x, **kwargs)
        finally:
            with torch.no_grad():
                for tensor, original in saved:
                    tensor.copy_(original)

    for edits, want in (
        (
            [
                ("conv2", "weight", lambda w: 1.001 * w),
                ("fc1", "bias", lambda b: b + 1),
            ],
            "conv2",
        ),
        ([("fc2", "bias", lambda b: b + 0.5)], "fc2"),
        ([("conv1", "bias", lambda b: -b), ("conv2", "bias", lambda b: -b)], "conv1"),
    ):
        got = with_edits(edits)
        stages = [stage for stage, _, _ in edits]
        assert got == want, (
            f"a fold broken at {stages} was flagged at {got!r}, expected {want!r}: "
            "check conv1, conv2, fc1, fc2 in this order"
        )

    # fc1 off by a known relative error: the tolerance decides
    off = [("fc1", "bias", lambda b: b + 1e-3)]
    with torch.no_grad():
        hidden = net.conv2(net.conv1(x)).flatten(1)
        before_relu = net.fc1[1](net.fc1[0](hidden))
        a, b = torch.relu(before_relu), torch.relu(before_relu + 1e-3)
    relative = float((a - b).norm() / a.norm())
    assert 1e-6 < relative < 1e-2, relative  # the test's own premise
    for rtol, want in ((10 * relative, None), (relative / 10, "fc1")):
        got = with_edits(off, rtol=rtol)
        assert got == want, (
            f"with rtol={rtol:.1e} and fc1 off by a relative {relative:.1e}, "
            f"first_mismatch returned {got!r}, expected {want!r}: use the rtol argument"
        )

    # A small error in conv1 that conv2 amplifies: conv1's channel 0 is made large and
    # constant, so a shift of channel 1 is a tiny relative error of conv1's output; conv2
    # reads only channels 1-15, so run on the folded net's own activation it looks badly
    # wrong. On the same input every stage agrees within rtol = 1e-2.
    with torch.no_grad():
        net.conv1[1].weight[0] = 0.0
        net.conv1[1].bias[0] = 1000.0
        net.conv2[0].weight[:, 0] = 0.0
        fold_into(test, ("conv1", "conv2"))
        test.conv1[0].bias[1] += 1.0
        a1, b1 = net.conv1(x), test.conv1(x)
        own, same = test.conv2(b1), net.conv2(a1)
    assert (
        float((a1 - b1).norm() / a1.norm())
        < 1e-2
        < float((own - same).norm() / same.norm())
    )  # the test's own premise
    got = first_mismatch(net, test, x, rtol=1e-2)
    assert got is None, (
        f"a net whose conv1 differs by less than rtol was flagged at {got!r}: feed each "
        "stage of both nets the BN net's activation, not each net its own"
    )


@test_case(points=None, hidden=True)
def test_nets_in_training_mode_are_refused(first_mismatch, SmallNet, SmallNetTest):
    import torch

    torch.manual_seed(36)
    net, net_test = SmallNet(), SmallNetTest()
    x = torch.randn(2, 3, 32, 32)
    for train_net, train_test in ((True, False), (False, True)):
        net.train(train_net)
        net_test.train(train_test)
        which = "BN net" if train_net else "folded net"
        try:
            first_mismatch(net, net_test, x)
        except ValueError:
            continue
        except Exception as error:  # noqa: BLE001 - the wrong kind of error
            raise AssertionError(
                f"first_mismatch with the {which} in training mode raised "
                f"{type(error).__name__}: {error}; expected ValueError"
            ) from None
        raise AssertionError(
            f"first_mismatch accepted the {which} in training mode: raise ValueError "
            "(call .eval() first)"
        )
