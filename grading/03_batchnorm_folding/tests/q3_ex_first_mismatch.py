"""q3_ex_first_mismatch: the public case (the chapter's self-check) and the hidden tests:
other breaks, another rtol, misleading own activations, nets in training mode."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q3_ex_first_mismatch"
points = 1


@test_case(points=0, hidden=False)
def test_a_fold_broken_in_known_stages(first_mismatch, SmallNet, random_bn_statistics):
    """first_mismatch passes an exact fold and flags the first stage of a broken one"""
    import torch
    from torch.ao.quantization import fuse_modules

    torch.manual_seed(0)
    net = random_bn_statistics(SmallNet())
    pairs = [[f"{stage}.0", f"{stage}.1"] for stage in ("conv1", "conv2", "fc1")]
    exact = fuse_modules(net, pairs)  # a copy of net, folded by PyTorch's fusion
    x = torch.randn(20, 3, 32, 32)
    found = first_mismatch(net, exact, x)
    assert found is None, (
        f"the correct fold was flagged at {found!r}: compare relative errors (not "
        "absolute ones) and feed both stages the same input"
    )
    for broken in (["fc1"], ["conv2"], ["conv1", "fc2"], ["fc2"]):
        with torch.no_grad():
            for stage in broken:
                getattr(exact, stage)[0].weight *= 2
            found = first_mismatch(net, exact, x)
            for stage in broken:
                getattr(exact, stage)[0].weight /= 2  # exactly back: a power of two
        assert found == broken[0], (
            f"a net broken at {broken} was flagged at {found!r}, expected "
            f"{broken[0]!r}: check the stages in the order conv1, conv2, fc1, fc2"
        )


@dlbook.hidden_case(0.5)
def test_finds_the_first_stage_on_the_same_input(
    first_mismatch, SmallNet, SmallNetTest
):
    import copy

    import torch
    from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

    torch.manual_seed(35)
    generator = torch.Generator().manual_seed(35)
    net = SmallNet().eval()
    with torch.no_grad():
        for name in ("conv1", "conv2", "fc1"):
            bn = getattr(net, name)[1]
            n = bn.num_features
            bn.running_mean.copy_(torch.rand(n, generator=generator) - 0.5)
            bn.running_var.copy_(0.2 + torch.rand(n, generator=generator))
            bn.weight.copy_(0.5 + torch.rand(n, generator=generator))
            bn.bias.copy_(torch.rand(n, generator=generator) - 0.5)

    def fold_into(test, stages):
        """Fold `stages` of net into test with PyTorch's own fusion, and copy fc2."""
        with torch.no_grad():
            for name in stages:
                fuse = fuse_conv_bn_eval if name[:4] == "conv" else fuse_linear_bn_eval
                fused = fuse(*getattr(net, name)[:2]).state_dict()
                getattr(test, name)[0].load_state_dict(fused)
            test.fc2[0].load_state_dict(net.fc2[0].state_dict())
        return test

    test = fold_into(SmallNetTest().eval(), ("conv1", "conv2", "fc1"))
    x = torch.randn(2, 3, 32, 32, generator=generator)
    got = first_mismatch(net, test, x)
    assert got is None, (
        f"an exact fold of a fresh net was flagged at {got!r}: compare relative "
        "errors and feed both nets' stages the same input"
    )

    def with_edits(edits, **kwargs):
        """first_mismatch on a copy of the exact fold, its tensors edited: t -> a t + c."""
        edited = copy.deepcopy(test)
        with torch.no_grad():
            for stage, attribute, a, c in edits:
                tensor = getattr(getattr(edited, stage)[0], attribute)
                tensor.copy_(a * tensor + c)
        return first_mismatch(net, edited, x, **kwargs)

    for edits, want in (
        ([("conv2", "weight", 1.001, 0), ("fc1", "bias", 1, 1)], "conv2"),
        ([("fc2", "bias", 1, 0.5)], "fc2"),
        ([("conv1", "bias", -1, 0), ("conv2", "bias", -1, 0)], "conv1"),
    ):
        got = with_edits(edits)
        assert got == want, (
            f"a fold broken at {[edit[0] for edit in edits]} was flagged at {got!r}, "
            f"expected {want!r}: check conv1, conv2, fc1, fc2 in this order"
        )

    # fc1 off by a known relative error: the tolerance decides
    with torch.no_grad():
        before_relu = net.fc1[1](net.fc1[0](net.conv2(net.conv1(x)).flatten(1)))
        a, b = torch.relu(before_relu), torch.relu(before_relu + 1e-3)
    relative = float((a - b).norm() / a.norm())
    assert 1e-6 < relative < 1e-2, relative  # the test's own premise
    for rtol, want in ((10 * relative, None), (relative / 10, "fc1")):
        got = with_edits([("fc1", "bias", 1, 1e-3)], rtol=rtol)
        assert got == want, (
            f"with rtol={rtol:.1e} and fc1 off by a relative {relative:.1e}, "
            f"first_mismatch returned {got!r}, expected {want!r}: use the rtol argument"
        )

    # conv1's channel 0 made large and constant, so a shift of its channel 1 is a tiny
    # relative error that conv2 (which reads channels 1-15 only) amplifies: on the same
    # input every stage agrees within rtol = 1e-2, on each net's own it does not.
    with torch.no_grad():
        net.conv1[1].weight[0] = 0.0
        net.conv1[1].bias[0] = 1000.0
        net.conv2[0].weight[:, 0] = 0.0
        fold_into(test, ("conv1", "conv2"))
        test.conv1[0].bias[1] += 1.0
        a1, b1 = net.conv1(x), test.conv1(x)
        own, same = test.conv2(b1), net.conv2(a1)
    small, large = (a1 - b1).norm() / a1.norm(), (own - same).norm() / same.norm()
    assert small < 1e-2 < large  # the test's own premise
    got = first_mismatch(net, test, x, rtol=1e-2)
    assert got is None, (
        f"a net whose conv1 differs by less than rtol was flagged at {got!r}: feed each "
        "stage of both nets the BN net's activation, not each net its own"
    )


@dlbook.hidden_case(0.5)
def test_nets_in_training_mode_are_refused(first_mismatch, SmallNet, SmallNetTest):
    import torch

    torch.manual_seed(36)
    net, net_test = SmallNet(), SmallNetTest()
    x = torch.randn(2, 3, 32, 32)
    for train_net, which in ((True, "BN net"), (False, "folded net")):
        net.train(train_net)
        net_test.train(not train_net)
        what = f"first_mismatch with the {which} in training mode"
        dlbook.must_raise(ValueError, first_mismatch, net, net_test, x, what=what)
