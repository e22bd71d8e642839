"""Generate the homework edition from the chapter sources, or with --check report what drifted.

One job: from every chapters/NN_name.md write

* student/NN_name.ipynb -- the student notebook (committed; Colab and Binder open it from the repository);
* student/README.md      -- the list of student notebooks with their Colab and Binder links (committed);
* _build/student_src/    -- the MyST sources of the student site (git-ignored; `make student` builds it).

The conventions are nbgrader's (https://nbgrader.readthedocs.io): in code, the answer sits between
`### BEGIN SOLUTION` and `### END SOLUTION`, right below a `# TODO: ...` comment saying what to implement.
In prose, the answer sits in a gated sphinx-exercise solution (`{solution-start}` ... `{solution-end}`)
or a `{solution}` directive. The student edition

* replaces each marked code region by `raise NotImplementedError("<the TODO text>")` at the marker's
  indentation, so the signature, the TODO comment and the code around the region stay;
* replaces a cell outside the solutions whose metadata says `answers_question: <question>` (an argument
  in the book's own text that would answer a written question: its prose, or a check cell that spells it
  out) by a one-line note, one note for a run of such cells;
* removes solution prose; a solution's code cells stay (stubbed) when they hold a marked region, and are
  dropped otherwise (a cell inside a solution without markers is all answer);
* keeps every other cell, the self-checks included, and stores no outputs;
* shows glued values and figures as placeholders (`‹ch1_name›`) in the notebooks: they are outputs, and the
  answers may be among them. The student site shows the values glued before the chapter's first stub by cells
  it keeps unchanged (read from the book's execution cache, when `make book` has run), and placeholders for
  the rest. References to labels that were removed (a solution's figures or equations) become plain text.

Usage: python tools/make_student.py [--check]
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat
import yaml
from sync_twins import with_helper

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
STUDENT = ROOT / "student"
SITE_SRC = ROOT / "_build" / "student_src"
# Pages of the main book that do not belong in the student site.
INSTRUCTOR_ONLY_PAGES = {"instructors"}

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
# Stubs must fit the page like the rest of the code (tests/test_code_style.py).
LINE_LENGTH = tomllib.loads((ROOT / "ruff.toml").read_text())["line-length"]
STUDENT_NOTE = (
    "> **Student edition.** The solutions are removed. A code cell with a `# TODO` raises "
    "`NotImplementedError` until you complete it; the self-check cell after each exercise then prints "
    "`PASSED: ...`, or stops with `FAILED: ...` and names what to look at."
)
PLACEHOLDER_NOTE = (
    " Numbers that the book computes appear here as placeholders such as `‹{name}›`: the code cell with "
    '`glue("{name}", ...)` computes each one.'
)


class StudentEditionError(ValueError):
    """A chapter does not follow the solution-marker conventions; the message says where and how to fix it."""


# ----------------------------------------------------------------------------------------------------
# Code: nbgrader-style solution regions
# ----------------------------------------------------------------------------------------------------
@dataclass
class Region:
    """One `### BEGIN SOLUTION` ... `### END SOLUTION` region of a code cell."""

    cell_index: (
        int  # index of the code cell in the chapter notebook (as read by jupytext)
    )
    begin: int  # line index of the BEGIN marker
    end: int  # line index of the END marker
    todo: str  # the TODO text (what to implement)
    code: list = field(default_factory=list)  # the solution lines between the markers
    in_solution_prose: bool = (
        False  # the cell sits inside a {solution-start}..{solution-end} block
    )


def _todo_text(lines, begin, where):
    """The `# TODO: ...` comment block right above line `begin` (continuation comment lines included)."""
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    block = []
    i = begin - 1
    while (
        i >= 0
        and lines[i].startswith(indent + "#")
        and not lines[i].strip().startswith("###")
    ):
        block.insert(0, lines[i].strip().lstrip("#").strip())
        i -= 1
    for k, text in enumerate(block):
        if text.upper().startswith("TODO"):
            todo = " ".join(
                [re.sub(r"^TODO\s*:?\s*", "", text, flags=re.I)] + block[k + 1 :]
            ).strip()
            if todo:
                return todo
    raise StudentEditionError(
        f"{where}: `{BEGIN}` on line {begin + 1} has no `# TODO: <what to implement>` comment right above "
        "it (same indentation). Add one: the student edition turns it into the stub's message."
    )


def find_regions(source: str, where: str):
    """[(begin, end, todo)] for the marked regions of one code cell, in order; errors name the line."""
    lines = source.split("\n")
    regions = []
    open_at = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped == BEGIN:
            if open_at is not None:
                raise StudentEditionError(
                    f"{where}: `{BEGIN}` on line {i + 1} while the region opened on line {open_at + 1} is not "
                    f"closed; add `{END}` before opening another region."
                )
            open_at = i
        elif stripped == END:
            if open_at is None:
                raise StudentEditionError(
                    f"{where}: `{END}` on line {i + 1} without a `{BEGIN}` before it."
                )
            regions.append((open_at, i, _todo_text(lines, open_at, where)))
            open_at = None
        elif stripped.startswith("### BEGIN") or stripped.startswith("### END"):
            raise StudentEditionError(
                f"{where}: line {i + 1} is {stripped!r}; the markers are exactly `{BEGIN}` and `{END}`."
            )
    if open_at is not None:
        raise StudentEditionError(
            f"{where}: `{BEGIN}` on line {open_at + 1} is never closed by `{END}`."
        )
    return regions


def stub_source(source: str, where: str, only=None) -> str:
    """The cell source with each marked region (or only region number `only`) replaced by a raise."""
    lines = source.split("\n")
    regions = find_regions(source, where)
    for number in reversed(range(len(regions))):
        if only is not None and number != only:
            continue
        begin, end, todo = regions[number]
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        lines[begin : end + 1] = stub_lines(indent, f"TODO: {todo}")
    return "\n".join(lines)


def stub_lines(indent: str, message: str) -> list:
    """`raise NotImplementedError(message)` as ruff formats it: one line if it fits in
    LINE_LENGTH, else the message split at spaces into implicitly concatenated strings."""
    one_line = f"{indent}raise NotImplementedError({_literal(message)})"
    if len(one_line) <= LINE_LENGTH:
        return [one_line]
    room = LINE_LENGTH - len(indent) - 4  # the continuation lines' extra indent
    pieces, piece = [], ""
    for word in re.split(r"(?<= )", message):  # words keep their trailing space
        if piece and len(_literal(piece + word)) > room:
            pieces.append(piece)
            piece = ""
        piece += word
    pieces.append(piece)
    inner = indent + " " * 4
    return [
        f"{indent}raise NotImplementedError(",
        *(inner + _literal(p) for p in pieces),
        f"{indent})",
    ]


def _literal(text: str) -> str:
    """A string literal for `text` in ruff's style: double quotes unless that needs escapes."""
    if '"' in text and "'" not in text:
        return repr(text)
    return json.dumps(text, ensure_ascii=False)


