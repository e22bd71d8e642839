"""Hidden tests for q2_ex_grouped: group counts other than two, and a new network at every call that
leaves the chapter's AlexNet alone."""

from otter.test_files import test_case

OK_FORMAT = False

name = "q2_ex_grouped"
points = 1

# The problem's AlexNet's convolutions: index in features -> (C_in, C_out, kernel, stride, padding)
_CONVS = {
    0: (3, 64, 11, 4, 0),
    3: (64, 192, 5, 1, 2),
    6: (192, 384, 3, 1, 1),
    8: (384, 256, 3, 1, 1),
    10: (256, 256, 3, 1, 1),
}


def _layout(model):
    """{layer: (type, in, out, kernel, stride, padding, groups, bias?, weight shape)}."""
    from torch import nn

    layout = {}
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            layout[name] = (
                "Conv2d",
                m.in_channels,
                m.out_channels,
                m.kernel_size,
                m.stride,
                m.padding,
                m.groups,
                m.bias is not None,
                tuple(m.weight.shape),
            )
        elif isinstance(m, nn.Linear):
            layout[name] = ("Linear", m.in_features, m.out_features, m.bias is not None)
    return layout


@test_case(points=None, hidden=True)
def test_groups_other_than_two(alexnet_grouped):
    import torch

    for groups in (4, 1):
        with torch.device("meta"):
            model = alexnet_grouped(groups)
            logits = model(torch.zeros(2, 3, 227, 227))
        got = _layout(model)
        for index, (c_in, c_out, k, s, p) in _CONVS.items():
            g = groups if index in (3, 8, 10) else 1
            want = (
                "Conv2d",
                c_in,
                c_out,
                (k, k),
                (s, s),
                (p, p),
                g,
                True,
                (c_out, c_in // g, k, k),
            )
            layer = f"features.{index}"
            assert got.get(layer) == want, (
                f"alexnet_grouped({groups}): {layer} is {got.get(layer)}, expected {want} "
                "(type, in, out, kernel, stride, padding, groups, bias, weight shape): group "
                "conv2, conv4 and conv5 by the argument, copy the rest of the layer"
            )
        linear = {k: v for k, v in got.items() if v[0] == "Linear"}
        want_linear = {
            "classifier.0": ("Linear", 9216, 4096, True),
            "classifier.2": ("Linear", 4096, 4096, True),
            "classifier.4": ("Linear", 4096, 1000, True),
        }
        assert linear == want_linear, (
            f"alexnet_grouped({groups}) changed the linear layers"
        )
        assert tuple(logits.shape) == (2, 1000), (
            f"alexnet_grouped({groups}) maps a (2, 3, 227, 227) batch to {tuple(logits.shape)}"
        )


@test_case(points=None, hidden=True)
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
