"""The homework edition (tools/make_student.py, `make student`), for every chapter in chapters/: the
committed student notebooks equal a fresh generation (drift); chapter 1's student notebook, run alone in an
empty folder, stops at its first stub, at the stub or the question's self-check (that every stub fails its
self-check is each question's `stub` variant's, tests/test_variants.py); no solution code or prose, nor a
give-away phrase (grading/<stem>/giveaways.yml), leaks into the student editions; the student site has no
solution dropdowns and no outputs, and its launch buttons open the student notebooks."""

import ast
import html
import json
import re
import sys
from functools import cache

import jupytext
import nbformat
import pytest
import yaml
from conftest import (
    ALONE,
    CHAPTER_STEMS,
    CHAPTERS,
    ROOT,
    run_notebook,
    student_check_as_committed,
)
from nbclient.exceptions import CellExecutionError

sys.path.insert(0, str(ROOT / "tools"))
import make_student  # noqa: E402
import sync_twins  # noqa: E402

STUDENT = ROOT / "student"
STOPS = {"NotImplementedError", "CheckFailed"}


@cache
def todos(stem):
    """The TODO texts of the chapter's stubs, from its answer cells (metadata `answer`)."""
    return [
        todo
        for cell in jupytext.read(CHAPTERS / f"{stem}.md").cells
        if cell.metadata.get("answer")
        for _, _, todo in make_student.find_regions(cell.source, stem)
    ]


# --- Executing notebooks -----------------------------------------------------------------------
def execute_until_error(notebook, workdir):
    """Run the notebook top to bottom in a fresh kernel in workdir: (index of the cell that raised,
    exception name, message), or None when every cell ran."""
    try:
        run_notebook(notebook, workdir)
    except CellExecutionError as error:
        for index, cell in enumerate(notebook.cells):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    return index, output["ename"], output["evalue"]
        return None, error.ename, error.evalue


def assert_stops_at(cells, stub_cell, outcome, todos, what):
    assert outcome is not None, (
        f"{what}: ran to the end although cell {stub_cell} holds a stub: a self-check passed with the stub "
        "in place, or no cell calls the stubbed code"
    )
    failed_cell, ename, evalue = outcome
    # the first self-check cell (metadata `check`) after the stub, or the last cell
    checks = [i for i, cell in enumerate(cells) if cell.metadata.get("check")]
    bound = next((i for i in checks if i > stub_cell), len(cells) - 1)
    assert ename in STOPS, (
        f"{what}: stopped with {ename}: {evalue}, expected NotImplementedError from the stub or a failing "
        "self-check (CheckFailed). A NameError usually means a cell inside the solution defines something "
        "that later cells need: move it out of the solution or put its answer between the markers."
    )
    assert failed_cell is not None and stub_cell <= failed_cell <= bound, (
        f"{what}: stopped in cell {failed_cell}, expected between the stub (cell {stub_cell}) and its "
        f"self-check (cell {bound})"
    )
    if ename == "NotImplementedError":
        assert evalue in {f"TODO: {todo}" for todo in todos}, (
            f"{what}: unexpected message {evalue!r}"
        )


# --- Drift -------------------------------------------------------------------------------------
def test_check_mode_reports_no_drift():
    assert (result := student_check_as_committed()).returncode == 0, result.stderr


# --- Stubs stop the notebook -------------------------------------------------------------------
def test_a_student_notebook_run_alone_stops_at_its_first_stub(tmp_path):
    """Chapter 1's student notebook, alone in an empty folder with only the pip packages (its hidden
    first cell writes the helper module), runs up to its first answer cell's stub."""
    notebook = nbformat.read(STUDENT / f"{ALONE}.ipynb", as_version=4)
    answers = [i for i, c in enumerate(notebook.cells) if c.metadata.get("answer")]
    assert answers, f"student/{ALONE}.ipynb has no answer cell (metadata `answer`)"
    outcome = execute_until_error(notebook, tmp_path / "empty")
    what = f"student/{ALONE}.ipynb"
    assert_stops_at(notebook.cells, answers[0], outcome, todos(ALONE), what)