# ----------------------------------------------------------------------------------------------------
# Prose: sphinx-exercise solutions, glue, references
# ----------------------------------------------------------------------------------------------------
FENCE_OPEN = re.compile(
    r"^(?P<indent>\s*)(?P<fence>`{3,}|:{3,})\s*\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*)$"
)
LABEL_DEFS = [
    re.compile(r"^\s*\((?P<label>[^()\s]+)\)=\s*$", re.M),  # (label)=
    re.compile(r"^\s*:(?:label|name):\s*(?P<label>\S+)\s*$", re.M),  # directive options
    re.compile(r"\$\$\s*\((?P<label>[^()\s]+)\)\s*$", re.M),  # $$ ... $$ (label)
]
GLUE_ROLE = re.compile(r"\{glue(?::\w*)?\}`(?P<body>[^`]+)`")


def _is_close(line, fence):
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def _skip_directive(lines, i, fence):
    """Index of the line after the directive that opens on line i with `fence`."""
    j = i + 1
    while j < len(lines) and not _is_close(lines[j], fence):
        j += 1
    if j == len(lines):
        raise StudentEditionError(
            f"the directive opened by {lines[i].strip()!r} is not closed by {fence}"
        )
    return j + 1


def split_solution_prose(text: str, in_solution: bool):
    """Remove solution prose from one markdown cell.

    Returns (kept text, removed text, in_solution after this cell, whether a solution ended here)."""
    lines = text.split("\n")
    kept, removed = [], []
    i = 0
    while i < len(lines):
        match = FENCE_OPEN.match(lines[i])
        name = match.group("name") if match else None
        if not in_solution and name in ("solution-start", "solution"):
            after = _skip_directive(lines, i, match.group("fence"))
            removed.extend(lines[i:after])
            i = after
            in_solution = name == "solution-start"
            continue
        if in_solution and name == "solution-end":
            after = _skip_directive(lines, i, match.group("fence"))
            removed.extend(lines[i:after])
            i = after
            in_solution = False
            continue
        if not in_solution and name == "solution-end":
            raise StudentEditionError(
                "a `{solution-end}` without a `{solution-start}` before it"
            )
        (removed if in_solution else kept).append(lines[i])
        i += 1
    return "\n".join(kept).strip("\n"), "\n".join(removed), in_solution


