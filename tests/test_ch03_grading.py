"""Chapter 3's hidden tests (grading/03_batchnorm_folding/tests) against the book's own answers: the
answers pass them, the untouched stubs fail every one of them. The cells are found by their metadata
(`answer: <question>`); the wrong answers and their verdicts are data, in grading/<stem>/variants/.

Nothing here executes the chapter: its setup cell runs in-process, then a correct variant that brings
SmallNet, SmallNetTest and STAGES (the network cell), then the book's answer cells."""

import re
import sys

import jupytext
import pytest
import yaml
from conftest import CHAPTERS, ROOT

sys.path.insert(0, str(ROOT / "tools"))
import grading_support  # noqa: E402
import make_student  # noqa: E402

STEM = "03_batchnorm_folding"
GRADING = ROOT / "grading" / STEM
QUESTIONS = yaml.safe_load((GRADING / "questions.yml").read_text())["questions"]
AUTOGRADED = [q["name"] for q in QUESTIONS if not q.get("written")]
# SmallNet, SmallNetTest and STAGES (the network cell), for the answers that need them
NETWORK = GRADING / "variants" / "q3_ex_first_mismatch" / "correct_children.py"


def code_cells():
    notebook = jupytext.read(CHAPTERS / f"{STEM}.md")
    return [c for c in notebook.cells if c.cell_type == "code"]


def answer_sources(stub=False):
    """The book's answer cells in chapter order (stubbed as in the student edition)."""
    sources = [c.source for c in code_cells() if "answer" in c.metadata]
    return [make_student.stub_source(s, "test") if stub else s for s in sources]


@pytest.fixture(scope="module")
def base_namespace(monkeypatch_module):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # many tiny float64 operations: one thread is faster
    namespace = {}
    exec(compile(code_cells()[0].source, "setup", "exec"), namespace)
    exec(compile(NETWORK.read_text(), str(NETWORK), "exec"), namespace)
    yield namespace
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLBOOK_GRADER", str(ROOT / "dlbook" / "__init__.py"))
        patch.syspath_prepend(str(ROOT))
        yield patch


def test_questions_match_the_chapter_and_the_test_files():
    source = (CHAPTERS / f"{STEM}.md").read_text()
    names = [q["name"] for q in QUESTIONS]
    written = [q["name"] for q in QUESTIONS if q.get("written")]
    assert sorted(p.stem for p in (GRADING / "tests").glob("*.py")) == sorted(
        AUTOGRADED
    )
    for name in written:
        assert f"Question `{name}` (written, graded by hand)" in source
        assert f'"written_answer": "{name}"' in source, (
            f"{name}: no answer cell marked in the chapter"
        )
    cells = code_cells()
    for name in AUTOGRADED:
        points = grading_support.hidden_cases(STEM, name)[0].points
        shown = f"Question `{name}` (autograded, {points} point{'s' * (points != 1)})"
        assert shown in source, f"the chapter must pose {shown}"
        assert any(c.metadata.get("answer") == name for c in cells), name
        assert any(c.metadata.get("check") == name for c in cells), name
        assert (GRADING / "variants" / name).is_dir(), f"{name} has no variants"
    # the questions in the order the chapter poses them
    posed = re.findall(r"Question `(\w+)`", source)
    assert sorted(set(posed), key=posed.index) == names


@pytest.mark.parametrize("stub", [False, True], ids=["answers", "stubs"])
def test_hidden_tests_pass_the_answers_and_fail_the_stubs(stub, base_namespace):
    namespace = dict(base_namespace)
    for source in answer_sources(stub):
        exec(compile(source, "answer", "exec"), namespace)
    for question in AUTOGRADED:
        module, cases = grading_support.hidden_cases(STEM, question)
        assert module.name == question and module.points > 0 and len(cases) >= 2
        assert all(case.hidden for case in cases)
        failed = grading_support.hidden_failures(STEM, question, namespace)
        if not stub:
            assert failed == {}, (question, failed)
        else:
            assert sorted(failed) == sorted(c.test_func.__name__ for c in cases)
            assert all("NotImplementedError" in m for m in failed.values()), failed
