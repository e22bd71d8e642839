"""Chapter 4's hidden tests (grading/04_receptive_field/tests): the solution passes them, the untouched stub
fails them, and for every autograded question a plausible wrong answer that passes the notebook's public
self-check fails them, with a message that names the mistake.

Budget: the chapter is not executed. The cells the answers and their self-checks need are run once in this
process (the setup, the definitions, the two small networks); the slow checks of the page (200 random stacks,
the brute force, the figures, training and the ERF) are skipped or reduced to their definitions."""

import ast
import copy
import re
import sys

import jupytext
import pytest
import yaml
from conftest import CHAPTERS, ROOT, replace_solution

sys.path.insert(0, str(ROOT / "tools"))
import grading_support  # noqa: E402
import make_student  # noqa: E402

STEM = "04_receptive_field"
GRADING = ROOT / "grading" / STEM
QUESTIONS = yaml.safe_load((GRADING / "questions.yml").read_text())["questions"]
AUTOGRADED = {
    "q4a_out_size": "out_size",
    "q4b_receptive_field": "receptive_field",
    "q4_ex_unseen": "unseen_pixels",
    "q4_ex_spread": "path_spread",
}

# --- q4a_out_size ---------------------------------------------------------------------------------------
# Checks the range and the fit, but not the type: out_size(10.0, 3) = 8.0.
ACCEPTS_FLOATS = """\
    if min(n, k, s, d) < 1 or p < 0:
        raise ValueError(f"n, k, s, d must be >= 1 and p >= 0, got {(n, k, s, p, d)}")
    span = d * (k - 1) + 1
    if n + 2 * p < span:
        raise ValueError(f"input of size n={n}, padding p={p}: the kernel spans {span}")
    return (n + 2 * p - span) // s + 1"""
# Compares the input with the kernel size: forgets that padding helps and dilation widens.
FIT_IGNORES_PADDING_AND_DILATION = """\
    for value in (n, k, s, p, d):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"sizes must be integers, got {value!r}")
    if min(n, k, s, d) < 1 or p < 0:
        raise ValueError(f"n, k, s, d must be >= 1 and p >= 0, got {(n, k, s, p, d)}")
    if n < k:
        raise ValueError(f"input of size n={n} is smaller than the kernel k={k}")
    return (n + 2 * p - d * (k - 1) - 1) // s + 1"""

# --- q4b_receptive_field --------------------------------------------------------------------------------
# Updates the jump before adding the padding: P grows by p_l J_l instead of p_l J_(l-1). Invisible on the
# page's stacks, whose padded layers all have stride 1.
P_AFTER_JUMP = """\
    layers = list(layers)
    if not layers:
        raise ValueError("empty stack: pass at least one layer")
    r, J, P = 1, 1, 0
    for layer in layers:
        g = geometry(layer, axis)
        if g is None:
            continue
        r += g.d * (g.k - 1) * J
        J *= g.s
        P += g.p * J
    return Field(r, J, P)"""
NO_EMPTY_CHECK = """\
    r, J, P = 1, 1, 0
    for layer in layers:
        g = geometry(layer, axis)
        if g is not None:
            r, P, J = r + g.d * (g.k - 1) * J, P + g.p * J, J * g.s
    return Field(r, J, P)"""
AXIS_IGNORED = """\
    layers = list(layers)
    if not layers:
        raise ValueError("empty stack: pass at least one layer")
    r, J, P = 1, 1, 0
    for layer in layers:
        g = geometry(layer)
        if g is not None:
            r, P, J = r + g.d * (g.k - 1) * J, P + g.p * J, J * g.s
    return Field(r, J, P)"""

# --- q4_ex_unseen ---------------------------------------------------------------------------------------
# Sizes by the bare formula: an input the stack refuses gives sizes <= 0, and every pixel "unseen".
NO_REFUSAL = """\
    sizes = [n]
    for g in stack:
        sizes.append((sizes[-1] + 2 * g.p - g.d * (g.k - 1) - 1) // g.s + 1)
    seen = set(range(max(sizes[-1], 0)))
    for g, below in zip(reversed(stack), reversed(sizes[:-1])):
        seen = {u * g.s - g.p + t * g.d for u in seen for t in range(g.k)}
        seen = {v for v in seen if 0 <= v < below}
    return sorted(set(range(n)) - seen)"""

# --- q4_ex_spread ---------------------------------------------------------------------------------------
# The values of the page's stacks, hard-coded (keyed by depth and first kernel).
SPREAD_HARD_CODED = """\
    known = {
        (5, 7): 2.5819888974716116,
        (7, 3): 4.310839052125854,
        (8, 11): 29.563490998188964,
        (3, 3): 3.696845502136472,
        (4, 3): 1.632993161855452,
        (16, 3): 3.2659863237109037,
        (64, 3): 6.531972647421807,
    }
    return known[len(stack), stack[0].k]"""