def glue_placeholders(text: str, removed_labels: set, values=None):
    """Replace glue roles and directives by placeholders, or a role by its value when `values` (name ->
    text/plain) has it. Returns (text, number of placeholders)."""
    count = 0
    values = values or {}

    def role(match):
        nonlocal count
        kind = re.match(r"\{glue(?::(\w*))?\}", match.group(0)).group(1) or ""
        key, _, spec = match.group("body").partition(":")
        name = key.strip()
        if name in values and kind in ("", "text", "any"):
            try:
                from myst_nb.core.variables import format_plain_text

                return re.sub(
                    r"([\\`*_{}\[\]<>#|$~^&!])",
                    r"\\\1",
                    format_plain_text(values[name], spec),
                )
            except Exception:  # noqa: BLE001 - a value that does not format stays a placeholder
                pass
        count += 1
        return f"`‹{name}›`"

    text = GLUE_ROLE.sub(role, text)
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        match = FENCE_OPEN.match(lines[i])
        if match and (
            match.group("name") == "glue" or match.group("name").startswith("glue:")
        ):
            after = _skip_directive(lines, i, match.group("fence"))
            block = "\n".join(lines[i:after])
            for pattern in LABEL_DEFS:
                removed_labels.update(m.group("label") for m in pattern.finditer(block))
            kind = "figure" if match.group("name") == "glue:figure" else "output"
            name = match.group("arg").strip()
            out.append(
                f"{match.group('indent')}*(The book shows the {kind} `‹{name}›` here: the code cell with "
                f'`glue("{name}", ...)` makes it.)*'
            )
            count += 1
            i = after
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out), count