# --- No solution text leaks --------------------------------------------------------------------
SOLUTION_START = re.compile(r"^(`{3,}|:{3,})\{(solution-start|solution)\}")
SOLUTION_END = re.compile(r"^(`{3,}|:{3,})\{solution-end\}")
CODE_CELL = re.compile(r"^(`{3,})\{code-cell\}")


def _norm(text):
    return re.sub(r"\s+", " ", text).strip()


@cache
def _split_chapter(stem):
    """(secret, public) lines of the chapter, read from the .md text directly, independently of the
    generator: secret are code between the markers, solution prose, and code cells inside a solution that
    hold no marked region; public is everything else."""
    lines = (CHAPTERS / f"{stem}.md").read_text(encoding="utf-8").split("\n")
    secret, public = [], []
    in_region, solution_fence, i = False, None, 0
    while i < len(lines):
        line, stripped = lines[i], lines[i].strip()
        if stripped == make_student.BEGIN:
            in_region = True
        elif stripped == make_student.END:
            in_region = False
        elif in_region:
            secret.append(line)
        elif solution_fence is None and (start := SOLUTION_START.match(stripped)):
            solution_fence = start.group(1) if start.group(2) == "solution" else "gated"
        elif solution_fence == "gated" and SOLUTION_END.match(stripped):
            solution_fence = None
        elif solution_fence not in (None, "gated") and stripped == solution_fence:
            solution_fence = None
        elif solution_fence is not None and (cell := CODE_CELL.match(stripped)):
            end = next(
                j for j in range(i + 1, len(lines)) if lines[j].strip() == cell[1]
            )
            block = lines[i : end + 1]
            if any(b.strip() == make_student.BEGIN for b in block):
                # A stubbed cell: the lines between its markers are secret, the others stay public.
                inside = False
                for b in block:
                    if b.strip() in (make_student.BEGIN, make_student.END):
                        inside = b.strip() == make_student.BEGIN
                    else:
                        (secret if inside else public).append(b)
            else:
                secret.extend(block[1:-1])
            i = end
        elif solution_fence is not None:
            secret.append(line)
        else:
            public.append(line)
        i += 1
    return tuple(secret), tuple(public)


@cache
def _book_public_text():
    """What the book shows outside its solutions, all chapters together. ruff lays long calls out over
    several lines, so a bare `raise ValueError(` may sit inside one chapter's solution and in another
    chapter's visible code: a line the book shows anyway is not a secret."""
    return _norm("\n".join(x for s in CHAPTER_STEMS for x in _split_chapter(s)[1]))


def solution_lines(stem):
    """Non-trivial lines that only the solutions contain (see _split_chapter)."""
    secret, public = _split_chapter(stem)
    public_text = _norm("\n".join(public)) + " " + _book_public_text()
    keep = []
    for line in secret:
        norm = _norm(line)
        # a line that the book also shows outside its solutions is not a secret, nor is a lone
        # short string (a piece of a message split over lines) or a directive option
        if not (
            len(norm) < 12
            or norm in public_text
            or re.fullmatch(r"[#`:\-*>\s]*", norm)
            or re.fullmatch(r"""f?["'][^"']{0,20}["'],?""", norm)
            or re.fullmatch(r":\w[\w-]*:.*", norm)
        ):
            keep.append(norm)
    return keep + [_norm(p) for ps in giveaways(stem).values() for p in ps]


def giveaways(stem):
    """{question: phrases of the book that give its answer away} (the reader's edition shows them)."""
    return yaml.safe_load((ROOT / "grading" / stem / "giveaways.yml").read_text())


def leaks(stem, text):
    haystack = _norm(text)
    return [line for line in solution_lines(stem) if line in haystack]


def stub_messages(text):
    """The messages of every stub in text (a long one is split into implicitly joined strings)."""
    return [
        node.exc.args[0].value
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and getattr(node.exc.func, "id", None) == "NotImplementedError"
        and node.exc.args
        and isinstance(node.exc.args[0], ast.Constant)
    ]


