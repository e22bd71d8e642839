"""The helper module `dlbook` is written once and used, never copied: generated notebooks carry it inlined,
the autograder zip carries it under a private name, and no chapter or hidden-test file defines again what
another one defines (`duplicates` does not read notebooks, so this test parses their code cells)."""

import ast
import collections
import sys
import types
import zipfile

import jupytext
import pytest
from conftest import CHAPTERS, ROOT
from otter.test_files.exception_test import ExceptionTestFile

sys.path.insert(0, str(ROOT / "tools"))
import make_autograder  # noqa: E402
import sync_twins  # noqa: E402

HELPER = ROOT / "dlbook" / "__init__.py"


def test_the_inlined_cell_writes_the_module_unchanged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cell = sync_twins.helper_cell()
    exec(compile(cell.source, "helper cell", "exec"), {})
    assert (tmp_path / "dlbook.py").read_text() == HELPER.read_text()
    meta = cell.metadata
    assert meta["jupyter"]["source_hidden"] and meta["cellView"] == "form"


@pytest.mark.parametrize("folder", ["chapters", "student"])
def test_every_generated_notebook_starts_with_the_inlined_module(folder):
    for path in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb")):
        first = jupytext.read(path).cells[0]
        assert first.source == sync_twins.helper_cell().source, path.name


def top_level_definitions(source, where):
    """{name: ast dump of the definition} of the functions and classes a piece of code defines."""
    return {
        node.name: ast.dump(ast.Module(body=node.body, type_ignores=[]))
        for node in ast.parse(source, filename=where).body
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
    }


def chapter_code(path):
    return "\n".join(
        cell.source
        for cell in jupytext.read(path).cells
        if cell.cell_type == "code" and not cell.source.lstrip().startswith(("%", "!"))
    )


def repeated_definitions(sources, ignore=lambda name: False):
    """[(name, [where])] of names defined in two places, or bodies defined twice."""
    by_name, by_body = collections.defaultdict(list), collections.defaultdict(list)
    for where, source in sources.items():
        for name, body in top_level_definitions(source, where).items():
            if not ignore(name):
                by_name[name].append(where)
            by_body[body].append(f"{where}:{name}")
    return [(n, w) for n, w in by_name.items() if len(w) > 1] + [
        ("same body", w) for w in by_body.values() if len(w) > 1
    ]


def test_no_function_or_class_is_defined_in_two_chapters():
    chapters = sorted(CHAPTERS.glob("[0-9][0-9]_*.md"))
    sources = {p.name: chapter_code(p) for p in chapters}
    sources["dlbook"] = HELPER.read_text()
    assert repeated_definitions(sources) == []


def test_no_helper_is_defined_in_two_hidden_test_files():
    tests = sorted(ROOT.glob("grading/*/tests/*.py"))
    sources = {str(p.relative_to(ROOT)): p.read_text() for p in tests}
    sources["dlbook"] = HELPER.read_text()
    # test functions may share a name (otter reports them per question); their bodies differ
    assert repeated_definitions(sources, ignore=lambda n: n.startswith("test_")) == []


def test_the_duplicate_search_can_fail():
    copied = "def load(x):\n    return x + 1\n"
    assert repeated_definitions({"a": copied, "b": copied.replace("load", "read")})
    assert repeated_definitions({"a": copied, "b": "def load(y):\n    return y\n"})


def test_the_autograder_carries_the_module_under_a_private_name(tmp_path):
    pins = make_autograder.chapter_pins(ROOT / "requirements.txt")
    folder = ROOT / "grading" / "01_logsumexp"
    built = make_autograder.build(folder, tmp_path, pins, ROOT)
    with zipfile.ZipFile(built["zip"]) as archive:
        carried = archive.read(f"files/{make_autograder.GRADER_MODULE}").decode()
    assert carried == HELPER.read_text()


def test_the_hidden_tests_ignore_the_notebooks_own_copy(monkeypatch):
    """A student's edited `dlbook` (here: refusals that refuse nothing) changes nothing."""
    import torch

    def nu(x, beta):
        x = torch.as_tensor(x, dtype=torch.float64)
        if x.shape[-1] == 0 or beta == 0 or not torch.isfinite(torch.tensor(beta)):
            raise ValueError("bad input")
        return torch.logsumexp(beta * x, dim=-1) / beta  # PyTorch's own: refused

    edited = types.ModuleType("dlbook")
    edited.refusing = lambda function, *args, **_: function(*args)
    monkeypatch.setitem(sys.modules, "dlbook", edited)
    monkeypatch.setenv("DLBOOK_GRADER", str(HELPER))
    tests = ROOT / "grading" / "01_logsumexp" / "tests"
    test_file = ExceptionTestFile.from_file(str(tests / "q1a_nu.py"))
    test_file.run({"nu": nu})
    assert test_file.score < test_file.possible
