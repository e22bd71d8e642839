"""Chapter 5's hidden tests (grading/05_fully_convolutional/tests): the solution passes them, the untouched
stub fails them, and for every autograded question a plausible wrong answer that passes the notebook's
public self-check fails them, with a message that names the mistake.

The chapter is not executed: only the cells a question needs run here, in-process (the setup, Net1, the
inputs of the checks, the solution of convolutionalize and its twin, the multiply-add counter). Random
standardised images stand in for the CIFAR-10 test images of the windows' self-check."""

import copy
import re
import sys

import jupytext
import pytest
import torch
import yaml
from conftest import CHAPTERS, ROOT

sys.path.insert(0, str(ROOT / "tools"))
import grading_support  # noqa: E402
import make_student  # noqa: E402

STEM = "05_fully_convolutional"
GRADING = ROOT / "grading" / STEM
QUESTIONS = yaml.safe_load((GRADING / "questions.yml").read_text())["questions"]
# question: (cells that must run before the answer, the answer's cell, its self-check cell); each cell
# is named by a fragment of its source found in exactly one code cell
AUTOGRADED = {
    "q5a_net2": ((), "class Net2(", "# Self-check for q5a_net2"),
    "q5b_convolutionalize": (
        (),
        "def convolutionalize(",
        "# Self-check for q5b_convolutionalize",
    ),
    "q5c_windows": ((), "def scores_batched(", "# Self-check for q5c_windows"),
    "q5_ex_coarse": ((), "def coarse_twin(", "# Self-check for q5_ex_coarse"),
    "q5_ex_pool": (
        ("class PooledNet(",),
        "def scores_by_windows(",
        "# Self-check for q5_ex_pool",
    ),
    "q5_ex_ratio": (
        ("import sympy as sp",),
        "def smallest_side(",
        "# Self-check for q5_ex_ratio",
    ),
}
# what every question's cells rely on, run once: the setup, Net1, the checks' inputs, the solution of
# convolutionalize and its self-check (which makes the twin net2), the multiply-add counter
BASE = (
    "# Setup.",
    "net1 = Net1().eval()",
    "# What the self-checks of this section",
    "def convolutionalize(",
    "# Self-check for q5b_convolutionalize",
    "def count_macs(",
)

# Plausible wrong answers, each the body put between a question's solution markers. (function, body)
NET2_SHARES_FEATURES = """\
        convs = [m for m in self.classifier if isinstance(m, nn.Conv2d)]
        linears = [m for m in net1.classifier if isinstance(m, nn.Linear)]
        self.classifier.to_empty(device=next(net1.parameters()).device)
        self.features = net1.features  # saves memory: the features are not copied
        with torch.no_grad():
            for conv, linear in zip(convs, linears):
                conv.weight.copy_(linear.weight.view(conv.weight.shape))
                conv.bias.copy_(linear.bias)
        return self.eval()"""
NET2_WITHOUT_CHECKS = """\
        convs = [m for m in self.classifier if isinstance(m, nn.Conv2d)]
        linears = [m for m in net1.classifier if isinstance(m, nn.Linear)]
        self.to_empty(device=next(net1.parameters()).device)
        with torch.no_grad():
            self.features.load_state_dict(net1.features.state_dict())
            for conv, linear in zip(convs, linears):
                conv.weight.copy_(linear.weight.view(conv.weight.shape))
                conv.bias.copy_(linear.bias)
        return self.eval()"""
_CONVOLUTIONALIZE_HEAD = """\
    if not (
        isinstance(getattr(net, "features", None), nn.Module)
        and isinstance(getattr(net, "classifier", None), nn.Sequential)
    ):
        raise TypeError("convolutionalize needs .features and a .classifier Sequential")
    with torch.no_grad():
        channels, height, width = net.features(torch.zeros(1, *input_size)).shape[1:]
    layers = []
    for index, layer in enumerate(net.classifier):
"""
_CONVOLUTIONALIZE_TAIL = """\
        if layer.in_features != in_channels * kernel[0] * kernel[1]:
            raise ValueError(f"classifier[{index}] does not match; pass the input_size")
        conv = nn.Conv2d(
            in_channels, layer.out_features, kernel, bias=layer.bias is not None,
            device="meta",
        )
        conv.weight = nn.Parameter(
            layer.weight.detach().view(layer.out_features, in_channels, *kernel)
        )
        if layer.bias is not None:
            conv.bias = nn.Parameter(layer.bias.detach())
        layers.append(conv)
    if not any(isinstance(layer, nn.Conv2d) for layer in layers):
        raise ValueError("the classifier has no Linear layer")
    return FullyConvolutional(net.features, nn.Sequential(*layers), input_size).eval()"""