def unlink_removed_labels(
    text: str, removed: set, figures=frozenset(), left_out=frozenset()
) -> str:
    """References to labels that the student edition does not have become plain text: "the figure" for
    the labels in `figures` (a code cell's figure, shown once the cell has run), "a part of the book
    left out here" for those in `left_out` (defined in an answers_question cell), "the solution" for the
    rest; capitalised at the start of a sentence."""
    if not removed:
        return text

    def role(match):
        body = match.group("body")
        explicit = re.match(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", body, re.S)
        target = (explicit.group("target") if explicit else body).strip()
        if target not in removed:
            return match.group(0)
        title = (
            explicit.group("title").replace("%s", "").replace("{number}", "").strip()
            if explicit
            else ""
        )
        if title:
            return title
        words = (
            "the figure"
            if target in figures
            else "a part of the book left out here"
            if target in left_out
            else "the solution"
        )
        before = match.string[: match.start()].rstrip()
        return words.capitalize() if not before or before[-1] in ".!?:" else words

    text = re.sub(r"\{(?:ref|numref|eq|prf:ref|doc)\}`(?P<body>[^`]+)`", role, text)
    text = re.sub(
        r"\[(?P<title>[^\]]*)\]\(#(?P<target>[^)\s]+)\)",
        lambda m: m.group("title") if m.group("target") in removed else m.group(0),
        text,
    )
    return text


def removed_labels_of(chapter_texts):
    """Labels defined in removed prose, or by code cells' figure metadata (no outputs in the student site)."""
    removed = set()
    for _, removed_prose, notebook in chapter_texts:
        for pattern in LABEL_DEFS:
            removed.update(m.group("label") for m in pattern.finditer(removed_prose))
        removed.update(code_figure_labels_of([notebook]))
    return removed


def code_figure_labels_of(notebooks):
    """Labels of the figures that code cells make (mystnb figure metadata)."""
    return {
        cell.metadata.get("mystnb", {}).get("figure", {}).get("name")
        for notebook in notebooks
        for cell in notebook.cells
        if cell.cell_type == "code"
        and cell.metadata.get("mystnb", {}).get("figure", {}).get("name")
    }


# ----------------------------------------------------------------------------------------------------
# Whole chapters
# ----------------------------------------------------------------------------------------------------
def chapter_regions(md_path: Path):
    """Every marked region of a chapter, in order (for tests: the solution code that must not leak)."""
    notebook = jupytext.read(md_path)
    regions = []
    in_solution = False
    for index, cell in enumerate(notebook.cells):
        where = f"{md_path.name}, code cell {index}"
        if cell.cell_type == "markdown":
            _, _, in_solution = split_solution_prose(cell.source, in_solution)
            continue
        if cell.cell_type != "code":
            continue
        lines = cell.source.split("\n")
        for begin, end, todo in find_regions(cell.source, where):
            regions.append(
                Region(index, begin, end, todo, lines[begin + 1 : end], in_solution)
            )
    return regions


def solution_prose(md_path: Path) -> str:
    """The prose that the student edition removes (for leak tests)."""
    notebook = jupytext.read(md_path)
    in_solution, removed = False, []
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.metadata.get(ANSWERS):
            removed.append(cell.source)
        elif cell.cell_type == "markdown":
            _, gone, in_solution = split_solution_prose(cell.source, in_solution)
            removed.append(gone)
    return "\n".join(removed)


def _rel(path: Path):
    """The path relative to the repository (for messages), or as given when it is elsewhere."""
    try:
        return path.relative_to(ROOT)
    except ValueError:
        return path


WRITTEN = "written_answer"  # markdown cell metadata: this cell is the answer to a written question
# markdown cell metadata: this cell, outside the solutions, argues what a written question asks for
ANSWERS = "answers_question"


def answers_note(question: str) -> str:
    return (
        f"*(Here the book argues what question `{question}` asks you to show; the student "
        "edition leaves it out.)*"
    )


def answer_cell_source(question: str) -> str:
    """The student's answer cell for a written question: a heading line to write under."""
    return f"**Answer to {question}** (written, graded by hand)\n\n"


def _transform(md_path: Path):
    """(student notebook before placeholder/label passes, removed prose, original notebook)."""
    original = jupytext.read(md_path)
    notebook = copy.deepcopy(original)
    # First pass: which solution blocks hold marked code (those get a "Your turn" line).
    block, in_solution, blocks_with_code = 0, False, set()
    for index, cell in enumerate(original.cells):
        if cell.cell_type == "markdown":
            _, _, now_in = split_solution_prose(cell.source, in_solution)
            block += now_in and not in_solution
            in_solution = now_in
        elif cell.cell_type == "code" and in_solution and BEGIN in cell.source:
            blocks_with_code.add(block)
    cells = []
    removed_prose = []
    block, in_solution = 0, False
    for index, cell in enumerate(original.cells):
        where = f"{_rel(md_path)}, cell {index}"
        if cell.metadata.get(ANSWERS):
            # An argument answering a written question, in prose or in a check cell: one note
            # stands for a run of such cells; the code of the run goes too (it shows the argument).
            note = answers_note(cell.metadata[ANSWERS])
            if cell.cell_type == "markdown":
                removed_prose.append(cell.source)
            if not (cells and cells[-1].source == note):
                cells.append(nbformat.v4.new_markdown_cell(note))
            continue
        if cell.cell_type == "markdown" and cell.metadata.get(WRITTEN):
            # A written answer (a proof, a derivation) becomes an empty answer cell whose first
            # line the grader looks for (tools/grade.py).
            removed_prose.append(cell.source)
            new = copy.deepcopy(cell)
            new.source = answer_cell_source(new.metadata.pop(WRITTEN))
            cells.append(new)
            continue
        if cell.cell_type == "markdown":
            try:
                kept, gone, now_in = split_solution_prose(cell.source, in_solution)
            except StudentEditionError as error:
                raise StudentEditionError(f"{where}: {error}") from None
            removed_prose.append(gone)
            block += now_in and not in_solution
            if now_in and not in_solution and block in blocks_with_code:
                kept = (kept + "\n\n" if kept else "") + (
                    "**Your turn.** Complete the code below where it says `# TODO`, then run the self-check."
                )
            in_solution = now_in
            if kept.strip():
                new = copy.deepcopy(cell)
                new.source = kept
                cells.append(new)
            continue
        if cell.cell_type == "code":
            has_regions = bool(find_regions(cell.source, where))
            if in_solution and not has_regions:
                continue  # a code cell inside a solution without markers is all answer
            new = copy.deepcopy(cell)
            new.source = stub_source(cell.source, where)
            new.outputs = []
            new.execution_count = None
            cells.append(new)
            continue
        cells.append(copy.deepcopy(cell))
    if in_solution:
        raise StudentEditionError(
            f"{_rel(md_path)}: a `{{solution-start}}` is never closed by "
            "`{solution-end}`."
        )
    notebook.cells = cells
    return notebook, "\n".join(removed_prose), original


def student_notebooks(md_paths, glue_values=None):
    """{md_path: student notebook (jupytext metadata kept)} with placeholders and references fixed.

    glue_values: {md_path: {name: text/plain}} of values that may be shown (the student site only)."""
    glue_values = glue_values or {}
    transformed = {path: _transform(path) for path in md_paths}
    removed = removed_labels_of(transformed.values())
    # a figure of a kept code cell appears once the student runs it; one of a solution is gone
    figures = code_figure_labels_of(student for student, _, _ in transformed.values())
    left_out = {
        m.group("label")
        for _, _, original in transformed.values()
        for cell in original.cells
        if cell.cell_type == "markdown" and cell.metadata.get(ANSWERS)
        for pattern in LABEL_DEFS
        for m in pattern.finditer(cell.source)
    }
    result = {}
    for path, (notebook, _, _) in transformed.items():
        placeholders = 0
        first_name = None
        for cell in notebook.cells:
            if cell.cell_type != "markdown":
                continue
            names = [
                m.group("body").split(":")[0].strip()
                for m in GLUE_ROLE.finditer(cell.source)
                if m.group("body").split(":")[0].strip()
                not in glue_values.get(path, {})
            ]
            first_name = first_name or (names[0] if names else None)
            cell.source, count = glue_placeholders(
                cell.source, removed, glue_values.get(path)
            )
            placeholders += count
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                cell.source = unlink_removed_labels(
                    cell.source, removed, figures, left_out
                )
        note = STUDENT_NOTE + (
            PLACEHOLDER_NOTE.format(name=first_name or "name") if placeholders else ""
        )
        for cell in notebook.cells:  # the note goes right below the chapter title
            if cell.cell_type == "markdown" and re.search(r"^# ", cell.source, re.M):
                cell.source = re.sub(
                    r"^(# .*)$",
                    lambda m: m.group(1) + "\n\n" + note,
                    cell.source,
                    count=1,
                    flags=re.M,
                )
                break
        else:
            notebook.cells.insert(0, nbformat.v4.new_markdown_cell(note))
        result[path] = notebook
    return result


def shown_glue_values(md_path: Path, cache_path: Path | None = None):
    """{name: text/plain} of the glued values that the student site may show, from the book's execution cache.

    Only values glued by cells that the student edition keeps unchanged and that come before the chapter's
    first stub: they cannot depend on an answer. Empty when the book has not been executed (`make book`)
    with the chapter as it is now; the site then shows placeholders."""
    if cache_path is None:
        config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
        cache_path = ROOT / (
            (config.get("execute") or {}).get("cache") or "_build/.jupyter_cache"
        )
    if not cache_path.exists():
        return {}
    original = jupytext.read(md_path)
    allowed = []
    in_solution = False
    for cell in original.cells:
        if cell.cell_type == "markdown":
            _, _, in_solution = split_solution_prose(cell.source, in_solution)
        elif cell.cell_type == "code":
            if BEGIN in cell.source or in_solution:
                break
            if not cell.metadata.get(ANSWERS):  # left out of the student edition
                allowed.append(cell.source)
    try:
        from jupyter_cache import get_cache

        cache = get_cache(str(cache_path))
        executed = cache.get_cache_bundle(cache.match_cache_notebook(original).pk).nb
    except Exception:  # noqa: BLE001 - no cached execution of this version of the chapter
        return {}
    values = {}
    for cell in executed.cells:
        if cell.cell_type != "code" or cell.source not in allowed:
            continue
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get("application/papermill.record/text/plain")
            if name and text is not None:
                values[name] = text
    return values


def notebook_text(notebook) -> str:
    """The .ipynb text of a student notebook: no jupytext metadata, numbered cell ids, no outputs."""
    notebook = copy.deepcopy(notebook)
    notebook.metadata.pop("jupytext", None)
    with_helper(notebook)  # runs alone in Colab: the helper module, inlined
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index:03d}"
    return jupytext.writes(notebook, fmt="ipynb")


