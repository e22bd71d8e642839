"""q3b_fold_net: the public case (the chapter's self-check) and the hidden tests: fresh
SmallNets in float32, float64 and unseen layers, the net left as it was, bad input."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q3b_fold_net"
points = 2


@test_case(points=0, hidden=False)
def test_a_random_smallnet(fold_net, SmallNet, SmallNetTest, random_bn_statistics):
    """fold_net gives a BN-free SmallNetTest within 1e-8 and leaves the net as it was"""
    import torch

    torch.manual_seed(0)
    net = random_bn_statistics(SmallNet())
    before = [v.clone() for v in net.state_dict().values()]
    folded = dlbook.without_fusion(fold_net, net)
    bns = [m for m in folded.modules() if "BatchNorm" in type(m).__name__]
    assert isinstance(folded, SmallNetTest) and not bns and not folded.training, (
        f"fold_net returned a {type(folded).__name__} (batch norm inside: {bool(bns)}, "
        f"training mode: {folded.training}), not a BN-free SmallNetTest in eval mode"
    )
    assert all(map(torch.equal, before, net.state_dict().values())), (
        "fold_net changed the BN net it was given (its parameters or running "
        "statistics): after folding, net must be as it was"
    )
    x = torch.randn(20, 3, 32, 32)
    with torch.no_grad():
        error = ((net(x) - folded(x)) ** 2).sum().item()
    assert error < 1e-8, (
        f"the folded net differs from the BN net by {error:.2e} on a batch (bound "
        "1e-8): the exercise's first_mismatch finds the first stage whose output "
        "differs"
    )


@dlbook.hidden_case(1)
def test_fresh_nets_fold_within_the_bound(fold_net, SmallNet, SmallNetTest):
    import torch
    from torch import nn

    torch.manual_seed(33)
    generator = torch.Generator().manual_seed(33)

    def randomize(net):
        """Random running statistics and affine parameters in every BN; eval mode."""
        with torch.no_grad():
            for bn in (net.conv1[1], net.conv2[1], net.fc1[1]):
                n = bn.num_features
                bn.running_mean.copy_(2 * torch.rand(n, generator=generator) - 1)
                bn.running_var.copy_(0.01 + 2 * torch.rand(n, generator=generator))
                if bn.affine:
                    bn.weight.copy_(0.5 + 1.5 * torch.rand(n, generator=generator))
                    bn.bias.copy_(torch.rand(n, generator=generator) - 0.5)
        return net.eval()

    def squared_error(net, dtype, what, bound, images):
        x = torch.randn(images, 3, 32, 32, generator=generator).to(dtype)
        folded = dlbook.without_fusion(fold_net, net)
        assert isinstance(folded, SmallNetTest), (
            f"fold_net({what}) returned a {type(folded).__name__}: fill a new SmallNetTest"
        )
        got = next(folded.parameters()).dtype
        assert got == dtype, (
            f"fold_net of a {dtype} SmallNet returned a {got} SmallNetTest: build "
            "it in the dtype of the net it is given (SmallNetTest().to(dtype))"
        )
        assert not folded.training, f"fold_net({what}) is in training mode"
        with torch.no_grad():
            error = float(((net(x) - folded(x)) ** 2).sum())
        assert error < bound, (
            f"fold_net({what}) differs from it by {error:.2e} on a batch of {images} "
            f"random images (bound {bound:g}): fold every stage of the net it is given "
            "with that stage's own BN (not the trained net's), and copy fc2"
        )

    net = randomize(SmallNet())
    # the problem's bound, on a batch as large as the chapter's
    squared_error(net, torch.float32, "a fresh SmallNet", 1e-8, 100)
    net = net.double()
    squared_error(net, torch.float64, "the same SmallNet in float64", 1e-20, 10)
    # the same net made into one the chapter never shows (cheaper than a new SmallNet)
    net.conv1[0] = nn.Conv2d(3, 16, 3, padding=1, bias=False)
    net.conv2[1] = nn.BatchNorm2d(16, affine=False, eps=1e-3)
    net.fc1[1] = nn.BatchNorm1d(1024, eps=0.1)
    what = "a SmallNet with a bias-free conv1, conv2's BN without affine parameters and eps 1e-3, fc1's BN with eps 0.1"
    squared_error(randomize(net.double()), torch.float64, what, 1e-20, 10)


@dlbook.hidden_case(1)
def test_the_net_is_left_as_it_was_and_bad_input_refused(fold_net, SmallNet):
    import torch
    from torch import nn

    torch.manual_seed(34)
    net = SmallNet()
    with torch.no_grad():
        for name in ("conv1", "conv2", "fc1"):
            bn = getattr(net, name)[1]
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.2, 2)
            bn.weight.uniform_(0.5, 2)
    before = {k: v.clone() for k, v in net.eval().state_dict().items()}

    def unchanged():
        after = net.state_dict()
        return after.keys() == before.keys() and all(
            map(torch.equal, before.values(), after.values())
        )

    def fold(net):
        return dlbook.without_fusion(fold_net, net)

    folded = fold(net)
    assert unchanged() and not net.training, (
        "fold_net changed the net it was given: fold copies (fold_bn returns new layers) "
        "and load them into the new SmallNetTest"
    )
    with torch.no_grad():
        for parameter in folded.parameters():
            parameter.add_(1.0)
    assert unchanged(), (
        "the SmallNetTest from fold_net shares tensors with the BN net: changing one "
        "changes the other; copy the values (load_state_dict)"
    )
    what = "fold_net of a SmallNet in training mode"
    dlbook.must_raise(ValueError, fold, net.train(), what=what)
    assert net.training and unchanged(), (
        "fold_net changed a net in training mode (its mode or its parameters) instead of "
        "refusing it"
    )
    what = "fold_net(nn.Linear(3, 3)), which is not a SmallNet,"
    dlbook.must_raise(TypeError, fold, nn.Linear(3, 3), what=what)
