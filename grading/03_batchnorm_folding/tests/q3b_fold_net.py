"""Hidden tests for q3b_fold_net: fresh SmallNets with random BN statistics (float32 within the problem's
bound, float64, and a variant the chapter never shows: a bias-free conv1, a BN without affine parameters,
BNs with their own eps), the net left as it was, and bad input refused."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q3b_fold_net"
points = 2


@test_case(points=None, hidden=True)
def test_fresh_nets_fold_within_the_bound(fold_net, SmallNet, SmallNetTest):
    import torch
    from torch import nn

    torch.manual_seed(33)
    generator = torch.Generator().manual_seed(33)

    def randomize(net):
        """Random running statistics and affine parameters in every BN; eval mode."""
        with torch.no_grad():
            for name in ("conv1", "conv2", "fc1"):
                bn = getattr(net, name)[1]
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
        got_dtype = next(folded.parameters()).dtype
        assert got_dtype == dtype, (
            f"fold_net of a {dtype} SmallNet returned a {got_dtype} SmallNetTest: build "
            "it in the dtype of the net it is given (SmallNetTest().to(dtype))"
        )
        assert not folded.training, (
            f"fold_net({what}) is in training mode: call .eval()"
        )
        with torch.no_grad():
            error = float(((net(x) - folded(x)) ** 2).sum())
        assert error < bound, (
            f"fold_net({what}) differs from it by {error:.2e} on a batch of {images} "
            f"random images (bound {bound:g}): fold every stage of the net it is given "
            "with that stage's own BN (not the trained net's), and copy fc2"
        )

    net = randomize(SmallNet())
    # the problem's bound, on a batch as large as the chapter's
    squared_error(
        net, torch.float32, "a fresh SmallNet with random BN statistics", 1e-8, 100
    )
    net = net.double()
    squared_error(net, torch.float64, "the same SmallNet in float64", 1e-20, 10)
    # the same net made into one the chapter never shows (cheaper than a new SmallNet)
    variant = net
    variant.conv1[0] = nn.Conv2d(3, 16, 3, padding=1, bias=False)
    variant.conv2[1] = nn.BatchNorm2d(16, affine=False, eps=1e-3)
    variant.fc1[1] = nn.BatchNorm1d(1024, eps=0.1)
    variant = randomize(variant.double())
    squared_error(
        variant,
        torch.float64,
        "a SmallNet with a bias-free conv1, conv2's BN without affine parameters and "
        "eps 1e-3, fc1's BN with eps 0.1",
        1e-20,
        10,
    )


@test_case(points=None, hidden=True)
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
    net.eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}

    def unchanged():
        after = net.state_dict()
        return after.keys() == before.keys() and all(
            torch.equal(before[k], after[k]) for k in before
        )

    folded = dlbook.without_fusion(fold_net, net)
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
    net.train()
    try:
        dlbook.without_fusion(fold_net, net)
    except ValueError:
        pass
    else:
        raise AssertionError(
            "fold_net accepted a SmallNet in training mode: it must raise ValueError "
            "(fold_bn refuses a BN in training mode), not switch the net to eval mode"
        )
    assert net.training and unchanged(), (
        "fold_net changed a net in training mode (its mode or its parameters) instead of "
        "refusing it"
    )
    try:
        dlbook.without_fusion(fold_net, nn.Linear(3, 3))
    except TypeError:
        pass
    except Exception as error:  # noqa: BLE001 - the wrong kind of error
        raise AssertionError(
            f"fold_net(nn.Linear(3, 3)) raised {type(error).__name__}: {error}; expected "
            "TypeError saying that fold_net expects a SmallNet"
        ) from None
    else:
        raise AssertionError("fold_net(nn.Linear(3, 3)) must raise TypeError")


# The book's helper module from the autograder zip, never the notebook's own copy (the
# tests above use it when otter runs them, after it has read this whole file).
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)