@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_no_solution_text_in_student_notebook(stem):
    notebook = nbformat.read(STUDENT / f"{stem}.ipynb", as_version=4)
    text = "\n".join(cell.source for cell in notebook.cells)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    messages = [message for source in code for message in stub_messages(source)]
    for todo in todos(stem):
        assert f"TODO: {todo}" in messages, f"stub for {todo!r} missing"
    found = leaks(stem, text)
    assert not found, f"student/{stem}.ipynb contains solution text: {found[:5]}"
    directives = ("{solution-start}", "{solution}", "{solution-end}")
    assert not [d for d in directives if d in text]


@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_every_question_lists_give_aways_that_the_book_shows(stem):
    path = ROOT / "grading" / stem / "questions.yml"
    names = [q["name"] for q in yaml.safe_load(path.read_text())["questions"]]
    assert sorted(giveaways(stem)) == sorted(names) and all(giveaways(stem).values())
    book = _norm((CHAPTERS / f"{stem}.md").read_text())  # the search is not blind:
    assert [p for p in solution_lines(stem) if p not in book] == []


def test_a_theorem_left_unmarked_is_a_give_away_the_search_finds(tmp_path):
    chapter, mark = tmp_path / f"{ALONE}.md", '+++ {"answers_question": "q1a_proof"}\n'
    chapter.write_text((CHAPTERS / chapter.name).read_text().replace(mark, "+++\n", 1))
    notebook = make_student.student_notebooks([chapter])[chapter]
    found = leaks(ALONE, "\n".join(cell.source for cell in notebook.cells))
    assert found and set(found) <= {_norm(p) for p in giveaways(ALONE)["q1a_proof"]}


