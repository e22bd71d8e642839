"""Chapter 1's hidden tests (grading/01_logsumexp/tests): the solution passes them, the untouched stub
fails them, and for every autograded question a plausible wrong answer that passes the notebook's public
self-check fails them, with a message that names the mistake."""

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

STEM = "01_logsumexp"
GRADING = ROOT / "grading" / STEM
QUESTIONS = yaml.safe_load((GRADING / "questions.yml").read_text())["questions"]
AUTOGRADED = {
    "q1a_nu": "nu",
    "q1b_grad": "grad_nu",
    "q1c_limit": "softmax_limit",
    "q1_ex_min": "smooth_min",
}

SHIFT_BY_BETA_MAX = """\
    x = torch.as_tensor(x, dtype=torch.float64)
    beta = float(beta)
    if x.ndim == 0 or x.shape[-1] == 0 or beta == 0 or not math.isfinite(beta):
        raise ValueError("bad input")
    shift = beta * x.amax(dim=-1, keepdim=True)
    total = torch.exp(beta * x - shift).sum(dim=-1)
    return (shift.squeeze(-1) + torch.log(total)) / beta"""
ONLY_ZERO_REFUSED = """\
    x = torch.as_tensor(x, dtype=torch.float64)
    if beta == 0:
        raise ValueError("beta must be nonzero")
    scaled = beta * x
    shift = scaled.amax(dim=-1, keepdim=True)
    return (shift.squeeze(-1) + torch.log(torch.exp(scaled - shift).sum(dim=-1))) / beta"""
SOFTMAX_WITHOUT_BETA = """\
    x = torch.as_tensor(x, dtype=torch.float64)
    weights = torch.exp(x - x.amax(dim=-1, keepdim=True))
    return weights / weights.sum(dim=-1, keepdim=True)"""
TIES_WITH_A_TOLERANCE = """\
    x = torch.as_tensor(x, dtype=torch.float64)
    is_max = (x >= x.amax(dim=-1, keepdim=True) - 1e-9).to(torch.float64)
    return is_max / is_max.sum(dim=-1, keepdim=True)"""
HARD_CODED = """\
    return torch.tensor(
        [[1, 0, 0], [0.5, 0, 0.5], [1 / 3, 1 / 3, 1 / 3], [0, 0.5, 0.5], [0, 1, 0], [0.5, 0.5, 0]],
        dtype=torch.float64,
    )"""
SECOND_DIMENSION = """\
    x = torch.as_tensor(x, dtype=torch.float64)
    return -torch.logsumexp(-beta * x, dim=1) / beta"""

# (question, wrong body, a phrase the failing hidden test's message must contain)
WRONG_ANSWERS = [
    ("q1a_nu", SHIFT_BY_BETA_MAX, "shift by the largest exponent max(beta x)"),
    ("q1a_nu", ONLY_ZERO_REFUSED, "must raise ValueError"),
    ("q1b_grad", SOFTMAX_WITHOUT_BETA, "differs from autograd"),
    ("q1c_limit", TIES_WITH_A_TOLERANCE, "only exact maximisers share the mass"),
    ("q1c_limit", HARD_CODED, "share the mass equally"),
    ("q1_ex_min", SECOND_DIMENSION, "Dimension out of range"),
]


def hidden_cases(question):
    return grading_support.hidden_cases(STEM, question)


def failures(question, namespace):
    return grading_support.hidden_failures(STEM, question, namespace)


@pytest.fixture(scope="module")
def setup_namespace():
    """The chapter's setup cell (imports, seeds, check), run once."""
    cells = jupytext.read(CHAPTERS / f"{STEM}.md").cells
    namespace = {}
    assert cells[1].source.startswith("# Setup"), "the first code cell is not the setup"
    exec(compile(cells[1].source, "setup", "exec"), namespace)
    assert "check" in namespace, "the setup cell did not run"
    return namespace


def code_cells(cells):
    return [c for c in cells if c.cell_type == "code"]


REFUSALS = "# Refused in the checks"


def run_answer(setup_namespace, cells, function):
    """A namespace with `nu` and `function` defined from `cells`, and the function's public
    self-check (the next code cell, starting with '# Self-check') as source."""
    namespace = dict(setup_namespace)
    code = code_cells(cells)
    refusals = next(c.source for c in code if c.source.startswith(REFUSALS))
    exec(compile(refusals, "refusals", "exec"), namespace)  # by_hand, for the checks
    for name in dict.fromkeys(["nu", function]):
        index = next(i for i, c in enumerate(code) if f"def {name}(" in c.source)
        exec(compile(code[index].source, name, "exec"), namespace)
    check_cell = code[index + 1].source
    assert check_cell.startswith("# Self-check"), f"no self-check cell after {function}"
    return namespace, check_cell