_ELEMENTWISE_FIRST = """\
        if isinstance(layer, (nn.ReLU, nn.Dropout, nn.Identity)):
            layers.append(layer)
            continue
        if not isinstance(layer, nn.Linear):
            raise TypeError(f"classifier[{index}] is {type(layer).__name__}")
"""
FIRST_LINEAR_BY_INDEX = (
    _CONVOLUTIONALIZE_HEAD
    + _ELEMENTWISE_FIRST
    + """\
        first = index == 0  # Net1's classifier starts with its first Linear
        kernel = (height, width) if first else (1, 1)
        in_channels = channels if first else layer.in_features
"""
    + _CONVOLUTIONALIZE_TAIL
)
SQUARE_KERNEL = (
    _CONVOLUTIONALIZE_HEAD
    + _ELEMENTWISE_FIRST
    + """\
        first = not any(isinstance(m, nn.Conv2d) for m in layers)
        kernel = (height, height) if first else (1, 1)  # feature maps are square
        in_channels = channels if first else layer.in_features
"""
    + _CONVOLUTIONALIZE_TAIL
)
ALWAYS_A_BIAS = (
    _CONVOLUTIONALIZE_HEAD
    + _ELEMENTWISE_FIRST
    + """\
        first = not any(isinstance(m, nn.Conv2d) for m in layers)
        kernel = (height, width) if first else (1, 1)
        in_channels = channels if first else layer.in_features
        if layer.in_features != in_channels * kernel[0] * kernel[1]:
            raise ValueError(f"classifier[{index}] does not match; pass the input_size")
        conv = nn.Conv2d(in_channels, layer.out_features, kernel, device="meta")
        conv.weight = nn.Parameter(
            layer.weight.detach().view(layer.out_features, in_channels, *kernel)
        )
        conv.bias = nn.Parameter(layer.bias.detach())
        layers.append(conv)
    if not any(isinstance(layer, nn.Conv2d) for layer in layers):
        raise ValueError("the classifier has no Linear layer")
    return FullyConvolutional(net.features, nn.Sequential(*layers), input_size).eval()"""
)
KEEPS_ANY_OTHER_LAYER = (
    _CONVOLUTIONALIZE_HEAD
    + """\
        if not isinstance(layer, nn.Linear):  # ReLU, Dropout, ...: kept as they are
            layers.append(layer)
            continue
        first = not any(isinstance(m, nn.Conv2d) for m in layers)
        kernel = (height, width) if first else (1, 1)
        in_channels = channels if first else layer.in_features
"""
    + _CONVOLUTIONALIZE_TAIL
)
BATCH_OF_ONE = """\
    if x.dim() != 4 or x.shape[2] < window or x.shape[3] < window:
        raise ValueError(f"expected (N, C, H, W) of at least {window}×{window}")
    channels = x.shape[1]
    rows, cols = x.shape[2] - window + 1, x.shape[3] - window + 1
    windows = F.unfold(x, window)[0].T.reshape(-1, channels, window, window)
    return net(windows).T.reshape(1, -1, rows, cols)"""
# The twin's map (the self-check's reference, and the theorem) instead of the net on the windows.
WINDOWS_BY_THE_TWIN = """\
    if x.dim() != 4 or x.shape[2] < window or x.shape[3] < window:
        raise ValueError(f"expected (N, C, H, W) of at least {window}×{window}")
    return convolutionalize(net, (x.shape[1], window, window))(x)"""
POOL_BY_THE_TWIN = """\
    net(x[:, :, :window, :window])  # the net runs on one crop
    return convolutionalize(net, (x.shape[1], window, window))(x)"""