# Path counts by unfold instead of conv1d: past the refusal of convolutions, and right on every stack
# small enough to count pixels of; the deep hidden case is not.
SPREAD_BY_UNFOLD = """\
    field = receptive_field(stack)
    n = field.r + 2 * field.P + 2 * field.J
    y = torch.eye(n, dtype=torch.float64)
    for g in stack:
        y = F.pad(y, (g.p, g.p)).unfold(-1, g.d * (g.k - 1) + 1, g.s)[..., :: g.d].sum(-1)
    u = next(u for u in range(y.shape[1]) if u * field.J - field.P >= 0)
    share = y[:, u] / y[:, u].sum()
    x = torch.arange(n, dtype=torch.float64)
    return float((share * (x - (share * x).sum()) ** 2).sum().sqrt())"""
# (question, wrong body, a phrase the failing hidden test's message must contain)
WRONG_ANSWERS = [
    ("q4a_out_size", ACCEPTS_FLOATS, "refuse anything else with TypeError"),
    ("q4a_out_size", FIT_IGNORES_PADDING_AND_DILATION, "the padding counts"),
    (
        "q4b_receptive_field",
        P_AFTER_JUMP,
        "the product of the strides *before* layer l",
    ),
    ("q4b_receptive_field", NO_EMPTY_CHECK, "raise ValueError saying what to pass"),
    ("q4b_receptive_field", AXIS_IGNORED, "along the width (axis=1)"),
    ("q4_ex_unseen", NO_REFUSAL, "the stack refuses an input"),
    ("q4_ex_spread", SPREAD_HARD_CODED, "KeyError"),
    ("q4_ex_spread", SPREAD_BY_UNFOLD, "a field of about 2^41 pixels"),
]
# The hidden cases each wrong answer fails (the class test's points follow from these).
FAILED_CASES = {
    ACCEPTS_FLOATS: {"test_bad_arguments_are_refused"},
    FIT_IGNORES_PADDING_AND_DILATION: {
        "test_the_dilated_padded_kernel_decides_what_fits",
        "test_matches_pytorch_on_unseen_layers",
    },
    P_AFTER_JUMP: {
        "test_random_stacks_match_a_walk_from_the_top",
        "test_pooling_dilation_and_both_axes",
        "test_one_layer_stacks",
    },
    NO_EMPTY_CHECK: {"test_an_empty_stack_is_refused"},
    AXIS_IGNORED: {"test_pooling_dilation_and_both_axes"},
    NO_REFUSAL: {"test_an_input_the_stack_refuses_raises"},
    SPREAD_BY_UNFOLD: {"test_random_stacks_match_measured_spread"},
    SPREAD_HARD_CODED: {
        "test_random_stacks_match_measured_spread",
        "test_one_layer_stacks",
    },
}

# A self-check's reference (a measurement by convolution) copied as the answer: the public check refuses
# it, and so must the hidden tests, which alone give the points.
UNSEEN_BY_PATH_COUNTS = """\
    sizes = [n]
    for g in stack:
        sizes.append(out_size(sizes[-1], g.k, g.s, g.p, g.d))
    return torch.nonzero(path_counts(stack, n).sum(dim=1) == 0).flatten().tolist()"""
SPREAD_BY_PATH_COUNTS = """\
    field = receptive_field(stack)
    n = field.r + 2 * field.P + 2 * field.J
    u = next(u for u in range(n) if u * field.J - field.P >= 0)
    share = path_counts(stack, n)[:, u] / path_counts(stack, n)[:, u].sum()
    x = torch.arange(n, dtype=torch.float64)
    return float((share * (x - (share * x).sum()) ** 2).sum().sqrt())"""
FIELD_BY_MEASUREMENT = """\
    layers = list(layers)
    if not layers:
        raise ValueError("pass at least one layer")
    return measured_field(geometries(layers, axis))"""
# (question, copy, every hidden test that fails): each test that computes a value, none that checks a
# refusal of bad input (the copies refuse it before they run a convolution)
REFERENCE_COPIES = [
    (
        "q4b_receptive_field",
        FIELD_BY_MEASUREMENT,
        {
            "test_random_stacks_match_a_walk_from_the_top",
            "test_pooling_dilation_and_both_axes",
            "test_one_layer_stacks",
        },
    ),
    (
        "q4_ex_unseen",
        UNSEEN_BY_PATH_COUNTS,
        {"test_random_stacks_match_path_counts"},
    ),
    (
        "q4_ex_spread",
        SPREAD_BY_PATH_COUNTS,
        {"test_random_stacks_match_measured_spread", "test_one_layer_stacks"},
    ),
]

