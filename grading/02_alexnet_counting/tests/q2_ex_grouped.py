"""q2_ex_grouped: the public case (the chapter's self-check) and the hidden tests: other group
counts, and a new network at every call that leaves the chapter's AlexNet alone."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "q2_ex_grouped"
points = 1


@test_case(points=0, hidden=False)
def test_every_layer_against_the_lemma(alexnet_grouped, AlexNet):
    """every layer of alexnet_grouped(2) is AlexNet's, grouped where asked"""
    import torch
    from torch import nn

    def layout(model):
        """{conv or linear layer: (output shape, bias or not, its sizes)}"""
        layers = {n: m for n, m in model.named_modules() if isinstance(m, kinds)}
        shapes = {}
        hooks = [
            m.register_forward_hook(lambda m, i, o, n=n: shapes.update({n: o.shape}))
            for n, m in layers.items()
        ]
        with torch.no_grad():
            model(torch.zeros(1, 3, 227, 227, device="meta"))
        for hook in hooks:
            hook.remove()
        names = (
            "in_channels out_channels kernel_size stride padding dilation in_features"
        )
        sizes = {
            n: [getattr(m, a, None) for a in names.split()] for n, m in layers.items()
        }
        return {
            n: (tuple(shapes[n]), m.bias is not None, sizes[n])
            for n, m in layers.items()
        }

    kinds = (nn.Conv2d, nn.Linear)
    with torch.device("meta"):
        dense, grouped = AlexNet(), alexnet_grouped(2)
    want = {n: 1 for n, m in dense.named_modules() if isinstance(m, nn.Conv2d)}
    want |= {"features.3": 2, "features.8": 2, "features.10": 2}
    groups = {
        n: m.groups for n, m in grouped.named_modules() if isinstance(m, nn.Conv2d)
    }
    assert groups != dict.fromkeys(want, 1), (
        "no convolution of the network that alexnet_grouped(2) returns is grouped"
    )
    assert groups.get("features.6", 1) == 1, (
        "conv3 (features.6) must stay dense: in the original it read the channels of "
        "both GPUs"
    )
    assert groups == want, f"groups per conv layer should be {want}, got {groups}"
    dense, grouped = layout(dense), layout(grouped)
    assert list(grouped) == list(dense), (
        f"the layers differ from our AlexNet's: expected {list(dense)}, got "
        f"{list(grouped)}"
    )
    for name, (shape, bias, sizes) in dense.items():
        got_shape, got_bias, got_sizes = grouped[name]
        assert got_shape == shape, (
            f"{name}: output shape {got_shape}, expected {shape}: its geometry is "
            "not that of the layer it replaces"
        )
        assert got_bias == bias, f"{name} has no bias, unlike the layer it replaces"
        assert got_sizes == sizes, (
            f"{name}: (in, out, kernel, stride, padding, dilation, in_features) are "
            f"{got_sizes}, the layer it replaces has {sizes}"
        )


# The problem's AlexNet's convolutions: index in features -> (C_in, C_out, k, stride, padding)
_CONVS = {0: (3, 64, 11, 4, 0), 3: (64, 192, 5, 1, 2), 6: (192, 384, 3, 1, 1)}
_CONVS |= {8: (384, 256, 3, 1, 1), 10: (256, 256, 3, 1, 1)}


def _layout(model):
    """{layer: (type, in, out, kernel, stride, padding, groups, bias?, weight shape)}."""
    from torch import nn

    layout = {}
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            geometry = m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding
            shape = tuple(m.weight.shape)
            layout[name] = ("Conv2d", *geometry, m.groups, m.bias is not None, shape)
        elif isinstance(m, nn.Linear):
            layout[name] = ("Linear", m.in_features, m.out_features, m.bias is not None)
    return layout


@dlbook.hidden_case(0.5)
def test_groups_other_than_two(alexnet_grouped):
    import torch

    for groups in (4, 1):
        with torch.device("meta"):
            model = alexnet_grouped(groups)
            logits = model(torch.zeros(2, 3, 227, 227))
        got = _layout(model)
        for index, (c_in, c_out, k, s, p) in _CONVS.items():
            g, layer = groups if index in (3, 8, 10) else 1, f"features.{index}"
            want = ("Conv2d", c_in, c_out, (k, k), (s, s), (p, p), g, True)
            want += ((c_out, c_in // g, k, k),)
            assert got.get(layer) == want, (
                f"alexnet_grouped({groups}): {layer} is {got.get(layer)}, expected {want} "
                "(type, in, out, kernel, stride, padding, groups, bias, weight shape): group "
                "conv2, conv4 and conv5 by the argument, the rest as in our AlexNet"
            )
        linear = {k: v[1:] for k, v in got.items() if v[0] == "Linear"}
        want = {"classifier.0": (9216, 4096, True), "classifier.2": (4096, 4096, True)}
        want["classifier.4"] = (4096, 1000, True)
        assert linear == want, f"alexnet_grouped({groups}) changed the linear layers"
        assert tuple(logits.shape) == (2, 1000), (
            f"alexnet_grouped({groups}) maps a (2, 3, 227, 227) batch to {tuple(logits.shape)}"
        )


@dlbook.hidden_case(0.5)
def test_a_new_network_at_every_call(alexnet_grouped, alexnet):
    import torch
    from torch import nn

    with torch.device("meta"):
        first, second = alexnet_grouped(2), alexnet_grouped(4)
    shared = {id(p) for p in first.parameters()} & {id(p) for p in second.parameters()}
    assert first is not second and not shared, (
        "two calls of alexnet_grouped share layers: build a new AlexNet() at every call"
    )
    assert first.features[3].groups == 2, (
        "alexnet_grouped(4) changed the network that alexnet_grouped(2) returned"
    )
    dense = [m.groups for m in alexnet.modules() if isinstance(m, nn.Conv2d)]
    assert dense == [1] * 5, (
        f"the chapter's alexnet now has groups {dense}: alexnet_grouped must not change it"
    )