BATCH_BY_LOOP = """\
    return scores_loop(net, x, window)"""
COARSE_ON_CLASSIFIER_0 = """\
    twin = convolutionalize(net)
    twin.classifier[0].stride = (stride, stride)
    return twin"""
# The stride on the last classifier convolution only: the right entries, fewer multiply-adds than the full
# map (the public check), but every classifier layer before it still runs at every window.
COARSE_ON_THE_LAST_LAYER = """\
    twin = convolutionalize(net)
    last = [m for m in twin.classifier if isinstance(m, nn.Conv2d)][-1]
    last.stride = (stride, stride)
    return twin"""
# isinstance(True, int) holds: True passes for a stride of 1.
COARSE_ACCEPTS_TRUE = """\
    if not (isinstance(stride, int) and stride >= 1):
        raise ValueError(f"stride must be a positive integer, got {stride!r}")
    twin = convolutionalize(net)
    first = next(m for m in twin.classifier if isinstance(m, nn.Conv2d))
    first.stride = (stride, stride)
    return twin"""
JUMP_OF_THE_POOLS = """\
    jump = 1
    for module in net.features.modules():
        if isinstance(module, nn.MaxPool2d):
            jump *= module.stride
    rows = (x.shape[2] - window) // jump + 1
    cols = (x.shape[3] - window) // jump + 1
    crops = torch.cat(
        [
            x[:, :, i * jump : i * jump + window, j * jump : j * jump + window]
            for i in range(rows)
            for j in range(cols)
        ]
    )
    with torch.no_grad():
        return net(crops).T.reshape(1, -1, rows, cols)"""
TYPED_SIDES = """\
    if target >= float(limit):
        raise ValueError(f"target {target} is not below the limit {float(limit):.4f}")
    return {3: 36, 3.5: 45}[target]"""
NO_LIMIT_GUARD = """\
    s = 32
    while macs_net1_windows(s, s) / macs_net2(s, s) < target:
        s += 1
    return s"""

# (question, the line that opens the function, its wrong body, a phrase of the failing hidden test's
# message)
WRONG_ANSWERS = [
    (
        "q5a_net2",
        "def copy_weights_from(",
        NET2_SHARES_FEATURES,
        "share storage with the network",
    ),
    (
        "q5a_net2",
        "def copy_weights_from(",
        NET2_WITHOUT_CHECKS,
        "check the shapes first",
    ),
    (
        "q5b_convolutionalize",
        "def convolutionalize(",
        FIRST_LINEAR_BY_INDEX,
        "a classifier that starts with Dropout",
    ),
    (
        "q5b_convolutionalize",
        "def convolutionalize(",
        SQUARE_KERNEL,
        "refused a net with one Linear and a 4×8×12 map",
    ),
    (
        "q5b_convolutionalize",
        "def convolutionalize(",
        ALWAYS_A_BIAS,
        "refused a net with Linear layers without bias",
    ),
    (
        "q5b_convolutionalize",
        "def convolutionalize(",
        KEEPS_ANY_OTHER_LAYER,
        "accepted a net with a BatchNorm1d",
    ),
    ("q5c_windows", "def scores_batched(", BATCH_OF_ONE, "every image of the batch"),
    ("q5c_windows", "def scores_batched(", BATCH_BY_LOOP, "asks for 1 call(s)"),
    ("q5c_windows", "def scores_loop(", WINDOWS_BY_THE_TWIN, "ran the net 0 times"),
    ("q5c_windows", "def scores_batched(", WINDOWS_BY_THE_TWIN, "ran the net 0 times"),
    ("q5_ex_pool", "def scores_by_windows(", POOL_BY_THE_TWIN, "run on 1 crops"),
    ("q5_ex_coarse", "def coarse_twin(", COARSE_ON_CLASSIFIER_0, "wherever it is"),
    (
        "q5_ex_coarse",
        "def coarse_twin(",
        COARSE_ON_THE_LAST_LAYER,
        "the classifier at the 15 kept windows only",
    ),
    ("q5_ex_coarse", "def coarse_twin(", COARSE_ACCEPTS_TRUE, "coarse_twin(net, True)"),
    (
        "q5_ex_pool",
        "def scores_by_windows(",
        JUMP_OF_THE_POOLS,
        "convolutions included",
    ),
    ("q5_ex_ratio", "def smallest_side(", TYPED_SIDES, "do not type it"),
    ("q5_ex_ratio", "def smallest_side(", NO_LIMIT_GUARD, "scanned for 3 s"),
]