def site_text(site):
    """Every text file of the student site a reader can reach (pages, sources, notebooks, search index),
    tags stripped so highlighted code reads as plain text."""
    parts = []
    for path in sorted(site.rglob("*")):
        if not path.is_file() or "_static" in path.parts or "mathjax" in path.parts:
            continue
        if path.suffix not in {".html", ".md", ".txt", ".ipynb", ".js"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".html":
            text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
            text = html.unescape(re.sub(r"<[^>]+>", "", text))
        parts.append(text)
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_no_solution_text_in_student_site(stem, student_site):
    found = leaks(stem, site_text(student_site))
    assert not found, f"the student site contains solution text of {stem}: {found[:5]}"


@pytest.mark.slow
@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_leak_search_finds_every_solution_line_in_the_reader_site(stem, built_site):
    """The site search is not blind: the reader's edition shows every solution line."""
    assert leaks(stem, site_text(built_site)) == solution_lines(stem)


@pytest.mark.slow
@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_student_page_has_no_dropdown_no_output_and_launches_student_notebook(
    stem, student_site
):
    page = (student_site / "student" / f"{stem}.html").read_text(encoding="utf-8")
    assert 'class="solution' not in page, "a solution admonition in the student page"
    assert 'class="cell_output' not in page, "the student page shows executed outputs"
    _, colab, binder = make_student.launch_links(stem)
    assert colab in page, f"no Colab button opening student/{stem}.ipynb"
    assert binder in page or html.escape(binder) in page, (
        f"no Binder button opening student/{stem}.ipynb"
    )
    assert f"/chapters/{stem}.ipynb" not in page, "a link opens the solution twin"


@pytest.mark.slow
def test_student_site_has_no_instructor_page(student_site):
    assert not (student_site / "instructors.html").exists()


# --- The generator itself, on the chapter template ---------------------------------------------
TEMPLATE = ROOT / "templates" / "chapter.md"


def demo_chapter(folder, body):
    """folder/09_demo.md: the template's front matter, a title and body."""
    chapter = folder / "09_demo.md"
    front_matter = TEMPLATE.read_text(encoding="utf-8").split("\n---\n", 1)[0]
    chapter.write_text(f"{front_matter}\n---\n\n# Demo\n\n{body}", encoding="utf-8")
    return chapter


def test_stub_keeps_signature_indentation_and_todo():
    source = (
        "def f(x):\n    # TODO: return x squared,\n    #   as a float.\n    ### BEGIN SOLUTION\n"
        "    y = x * x\n    return float(y)\n    ### END SOLUTION\n\nprint(1)"
    )
    stubbed = make_student.stub_source(source, "test")
    assert stubbed == (
        "def f(x):\n    # TODO: return x squared,\n    #   as a float.\n"
        '    raise NotImplementedError("TODO: return x squared, as a float.")\n\nprint(1)'
    )
    exec(compile(stubbed, "stub", "exec"), namespace := {})
    with pytest.raises(NotImplementedError, match="return x squared, as a float"):
        namespace["f"](2)


def test_a_long_stub_is_split_to_fit_the_page():
    todo = "return the sorted input positions in range(n) that no output unit of the stack depends on."
    source = f"def f(stack, n):\n    # TODO: {todo}\n    ### BEGIN SOLUTION\n    return []\n    ### END SOLUTION"
    stubbed = make_student.stub_source(source, "test")
    one_line = f'    raise NotImplementedError("TODO: {todo}")'
    assert len(one_line) > make_student.LINE_LENGTH == 88
    assert max(map(len, stubbed.splitlines()[2:])) <= 88
    assert stubbed.splitlines()[2:] == [
        "    raise NotImplementedError(",
        '        "TODO: return the sorted input positions in range(n) that no output unit of "',
        '        "the stack depends on."',
        "    )",
    ]
    exec(compile(stubbed, "stub", "exec"), namespace := {})
    with pytest.raises(NotImplementedError, match=re.escape(f"TODO: {todo}")):
        namespace["f"]([], 3)


MALFORMED = [  # (source, error message)
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", "no `# TODO"),
    ("def f():\n    # TODO: x\n    ### BEGIN SOLUTION\n    return 1", "never closed"),
    ("def f():\n    return 1\n    ### END SOLUTION", "without a `### BEGIN SOLUTION`"),
    ("# TODO: x\n### BEGIN SOLUTIONS\nx = 1\n### END SOLUTION", "the markers are exactly"),
]  # fmt: skip


@pytest.mark.parametrize("source,message", MALFORMED)
def test_malformed_markers_get_a_clear_error(source, message):
    with pytest.raises(make_student.StudentEditionError, match=re.escape(message)):
        make_student.stub_source(source, "chapter.md, cell 3")


def test_an_argument_that_answers_a_written_question_is_left_out(tmp_path):
    """A markdown cell outside the solutions marked `answers_question` (the book's own proof of what a
    written question asks) becomes a note in the student edition; the cells around it stay."""
    chapter = demo_chapter(
        tmp_path,
        "### A stronger theorem\n\n"
        '+++ {"answers_question": "q9_proof"}\n\n'
        "```{prf:theorem} Stronger\n:label: ch9-thm-strong\n\nA claim.\n```\n\n"
        "The secret argument: divide by beta.\n\n"
        "```{code-cell} ipython3\n:answers_question: q9_proof\n\n"
        "secret_steps = ['divide by beta']\n```\n\n"
        '+++ {"answers_question": "q9_proof"}\n\nThe secret steps check out.\n\n'
        "+++\n\nA check follows; {prf:ref}`ch9-thm-strong` says more.\n",
    )
    notebook = make_student.student_notebooks([chapter])[chapter]
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "secret argument" not in text
    # the check cell that spells the argument out goes too; one note stands for the run
    assert "secret_steps" not in text and "secret steps" not in text
    assert text.count("answers what question `q9_proof` asks") == 1
    assert "### A stronger theorem" in text
    assert "A check follows; a part of the book left out here says more." in text
    assert "answers_question" not in json.dumps([c.metadata for c in notebook.cells])


def test_template_student_version(tmp_path):
    notebook = make_student.student_notebooks([TEMPLATE])[TEMPLATE]
    notebook = nbformat.reads(make_student.notebook_text(notebook), as_version=4)
    text = "\n".join(cell.source for cell in notebook.cells)
    assert "return 2 * n" not in text and "Prose of the solution" not in text
    assert 'raise NotImplementedError("TODO: return twice n.")' in text
    assert "def answer(n):" in text and "got == 42" in text  # the public case, inlined
    assert "test_doubles_zero" not in text  # a hidden case
    assert "{glue:text}" not in text and "`‹chN_value›`" in text
    assert "**Your turn.**" in text and "Student edition" in text
    assert not [c for c in notebook.cells if c.cell_type == "code" and c.get("outputs")]
    outcome = execute_until_error(notebook, tmp_path)
    stub = next(i for i, c in enumerate(notebook.cells) if c.metadata.get("answer"))
    assert_stops_at(notebook.cells, stub, outcome, ["return twice n."], "the template")


def test_template_wrong_answer_gets_the_check_message(tmp_path):
    """A plausible mistake in the template's exercise stops at its self-check with the named problem."""
    notebook = sync_twins.with_helper(jupytext.read(TEMPLATE))
    cell = next(c for c in notebook.cells if c.metadata.get("answer"))
    cell.source = "def answer(n):\n    return n + 2\n"
    failed_cell, ename, evalue = execute_until_error(notebook, tmp_path)
    assert ename == "CheckFailed"
    assert "answer(21) returned 23, expected 42: did you double n?" in evalue


def test_glue_roles_become_placeholders_or_escaped_values():
    text = "a {glue:text}`ch9_x:.2f` b {glue}`ch9_s` c {glue:text}`ch9_hidden:,d`"
    placeholders = ("a `‹ch9_x›` b `‹ch9_s›` c `‹ch9_hidden›`", 3)
    assert make_student.glue_placeholders(text, set()) == placeholders
    values = {"ch9_x": "3.14159", "ch9_s": "'a*b'"}
    filled = make_student.glue_placeholders(text, set(), values)
    assert filled == (r"a 3.14 b a\*b c `‹ch9_hidden›`", 1)


def test_references_to_removed_labels_become_text():
    text = "See {numref}`Figure %s <fig-ch9-sol>`, {ref}`ch9-sol-eq` and {ref}`ch9-kept`, [this](#fig-ch9-sol)."
    unlinked = make_student.unlink_removed_labels(text, {"fig-ch9-sol", "ch9-sol-eq"})
    assert unlinked == "See Figure, the solution and {ref}`ch9-kept`, this."
    # a kept code cell's figure appears when the cell runs: it is "the figure", not "the solution"
    text = "{numref}`fig-ch9-run` shows it. As in {numref}`fig-ch9-run`, and {ref}`ch9-sol-eq`."
    removed, kept = {"fig-ch9-run", "ch9-sol-eq"}, {"fig-ch9-run"}
    unlinked = make_student.unlink_removed_labels(text, removed, kept)
    assert unlinked == "The figure shows it. As in the figure, and the solution."


def test_site_shows_only_values_glued_before_the_first_stub(tmp_path):
    """Values come from the execution cache, and only from unchanged cells before the first stub."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    chapter = demo_chapter(
        tmp_path,
        """```{code-cell} ipython3
from myst_nb import glue
glue('ch9_before', 41, display=False)
```

Before: {glue:text}`ch9_before`; after: {glue:text}`ch9_after`.

```{code-cell} ipython3
:answer: q9

def f():
    # TODO: return 42.
    ### BEGIN SOLUTION
    return 42
    ### END SOLUTION
```

```{code-cell} ipython3
glue('ch9_after', f(), display=False)
```
""",
    )
    cache_path = tmp_path / "cache"
    # no cache: placeholders only
    assert make_student.shown_glue_values(chapter, cache_path) == {}
    executed, bundle = jupytext.read(chapter), jupytext.read(chapter)
    execute_until_error(executed, tmp_path / "run")
    # as myst-nb caches it: the source notebook + outputs
    for run, cell in zip(executed.cells, bundle.cells):
        if cell.cell_type == "code":
            cell.outputs = run.outputs
    get_cache(str(cache_path)).cache_notebook_bundle(
        CacheBundleIn(bundle, str(chapter)), check_validity=False
    )
    values = make_student.shown_glue_values(chapter, cache_path)
    assert values == {"ch9_before": "41"}
    student = make_student.student_notebooks([chapter], {chapter: values})[chapter]
    text = "\n".join(cell.source for cell in student.cells)
    assert "Before: 41; after: `‹ch9_after›`." in text
    assert "42" not in text.replace("TODO: return 42.", "")