def test_questions_match_the_chapter_and_the_test_files():
    source = (CHAPTERS / f"{STEM}.md").read_text()
    names = [q["name"] for q in QUESTIONS]
    written = [q["name"] for q in QUESTIONS if q.get("written")]
    assert sorted(p.stem for p in (GRADING / "tests").glob("*.py")) == sorted(
        set(names) - set(written)
    )
    assert sorted(AUTOGRADED) == sorted(set(names) - set(written))
    for name in names:
        assert f"Question `{name}`" in source, f"the chapter does not pose {name}"
    for name in written:
        assert f'"written_answer": "{name}"' in source, (
            f"{name}: no answer cell marked in the chapter"
        )


@pytest.mark.parametrize("question", sorted(AUTOGRADED))
def test_the_solution_passes_the_hidden_tests(question, setup_namespace):
    cells = jupytext.read(CHAPTERS / f"{STEM}.md").cells
    namespace, check_cell = run_answer(setup_namespace, cells, AUTOGRADED[question])
    exec(compile(check_cell, "self-check", "exec"), namespace)
    module, cases = hidden_cases(question)
    assert module.name == question and module.points > 0 and len(cases) >= 2
    assert all(case.hidden for case in cases)
    assert failures(question, namespace) == {}


@pytest.mark.parametrize("question", sorted(AUTOGRADED))
def test_the_untouched_stub_fails_every_hidden_test(question, setup_namespace):
    cells = copy.deepcopy(jupytext.read(CHAPTERS / f"{STEM}.md").cells)
    for cell in code_cells(cells):
        cell.source = make_student.stub_source(cell.source, "test")
    namespace = dict(setup_namespace)
    code = code_cells(cells)
    for name in dict.fromkeys(["nu", AUTOGRADED[question]]):
        cell = next(c.source for c in code if f"def {name}(" in c.source)
        try:  # nu's cell calls nu after defining it: the stub raises there
            exec(compile(cell, name, "exec"), namespace)
        except NotImplementedError:
            pass
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
    question, wrong, phrase, setup_namespace
):
    cells = copy.deepcopy(jupytext.read(CHAPTERS / f"{STEM}.md").cells)
    replace_solution(cells, AUTOGRADED[question], wrong)
    namespace, check_cell = run_answer(setup_namespace, cells, AUTOGRADED[question])
    exec(
        compile(check_cell, "self-check", "exec"), namespace
    )  # the public check lets it through
    failed = failures(question, namespace)
    assert failed, f"{question}: the hidden tests let the wrong answer through"
    assert any(phrase in message for message in failed.values()), failed


NAIVE_NU = """\
    x = torch.as_tensor(x, dtype=torch.float64)
    if beta == 0:
        raise ValueError("beta must be nonzero")
    return torch.log(torch.exp(beta * x).sum(dim=-1)) / beta"""
ALL_DIMENSIONS = """\
    x = torch.as_tensor(x, dtype=torch.float64)
    if beta == 0:
        raise ValueError("beta must be nonzero")
    scaled = beta * x.flatten()
    shift = scaled.max()
    return (shift + torch.log(torch.exp(scaled - shift).sum())) / beta"""
NO_VALIDATION = """\
    x = torch.as_tensor(x, dtype=torch.float64)
    scaled = beta * x
    shift = scaled.amax(dim=-1, keepdim=True)
    return (shift.squeeze(-1) + torch.log(torch.exp(scaled - shift).sum(dim=-1))) / beta"""
NAIVE_GRAD = """\
    x = torch.as_tensor(x, dtype=torch.float64)
    return torch.exp(beta * x) / torch.exp(beta * x).sum(dim=-1, keepdim=True)"""
GRAD_WITHOUT_NORMALISING = """\
    return torch.exp(beta * torch.as_tensor(x, dtype=torch.float64))"""
HARD_MINIMUM = """\
    return torch.as_tensor(x, dtype=torch.float64).amin(dim=-1)"""

# (function, wrong body, a phrase of the self-check's failure message)
CAUGHT_BY_THE_SELF_CHECK = [
    ("nu", NAIVE_NU, "exp(1000) overflows"),
    ("nu", ALL_DIMENSIONS, "reduce over the last dimension only"),
    ("nu", NO_VALIDATION, "must raise ValueError"),
    ("grad_nu", NAIVE_GRAD, "exp(1000) overflows"),
    ("grad_nu", GRAD_WITHOUT_NORMALISING, "the gradient is softmax(beta x)"),
    ("smooth_min", HARD_MINIMUM, "a smooth minimum lies strictly below it"),
]