def chapter_cells():
    return [
        c for c in jupytext.read(CHAPTERS / f"{STEM}.md").cells if c.cell_type == "code"
    ]


def cell(cells, fragment):
    found = [c.source for c in cells if fragment in c.source]
    assert len(found) == 1, f"{len(found)} code cells contain {fragment!r}"
    return found[0]


SOLUTION_REGION = re.compile(r"(### BEGIN SOLUTION\n).*?(\n\s*### END SOLUTION)", re.S)


def replace_region(cells, anchor, body):
    """Put body between the solution markers that follow `anchor` (the line that opens a function) in
    the one code cell holding it: the plausible wrong answer a test injects. Edits the cells in place.
    (conftest.replace_solution finds a cell by `def name(` and wants one region in it; Net2's cell has
    two.)"""
    holders = [c for c in cells if anchor in c.source]
    assert len(holders) == 1, f"{len(holders)} code cells contain {anchor!r}"
    source = holders[0].source
    start = source.index(anchor)
    head, tail = source[:start], source[start:]
    tail, count = SOLUTION_REGION.subn(
        lambda m: m.group(1) + body + m.group(2), tail, count=1
    )
    assert count == 1, f"no solution region after {anchor!r}"
    holders[0].source = head + tail


def run(namespace, source, where):
    exec(compile(source, where, "exec"), namespace)


def failures(question, namespace):
    return grading_support.hidden_failures(STEM, question, namespace)


def hidden_cases_of(question):
    return grading_support.hidden_cases(STEM, question)


@pytest.fixture(scope="module")
def base_namespace():
    """The cells every question relies on (BASE), run once with the chapter's solutions."""
    cells = chapter_cells()
    assert cells[0].source.startswith("# Setup."), (
        "the first code cell is not the setup"
    )
    namespace = {}
    for fragment in BASE:
        run(namespace, cell(cells, fragment), fragment)
    # stand-ins for the CIFAR-10 test images (4 standardised 32×32 images) and the sizes the windows'
    # self-check defines
    namespace["batch"] = torch.randn(
        4, 3, 32, 32, generator=torch.Generator().manual_seed(5)
    )
    namespace["SIZE_A"], namespace["SIZE_B"] = (36, 38), (33, 40)
    return namespace


# The self-checks of the windows and of the coarse twin run Net1 on dozens of windows; here they check
# a stand-in for Net1 (same input size and classes, small layers) and its twin: a wrong answer passes
# them or not for the same reason as with Net1.
STAND_IN_FOR_NET1 = {"q5c_windows", "q5_ex_coarse"}


def stand_in_for_net1(namespace):
    """Replace net1 and net2 in namespace by a small network for 32×32 images with 10 classes and its
    twin (the chapter's convolutionalize)."""
    from torch import nn

    class Small(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 8, 5), nn.ReLU(), nn.Conv2d(8, 8, 5)
            )
            self.classifier = nn.Sequential(
                nn.Linear(8 * 24 * 24, 32), nn.ReLU(), nn.Linear(32, 10)
            )

        def forward(self, x):
            return self.classifier(torch.flatten(self.features(x), 1))

    with torch.random.fork_rng():
        torch.manual_seed(6)
        namespace["net1"] = Small().eval()
    namespace["net2"] = namespace["convolutionalize"](namespace["net1"])


def answered(base_namespace, question, cells):
    """A copy of the base namespace with the question's cells (from `cells`) run; returns it and the
    self-check's source."""
    before, answer, check = AUTOGRADED[question]
    namespace = dict(base_namespace)
    for fragment in before:
        run(namespace, cell(cells, fragment), fragment)
    run(namespace, cell(cells, answer), answer)
    return namespace, cell(cells, check)