# Code cells of the chapter (by their first line) that the answers and self-checks need. `defs` runs only
# the cell's imports, functions and classes (the page's long checks are skipped).
NEEDED = [
    ("# Setup.", "all"),
    ("def out_size(", "all"),
    ("@dataclass(frozen=True)\nclass Geometry", "all"),
    ("def receptive_field(", "all"),
    ("def path_counts(", "defs"),
    ("WIDTH = 8", "all"),  # SmallConvNet and net_init (the spread's self-check)
    ("assert all(", "defs"),  # smallest_accepted
    ("def net1_features(", "all"),  # features (the spread's self-check)
    ("ALEXNET_PAPER = [", "all"),
    ("def unseen_pixels(", "all"),
    ("# Self-check (q4b_receptive_field)", "defs"),  # from_the_geometry, measured_field
    ("def path_spread(", "all"),
]


def hidden_cases(question):
    return grading_support.hidden_cases(STEM, question)


def failures(question, namespace):
    return grading_support.hidden_failures(STEM, question, namespace)


def code_cells(cells):
    return [c for c in cells if c.cell_type == "code"]


def cell_defining(cells, function):
    return next(c for c in code_cells(cells) if f"def {function}(" in c.source)


def self_check_after(cells, function):
    code = code_cells(cells)
    index = next(i for i, c in enumerate(code) if f"def {function}(" in c.source)
    check_cell = code[index + 1].source
    assert check_cell.startswith("# Self-check"), f"no self-check cell after {function}"
    return check_cell