def chapter_paths():
    return sorted(CHAPTERS.glob("[0-9][0-9]_*.md"))


def chapter_title(md_path: Path) -> str:
    match = re.search(r"^# (.+)$", md_path.read_text(encoding="utf-8"), re.M)
    return match.group(1).strip() if match else md_path.stem


def launch_links(stem: str):
    """(GitHub, Colab, Binder) URLs of student/<stem>.ipynb, from repository.url in _config.yml.

    The Binder URL has the form that the book theme uses for its own launch buttons."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repository = config.get("repository", {})
    url = repository.get("url", "").rstrip("/")
    branch = repository.get("branch", "main")
    match = re.match(r"^https://github\.com/(?P<slug>[^/]+/[^/]+?)(?:\.git)?$", url)
    if not match:
        raise StudentEditionError(
            f"_config.yml: repository.url is {url!r}; the Colab and Binder links need "
            "a GitHub URL such as https://github.com/OWNER/REPO."
        )
    slug = match.group("slug")
    binder = (
        config.get("launch_buttons", {})
        .get("binderhub_url", "https://mybinder.org")
        .rstrip("/")
    )
    interface = {"classic": "tree", "jupyterlab": "lab/tree"}.get(
        config.get("launch_buttons", {}).get("notebook_interface", "classic"), "tree"
    )
    path = f"student/{stem}.ipynb"
    return (
        f"https://github.com/{slug}/blob/{branch}/{path}",
        f"https://colab.research.google.com/github/{slug}/blob/{branch}/{path}",
        f"{binder}/v2/gh/{slug}/{branch}?urlpath={interface}/{path}",
    )


def readme_text(md_paths) -> str:
    """student/README.md: the notebooks with their launch links (GitHub shows it; the instructor page
    includes the table)."""
    rows = [
        "| Chapter | Student notebook | Open in Colab | Launch on Binder |",
        "| --- | --- | --- | --- |",
    ]
    for number, path in enumerate(md_paths, start=1):
        github, colab, binder = launch_links(path.stem)
        rows.append(
            f"| {number}. {chapter_title(path)} | [{path.stem}.ipynb]({github}) | "
            f"[Open in Colab]({colab}) | [Launch on Binder]({binder}) |"
        )
    return "\n".join(
        [
            "# Student notebooks",
            "",
            "Generated by `tools/make_student.py` from `chapters/*.md` (`make student`); do not edit by hand.",
            "Each notebook is its chapter with the solutions replaced by stubs; see the book's instructor page.",
            "",
            "<!-- table -->",
            *rows,
            "",
        ]
    )


def expected_student_files():
    """{path under student/: text} for the committed part of the homework edition."""
    paths = chapter_paths()
    notebooks = student_notebooks(paths)
    files = {
        STUDENT / f"{path.stem}.ipynb": notebook_text(nb)
        for path, nb in notebooks.items()
    }
    files[STUDENT / "README.md"] = readme_text(paths)
    return files, notebooks


# ----------------------------------------------------------------------------------------------------
# The student site sources
# ----------------------------------------------------------------------------------------------------
def _rewrite_toc(entries, dropped):
    kept = []
    for entry in entries:
        entry = dict(entry)
        if "file" in entry:
            stem = entry["file"]
            if stem in INSTRUCTOR_ONLY_PAGES:
                dropped.add(stem)
                continue
            if stem.startswith("chapters/"):
                entry["file"] = "student/" + stem[len("chapters/") :]
        for key in ("sections", "chapters"):
            if key in entry:
                entry[key] = _rewrite_toc(entry[key], dropped)
        if "parts" in entry:
            entry["parts"] = _rewrite_toc(entry["parts"], dropped)
        kept.append(entry)
    return kept


def _toc_files(entries):
    for entry in entries:
        for key in ("root", "file"):
            if key in entry:
                yield entry[key]
        for key in ("sections", "chapters", "parts"):
            yield from _toc_files(entry.get(key, []))


def write_site_sources(notebooks):
    """Lay out _build/student_src: config, toc, pages, and the student chapters under student/."""
    if SITE_SRC.exists():
        shutil.rmtree(SITE_SRC)
    (SITE_SRC / "student").mkdir(parents=True)

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config["title"] = f"{config.get('title', 'Book')} (student edition)"
    config["exclude_patterns"] = [
        p for p in config.get("exclude_patterns", []) if p.strip("/") != "student"
    ]
    # No execution: a stub would raise, and outputs could give answers away.
    config["execute"] = {**config.get("execute", {}), "execute_notebooks": "off"}
    config["execute"].pop("cache", None)
    (SITE_SRC / "_config.yml").write_text(
        "# Generated by tools/make_student.py from the book's _config.yml; do not edit.\n"
        + yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    dropped = set()
    toc = _rewrite_toc([toc], dropped)[0]
    (SITE_SRC / "_toc.yml").write_text(
        "# Generated by tools/make_student.py from the book's _toc.yml; do not edit.\n"
        + yaml.safe_dump(toc, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )

    if (ROOT / "assets").exists():
        shutil.copytree(ROOT / "assets", SITE_SRC / "assets")
    # Folders the configuration points at (local extensions, static files, the vendored MathJax): linked.
    sphinx = config.get("sphinx", {})
    referenced = list((sphinx.get("local_extensions") or {}).values())
    for key in ("html_extra_path", "html_static_path", "templates_path"):
        referenced += list((sphinx.get("config") or {}).get(key) or [])
    referenced += [
        config.get("logo") or "",
        (config.get("html") or {}).get("favicon") or "",
    ]
    for entry in referenced:
        top = Path(str(entry)).parts[0] if str(entry).strip() else None
        if (
            top
            and not Path(top).is_absolute()
            and (ROOT / top).exists()
            and not (SITE_SRC / top).exists()
        ):
            (SITE_SRC / top).symlink_to(
                ROOT / top, target_is_directory=(ROOT / top).is_dir()
            )

    # The appendix page shows the helper module (literalinclude): it holds no solution.
    (SITE_SRC / "dlbook").symlink_to(ROOT / "dlbook", target_is_directory=True)

    for path, notebook in notebooks.items():
        target = SITE_SRC / "student" / path.name
        jupytext.write(notebook, target, fmt="md:myst")
        # The theme's launch buttons point at the .ipynb next to a page when there is one: the student
        # notebook in the repository, never the solution twin.
        shutil.copy(STUDENT / f"{path.stem}.ipynb", target.with_suffix(".ipynb"))

    for stem in _toc_files([toc]):
        if stem.startswith("student/"):
            continue
        source = next(
            (
                ROOT / f"{stem}{ext}"
                for ext in (".md", ".ipynb", ".rst")
                if (ROOT / f"{stem}{ext}").exists()
            ),
            None,
        )
        if source is None:
            continue
        text = source.read_text(encoding="utf-8")
        if source.suffix == ".md":
            text = re.sub(r"(?<![\w/])chapters/(\d\d_)", r"student/\1", text)
            for gone in dropped:
                text = re.sub(
                    r"\{doc\}`(?:(?P<title>[^`<]*?)\s*<)?/?"
                    + re.escape(gone)
                    + r"(?:\.md)?>?`",
                    lambda m: m.group("title") or "the instructor page",
                    text,
                )
                text = re.sub(
                    r"\[(?P<title>[^\]]*)\]\(/?" + re.escape(gone) + r"(?:\.md)?\)",
                    lambda m: m.group("title"),
                    text,
                )
        target = SITE_SRC / source.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if a committed student notebook is missing, stale or extra; write nothing",
    )
    args = parser.parse_args()
    try:
        expected, notebooks = expected_student_files()
    except StudentEditionError as error:
        print(f"make_student: {error}", file=sys.stderr)
        return 2
    present = (
        {p for p in STUDENT.iterdir() if p.is_file()} if STUDENT.exists() else set()
    )
    drifted = [
        p
        for p, text in expected.items()
        if not p.exists() or p.read_text(encoding="utf-8") != text
    ]
    extra = sorted(present - set(expected))
    if args.check:
        if drifted or extra:
            print(
                "The student edition files differ from a fresh generation; run `make student` "
                "(or python tools/make_student.py):",
                file=sys.stderr,
            )
            for path in drifted:
                print(f"  {path.relative_to(ROOT)} (stale or missing)", file=sys.stderr)
            for path in extra:
                print(
                    f"  {path.relative_to(ROOT)} (no chapter source)", file=sys.stderr
                )
            return 1
        return 0
    STUDENT.mkdir(exist_ok=True)
    for path in drifted:
        path.write_text(expected[path], encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    for path in extra:
        path.unlink()
        print(f"removed {path.relative_to(ROOT)} (no chapter source)")
    paths = chapter_paths()
    write_site_sources(
        student_notebooks(paths, {path: shown_glue_values(path) for path in paths})
    )
    print(f"wrote the student site sources to {SITE_SRC.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
