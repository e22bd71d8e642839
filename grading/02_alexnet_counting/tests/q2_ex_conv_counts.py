"""Hidden tests for q2_ex_conv_counts: layers the self-check never shows (three, four and depthwise groups,
strides 3, odd sizes, with and without a bias) and bad input."""

import os
import runpy
from types import SimpleNamespace

from otter.test_files import test_case

OK_FORMAT = False

name = "q2_ex_conv_counts"
points = 1


@test_case(points=None, hidden=True)
def test_layers_the_self_check_never_shows(conv_counts):
    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    cases = [  # (n, c_in, c_out, k, s, p, groups, bias)
        (19, 6, 9, 3, 3, 1, 3, True),
        (20, 8, 12, 5, 2, 0, 4, False),
        (15, 16, 16, 3, 1, 1, 16, True),
        (9, 5, 7, 9, 1, 0, 1, True),
        (33, 12, 6, 4, 3, 2, 2, False),
    ]
    for n, c_in, c_out, k, s, p, groups, bias in cases:
        with torch.device("meta"):
            layer = nn.Conv2d(
                c_in, c_out, k, stride=s, padding=p, groups=groups, bias=bias
            )
            with FlopCounterMode(display=False) as counter:
                out = layer(torch.zeros(1, c_in, n, n))
        mults = counter.get_total_flops() // 2
        outputs = out.numel()
        want = {
            "out": out.shape[-1],
            "params": sum(t.numel() for t in layer.parameters()),
            "mults": mults,
            "adds": mults - outputs + (outputs if bias else 0),
        }
        got = conv_counts(n, c_in, c_out, k, s=s, p=p, groups=groups, bias=bias)
        got = {key: got.get(key) for key in want} if isinstance(got, dict) else got
        assert got == want, (
            f"conv_counts(n={n}, c_in={c_in}, c_out={c_out}, k={k}, s={s}, p={p}, "
            f"groups={groups}, bias={bias}) = {got}, PyTorch's layer gives {want}"
        )


@test_case(points=None, hidden=True)
def test_bad_input_is_refused(conv_counts):
    bad = {
        "groups=4 do not divide c_in=6": dict(n=8, c_in=6, c_out=8, k=3, groups=4),
        "groups=4 do not divide c_out=6": dict(n=8, c_in=8, c_out=6, k=3, groups=4),
        "a 5x5 kernel on a 3x3 input": dict(n=3, c_in=2, c_out=2, k=5),
    }
    for what, args in bad.items():
        what, instead = f"conv_counts({what})", "not count"
        dlbook.must_raise(ValueError, conv_counts, **args, what=what, instead=instead)
    got = conv_counts(n=3, c_in=2, c_out=2, k=5, p=1)
    assert isinstance(got, dict) and got.get("out") == 1, (
        f"conv_counts(n=3, k=5, p=1) gave {got}: a kernel that just fits the padded input "
        "(n + 2p = k) has one output position"
    )


# The book's helper module from the autograder zip, never the notebook's own copy (the
# tests above use it when otter runs them, after it has read this whole file).
dlbook = SimpleNamespace(
    **runpy.run_path(os.environ.get("DLBOOK_GRADER", "_dlbook_grader.py"))
)