def definitions_only(source, name):
    tree = ast.parse(source)
    kept = (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
    tree.body = [node for node in tree.body if isinstance(node, kept)]
    return compile(tree, name, "exec")


@pytest.fixture(scope="module")
def chapter_namespace():
    """The solution's namespace: the NEEDED cells, run once (~20 s, mostly the imports)."""
    code = code_cells(jupytext.read(CHAPTERS / f"{STEM}.md").cells)
    namespace = {}
    for start, how in NEEDED:
        cell = next(c.source for c in code if c.source.startswith(start))
        if how == "defs":
            exec(definitions_only(cell, start), namespace)
        else:
            exec(compile(cell, start, "exec"), namespace)
    return namespace


def with_cell(namespace, source, name):
    """A copy of namespace in which the (edited) answer cell has run; a stub raises where it is called."""
    namespace = dict(namespace)
    try:
        exec(compile(source, name, "exec"), namespace)
    except NotImplementedError:
        pass
    return namespace


def test_questions_match_the_chapter_and_the_test_files():
    source = (CHAPTERS / f"{STEM}.md").read_text()
    names = [q["name"] for q in QUESTIONS]
    assert names == list(AUTOGRADED), "the questions, in the chapter's order"
    assert not any(q.get("written") for q in QUESTIONS)
    assert sorted(p.stem for p in (GRADING / "tests").glob("*.py")) == sorted(names)
    positions = []
    for name in names:
        module, _ = hidden_cases(name)
        phrase = f"Question `{name}` (autograded, {module.points} points)"
        assert source.count(phrase) == 1, f"the chapter does not pose {phrase}"
        positions.append(source.index(phrase))
    assert positions == sorted(positions), "questions posed out of order"


@pytest.mark.parametrize("question", list(AUTOGRADED))
def test_the_solution_passes_the_hidden_tests(question, chapter_namespace):
    cells = jupytext.read(CHAPTERS / f"{STEM}.md").cells
    function = AUTOGRADED[question]
    namespace = with_cell(
        chapter_namespace, cell_defining(cells, function).source, function
    )
    exec(compile(self_check_after(cells, function), "self-check", "exec"), namespace)
    module, cases = hidden_cases(question)
    assert module.name == question and module.points > 0 and len(cases) >= 2
    assert all(case.hidden for case in cases)
    assert failures(question, namespace) == {}


@pytest.mark.parametrize("question", list(AUTOGRADED))
def test_the_untouched_stub_fails_every_hidden_test(question, chapter_namespace):
    cells = copy.deepcopy(jupytext.read(CHAPTERS / f"{STEM}.md").cells)
    function = AUTOGRADED[question]
    cell = cell_defining(cells, function)
    stub = make_student.stub_source(cell.source, "test")
    assert "raise NotImplementedError(" in stub and "### BEGIN SOLUTION" not in stub
    namespace = with_cell(chapter_namespace, stub, function)
    _, cases = hidden_cases(question)
    failed = failures(question, namespace)
    assert sorted(failed) == sorted(c.test_func.__name__ for c in cases)
    assert all("NotImplementedError" in message for message in failed.values())


@pytest.mark.parametrize(
    "question,wrong,phrase",
    WRONG_ANSWERS,
    ids=[f"{q}-{i}" for i, (q, _, _) in enumerate(WRONG_ANSWERS)],
)
def test_a_wrong_answer_that_passes_the_self_check_fails_a_hidden_test(
    question, wrong, phrase, chapter_namespace
):
    cells = copy.deepcopy(jupytext.read(CHAPTERS / f"{STEM}.md").cells)
    function = AUTOGRADED[question]
    replace_solution(cells, function, wrong)
    namespace = with_cell(
        chapter_namespace, cell_defining(cells, function).source, function
    )
    # the public check lets it through
    exec(compile(self_check_after(cells, function), "self-check", "exec"), namespace)
    failed = failures(question, namespace)
    assert set(failed) == FAILED_CASES[wrong], failed
    assert any(phrase in message for message in failed.values()), failed


# Caught by the public self-checks, with a message naming the mistake.
NO_INTEGER_DIVISION = """\
    return (n + 2 * p - d * (k - 1) - 1) / s + 1"""
NO_FIT_CHECK = """\
    return (n + 2 * p - d * (k - 1) - 1) // s + 1"""
R_AFTER_JUMP = """\
    r, J, P = 1, 1, 0
    for layer in layers:
        g = geometry(layer, axis)
        if g is not None:
            J *= g.s
            r, P = r + g.d * (g.k - 1) * J, P + g.p * J
    return Field(r, J, P)"""
R_WITHOUT_DILATION = """\
    r, J, P = 1, 1, 0
    for layer in layers:
        g = geometry(layer, axis)
        if g is not None:
            r, P, J = r + (g.k - 1) * J, P + g.p * J, J * g.s
    return Field(r, J, P)"""

# (function, wrong body, a phrase of the self-check's failure message)
CAUGHT_BY_THE_SELF_CHECK = [
    (
        "out_size",
        NO_INTEGER_DIVISION,
        "the formula is floor((n + 2p - d(k-1) - 1) / s) + 1",
    ),
    ("out_size", NO_FIT_CHECK, "raise ValueError instead of returning a size"),
    ("receptive_field", R_AFTER_JUMP, "the strides of the layers *before* it"),
    (
        "receptive_field",
        R_WITHOUT_DILATION,
        "a dilated kernel spans d(k-1)+1 positions",
    ),
]


@pytest.mark.parametrize(
    "function,wrong,phrase",
    CAUGHT_BY_THE_SELF_CHECK,
    ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(CAUGHT_BY_THE_SELF_CHECK)],
)
def test_the_self_check_names_a_plausible_mistake(
    function, wrong, phrase, chapter_namespace
):
    cells = copy.deepcopy(jupytext.read(CHAPTERS / f"{STEM}.md").cells)
    replace_solution(cells, function, wrong)
    namespace = with_cell(
        chapter_namespace, cell_defining(cells, function).source, function
    )
    with pytest.raises(namespace["CheckFailed"], match=re.escape(phrase)):
        exec(
            compile(self_check_after(cells, function), "self-check", "exec"), namespace
        )


@pytest.mark.parametrize(
    "question,copy_of_reference,failing",
    REFERENCE_COPIES,
    ids=["field", "unseen", "spread"],
)
def test_the_reference_copied_as_the_answer_fails_the_hidden_tests(
    question, copy_of_reference, failing, chapter_namespace
):
    cells = copy.deepcopy(jupytext.read(CHAPTERS / f"{STEM}.md").cells)
    function = AUTOGRADED[question]
    replace_solution(cells, function, copy_of_reference)
    namespace = with_cell(
        chapter_namespace, cell_defining(cells, function).source, function
    )
    with pytest.raises(AssertionError, match=f"{function} ran a convolution"):
        exec(
            compile(self_check_after(cells, function), "self-check", "exec"), namespace
        )
    # the answer itself is right: without the refusal of convolutions it gives the solution's value
    stack = [namespace["Geometry"](3, 2, 1), namespace["Geometry"](2, 1, 0, 2)]
    arguments = (stack, 9) if question == "q4_ex_unseen" else (stack,)
    got = namespace[function](*arguments)
    assert got == pytest.approx(chapter_namespace[function](*arguments))
    failed = failures(question, namespace)
    assert set(failed) == failing, failed
    assert all("without running a convolution" in m for m in failed.values()), failed