def test_questions_match_the_chapter_and_the_test_files():
    source = (CHAPTERS / f"{STEM}.md").read_text()
    names = [q["name"] for q in QUESTIONS]
    written = [q["name"] for q in QUESTIONS if q.get("written")]
    assert sorted(p.stem for p in (GRADING / "tests").glob("*.py")) == sorted(
        set(names) - set(written)
    )
    assert sorted(AUTOGRADED) == sorted(set(names) - set(written))
    # the problem's order: Net2, convolutionalize, the equivalence; then the exercises
    posed = [source.index(f"Question `{name}` (") for name in names]
    assert posed == sorted(posed), (
        "the questions are not posed in questions.yml's order"
    )
    for name in set(names) - set(written):
        module, _ = hidden_cases_of(name)
        unit = "point" if module.points == 1 else "points"
        assert f"Question `{name}` (autograded, {module.points:g} {unit})" in source, (
            f"the chapter does not pose {name} with its {module.points} {unit}"
        )
    for name in written:
        assert f"Question `{name}` (written, graded by hand)" in source
        assert f'"written_answer": "{name}"' in source, (
            f"{name}: no answer cell marked in the chapter"
        )


@pytest.mark.parametrize("question", sorted(AUTOGRADED))
def test_the_solution_passes_the_hidden_tests(question, base_namespace):
    """(The solution's self-checks pass when the chapter runs: tests/test_student_edition.py.)"""
    namespace, _ = answered(base_namespace, question, chapter_cells())
    module, cases = hidden_cases_of(question)
    assert module.name == question and module.points > 0 and len(cases) >= 2
    assert all(case.hidden for case in cases)
    assert failures(question, namespace) == {}


@pytest.mark.parametrize("question", sorted(AUTOGRADED))
def test_the_untouched_stub_fails_every_hidden_test(question, base_namespace):
    cells = copy.deepcopy(chapter_cells())
    for c in cells:
        c.source = make_student.stub_source(c.source, "test")
    # the stubbed convolutionalize is not run: the base namespace keeps the solution's, as in a
    # notebook where only this question is left unanswered
    namespace, _ = answered(base_namespace, question, cells)
    _, cases = hidden_cases_of(question)
    failed = failures(question, namespace)
    assert sorted(failed) == sorted(c.test_func.__name__ for c in cases)
    assert all("NotImplementedError" in message for message in failed.values()), failed


@pytest.mark.parametrize(
    "question,anchor,wrong,phrase",
    WRONG_ANSWERS,
    ids=[f"{q}-{i}" for i, (q, _, _, _) in enumerate(WRONG_ANSWERS)],
)
def test_a_wrong_answer_that_passes_the_self_check_fails_a_hidden_test(
    question, anchor, wrong, phrase, base_namespace
):
    cells = copy.deepcopy(chapter_cells())
    replace_region(cells, anchor, wrong)
    namespace, check_cell = answered(base_namespace, question, cells)
    checked = dict(namespace)
    if question in STAND_IN_FOR_NET1:
        stand_in_for_net1(checked)
    run(checked, check_cell, "self-check")  # the public check lets it through
    failed = failures(question, namespace)
    assert failed, f"{question}: the hidden tests let the wrong answer through"
    assert any(phrase in message for message in failed.values()), failed


def test_the_self_check_names_a_wrong_reshape_in_convolutionalize(base_namespace):
    """The channels-last reading of the first Linear weight is caught by the public self-check."""
    cells = copy.deepcopy(chapter_cells())
    source = cell(cells, "def convolutionalize(")
    right = "layer.weight.detach().view(layer.out_features, in_channels, *kernel)"
    assert right in source
    for c in cells:
        if c.source == source:
            c.source = source.replace(
                right,
                "layer.weight.detach().view(layer.out_features, *kernel, in_channels)"
                ".permute(0, 3, 1, 2)",
            )
    namespace, check_cell = answered(base_namespace, "q5b_convolutionalize", cells)
    with pytest.raises(namespace["CheckFailed"], match=re.escape("(out, C, kH, kW)")):
        run(namespace, check_cell, "self-check")