@pytest.mark.parametrize(
    "function,wrong,phrase",
    CAUGHT_BY_THE_SELF_CHECK,
    ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(CAUGHT_BY_THE_SELF_CHECK)],
)
def test_the_self_check_names_a_plausible_mistake(
    function, wrong, phrase, setup_namespace
):
    cells = copy.deepcopy(jupytext.read(CHAPTERS / f"{STEM}.md").cells)
    replace_solution(cells, function, wrong)
    namespace, check_cell = run_answer(setup_namespace, cells, function)
    with pytest.raises(namespace["CheckFailed"], match=re.escape(phrase)):
        exec(compile(check_cell, "self-check", "exec"), namespace)


# PyTorch's own functions, the references of the checks, called as the answer: the public check
# refuses them, and so must the hidden tests, which alone give the points.
NU_BY_THE_LIBRARY = """\
    x = torch.as_tensor(x, dtype=torch.float64)
    beta = float(beta)
    if x.ndim == 0 or x.shape[-1] == 0 or beta == 0 or not math.isfinite(beta):
        raise ValueError("bad input")
    return torch.logsumexp(beta * x, dim=-1) / beta"""
GRAD_BY_THE_LIBRARY = """\
    if float(beta) == 0 or not math.isfinite(float(beta)):
        raise ValueError("bad beta")
    return torch.softmax(beta * torch.as_tensor(x, dtype=torch.float64), dim=-1)"""
GRAD_BY_AUTOGRAD = """\
    if float(beta) == 0 or not math.isfinite(float(beta)):
        raise ValueError("bad beta")
    x = torch.as_tensor(x, dtype=torch.float64).detach().requires_grad_()
    (gradient,) = torch.autograd.grad(nu(x, beta).sum(), x)
    return gradient"""
GRAD_BY_SOFTMIN = """\
    if float(beta) == 0 or not math.isfinite(float(beta)):
        raise ValueError("bad beta")
    return torch.nn.functional.softmin(-beta * torch.as_tensor(x, dtype=torch.float64), -1)"""
NU_BY_LOGCUMSUMEXP = NU_BY_THE_LIBRARY.replace(
    "torch.logsumexp(beta * x, dim=-1)", "torch.logcumsumexp(beta * x, dim=-1)[..., -1]"
)
# every hidden test that computes a value fails; the refusal of bad input still passes
NU_VALUES = {
    "test_matches_logsumexp_on_unseen_shapes_and_betas",
    "test_negative_beta_and_extreme_values",
}
GRAD_VALUES = {
    "test_matches_autograd_for_any_beta_and_shape",
    "test_no_overflow_for_large_beta",
}
LIBRARY_ANSWERS = [
    ("q1a_nu", NU_BY_THE_LIBRARY, "logsumexp", NU_VALUES),
    ("q1a_nu", NU_BY_LOGCUMSUMEXP, "logcumsumexp", NU_VALUES),
    ("q1b_grad", GRAD_BY_THE_LIBRARY, "softmax", GRAD_VALUES),
    ("q1b_grad", GRAD_BY_SOFTMIN, "softmax", GRAD_VALUES),
    ("q1b_grad", GRAD_BY_AUTOGRAD, "autograd (grad)", GRAD_VALUES),
]


@pytest.mark.parametrize(
    "question,body,called,failing",
    LIBRARY_ANSWERS,
    ids=["nu", "nu-logcumsumexp", "grad-softmax", "grad-softmin", "grad-autograd"],
)
def test_an_answer_by_the_reference_is_refused(
    question, body, called, failing, setup_namespace
):
    cells = copy.deepcopy(jupytext.read(CHAPTERS / f"{STEM}.md").cells)
    function = AUTOGRADED[question]
    replace_solution(cells, function, body)
    namespace, check_cell = run_answer(setup_namespace, cells, function)
    refused = f"{function} called PyTorch's {called}"
    with pytest.raises(namespace["CheckFailed"], match=re.escape(refused)):
        exec(compile(check_cell, "self-check", "exec"), namespace)
    # the answer itself is right: without the refusal it matches the solution
    torch = namespace["torch"]
    x = torch.tensor([[0.3, -1.0, 2.0], [5.0, 5.0, -3.0]], dtype=torch.float64)
    solution = dict(setup_namespace)
    run_solution, _ = run_answer(
        solution, jupytext.read(CHAPTERS / f"{STEM}.md").cells, function
    )
    assert torch.allclose(namespace[function](x, -2.0), run_solution[function](x, -2.0))
    failed = failures(question, namespace)
    assert set(failed) == failing, failed
    assert all(refused in message for message in failed.values()), failed
