"""Generate the homework edition from the chapter sources, or with --check report what drifted.

From every chapters/NN_name.md write student/NN_name.ipynb (committed; Colab and Binder open it),
student/README.md (the notebooks with their launch links, committed) and _build/student_src/ (the student
site's MyST sources, git-ignored; `make student` builds it). The student edition

* in each answer cell (metadata `answer: <question>`, and only there) replaces each `### BEGIN SOLUTION`
  ... `### END SOLUTION` region (nbgrader's markers) by
  `raise NotImplementedError("TODO: <the # TODO comment right above it>")` at the marker's indentation;
* copies each question's public cases into its self-check cell (`sync_twins.with_helper`);
* removes solution prose (`{solution-start}` ... `{solution-end}`, or `{solution}`); a code cell inside a
  solution stays (stubbed) when it is an answer cell and is dropped otherwise;
* turns a `written_answer: <question>` markdown cell into an empty answer cell, and a run of
  `answers_question: <question>` cells (the book's statement or argument of what a question asks) into one note;
* keeps every other cell, stores no outputs, and shows glued values and figures as placeholders
  (`‹ch1_name›`); the site shows the values glued before the first stub by unchanged cells (from the
  book's execution cache). References to removed labels become plain text.

Usage: python tools/make_student.py [--check | --distribution [STEM ...]] (the course repository)
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import shutil
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml
from sync_twins import HELPER, LINE_LENGTH, ipynb_text

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
STUDENT = ROOT / "student"
SITE_SRC = ROOT / "_build" / "student_src"
DISTRIBUTION = ROOT / "_build" / "distribution"  # make assign: the course's repository
PDFS = ROOT / "_build" / "pdf" / "student"  # make pdf: the student handouts
DISTRIBUTION_README = ROOT / "templates" / "distribution_README.md"
# pages of the book left out of the student site
INSTRUCTOR_ONLY_PAGES = {"instructors"}
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
# cell metadata: the model answer to a written question (markdown), the book's own argument for one
WRITTEN, ANSWERS = "written_answer", "answers_question"
STUDENT_NOTE = (
    "> **Student edition.** The solutions are removed. A code cell with a `# TODO` raises "
    "`NotImplementedError` until you complete it; the self-check cell after each exercise then prints "
    "`PASSED: ...`, or stops with `FAILED: ...` and names what to look at."
)
PLACEHOLDER_NOTE = (
    " Numbers that the book computes appear here as placeholders such as `‹{name}›`: the code cell with "
    '`glue("{name}", ...)` computes each one.'
)
YOUR_TURN = "**Your turn.** Complete the code below where it says `# TODO`, then run the self-check."


class StudentEditionError(ValueError):
    """A chapter breaks the marker conventions; the message says where and how to fix it."""


# ----------------------------------------------------------------------------------------------------
# Code: nbgrader-style solution regions
# ----------------------------------------------------------------------------------------------------
def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _todo_text(lines, begin, where):
    """The `# TODO: ...` comment block right above line `begin` (continuation lines included)."""
    indent = _indent(lines[begin])
    block, i = [], begin - 1
    while i >= 0 and re.match(re.escape(indent) + "#(?!##)", lines[i]):
        block.insert(0, lines[i].strip().lstrip("#").strip())
        i -= 1
    for k, text in enumerate(block):
        if text.upper().startswith("TODO"):
            todo = " ".join(
                [re.sub(r"^TODO\s*:?\s*", "", text, flags=re.I)] + block[k + 1 :]
            )
            if todo.strip():
                return todo.strip()
    raise StudentEditionError(
        f"{where}: `{BEGIN}` on line {begin + 1} has no `# TODO: <what to implement>` comment right above "
        "it (same indentation). Add one: the student edition turns it into the stub's message."
    )


def find_regions(source: str, where: str):
    """[(begin, end, todo)] for the marked regions of one code cell, in order; errors name the line."""
    lines = source.split("\n")
    regions, open_at = [], None
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
        elif stripped.startswith(("### BEGIN", "### END")):
            raise StudentEditionError(
                f"{where}: line {i + 1} is {stripped!r}; the markers are exactly `{BEGIN}` and `{END}`."
            )
    if open_at is not None:
        raise StudentEditionError(
            f"{where}: `{BEGIN}` on line {open_at + 1} is never closed by `{END}`."
        )
    return regions


def stub_source(source: str, where: str) -> str:
    """The cell source with each marked region replaced by a raise."""
    lines = source.split("\n")
    for begin, end, todo in reversed(find_regions(source, where)):
        lines[begin : end + 1] = stub_lines(_indent(lines[begin]), f"TODO: {todo}")
    return "\n".join(lines)


def stub_lines(indent: str, message: str) -> list:
    """`raise NotImplementedError(message)` as ruff formats it: one line if it fits in LINE_LENGTH,
    else the message split at spaces into implicitly concatenated strings."""
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
    inner = [f"{indent}    {_literal(p)}" for p in pieces]
    return [f"{indent}raise NotImplementedError(", *inner, f"{indent})"]


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
GLUE_ROLE = re.compile(r"\{glue(?::(?P<kind>\w*))?\}`(?P<body>[^`]+)`")


def _labels(text: str) -> set:
    return {m.group("label") for pattern in LABEL_DEFS for m in pattern.finditer(text)}


def _skip_directive(lines, i, fence):
    """Index of the line after the directive that opens on line i with `fence`."""
    for j in range(i + 1, len(lines)):
        stripped = lines[j].strip()
        if len(stripped) >= len(fence) and set(stripped) == {fence[0]}:
            return j + 1
    raise StudentEditionError(
        f"the directive opened by {lines[i].strip()!r} is not closed by {fence}"
    )


def split_solution_prose(text: str, in_solution: bool):
    """(kept text, removed text, in_solution after this markdown cell)."""
    lines = text.split("\n")
    kept, removed, i = [], [], 0
    while i < len(lines):
        match = FENCE_OPEN.match(lines[i])
        name = match.group("name") if match else None
        if name == "solution-end" and not in_solution:
            raise StudentEditionError(
                "a `{solution-end}` without a `{solution-start}` before it"
            )
        if (not in_solution and name in ("solution-start", "solution")) or (
            in_solution and name == "solution-end"
        ):
            after = _skip_directive(lines, i, match.group("fence"))
            removed.extend(lines[i:after])
            i = after
            in_solution = name == "solution-start"
            continue
        (removed if in_solution else kept).append(lines[i])
        i += 1
    return "\n".join(kept).strip("\n"), "\n".join(removed), in_solution


def glue_placeholders(text: str, removed_labels: set, values=None):
    """Glue roles and directives as placeholders, or a role as its value when `values` (name ->
    text/plain) has it; labels of glue directives are added to removed_labels. (text, placeholders)."""
    count = 0
    values = values or {}

    def role(match):
        nonlocal count
        key, _, spec = match.group("body").partition(":")
        name = key.strip()
        if name in values and (match.group("kind") or "") in ("", "text", "any"):
            try:
                from myst_nb.core.variables import format_plain_text

                value = format_plain_text(values[name], spec)
                return re.sub(r"([\\`*_{}\[\]<>#|$~^&!])", r"\\\1", value)
            except Exception:  # noqa: BLE001 - a value that does not format stays a placeholder
                pass
        count += 1
        return f"`‹{name}›`"

    lines = GLUE_ROLE.sub(role, text).split("\n")
    out, i = [], 0
    while i < len(lines):
        match = FENCE_OPEN.match(lines[i])
        if not match or match.group("name").split(":")[0] != "glue":
            out.append(lines[i])
            i += 1
            continue
        after = _skip_directive(lines, i, match.group("fence"))
        removed_labels.update(_labels("\n".join(lines[i:after])))
        kind = "figure" if match.group("name") == "glue:figure" else "output"
        name = match.group("arg").strip()
        out.append(
            f"{match.group('indent')}*(The book shows the {kind} `‹{name}›` here: the code cell with "
            f'`glue("{name}", ...)` makes it.)*'
        )
        count += 1
        i = after
    return "\n".join(out), count


def unlink_removed_labels(
    text: str, removed: set, figures=frozenset(), left_out=frozenset()
) -> str:
    """References to removed labels as plain text: "the figure" for `figures` (a kept code cell's
    figure), "a part of the book left out here" for `left_out` (an answers_question cell's), "the
    solution" otherwise; capitalised at the start of a sentence."""
    if not removed:
        return text

    def role(match):
        body = match.group("body")
        explicit = re.match(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", body, re.S)
        target = (explicit.group("target") if explicit else body).strip()
        if target not in removed:
            return match.group(0)
        title = explicit and explicit.group("title").replace("%s", "")
        if title and (title := title.replace("{number}", "").strip()):
            return title
        if target in figures:
            words = "the figure"
        elif target in left_out:
            words = "a part of the book left out here"
        else:
            words = "the solution"
        before = match.string[: match.start()].rstrip()
        return words.capitalize() if not before or before[-1] in ".!?:" else words

    text = re.sub(r"\{(?:ref|numref|eq|prf:ref|doc)\}`(?P<body>[^`]+)`", role, text)
    return re.sub(
        r"\[(?P<title>[^\]]*)\]\(#(?P<target>[^)\s]+)\)",
        lambda m: m.group("title") if m.group("target") in removed else m.group(0),
        text,
    )


def _figure_labels(notebook) -> set:
    """Labels of the figures that code cells make (mystnb figure metadata)."""
    code = [c.metadata for c in notebook.cells if c.cell_type == "code"]
    names = (m.get("mystnb", {}).get("figure", {}).get("name") for m in code)
    return {name for name in names if name}


# ----------------------------------------------------------------------------------------------------
# Whole chapters
# ----------------------------------------------------------------------------------------------------
def answers_note(question: str) -> str:
    return f"*(Here the book answers what question `{question}` asks; the student edition leaves it out.)*"


def _transform(md_path: Path):
    """(student notebook before the placeholder and label passes, removed prose, original notebook)."""
    original = jupytext.read(md_path)
    # First pass: the solution blocks that hold marked code get a "Your turn" line.
    block, in_solution, blocks_with_code = 0, False, set()
    for cell in original.cells:
        if cell.cell_type == "markdown":
            _, _, now_in = split_solution_prose(cell.source, in_solution)
            block += now_in and not in_solution
            in_solution = now_in
        elif cell.cell_type == "code" and in_solution and "answer" in cell.metadata:
            blocks_with_code.add(block)
    cells, removed_prose = [], []
    block, in_solution = 0, False
    for index, cell in enumerate(original.cells):
        where = f"{md_path.name}, cell {index}"
        new = copy.deepcopy(cell)
        if cell.metadata.get(ANSWERS):
            # one note stands for a run of such cells, prose and code
            note = answers_note(cell.metadata[ANSWERS])
            if cell.cell_type == "markdown":
                removed_prose.append(cell.source)
            if not (cells and cells[-1].source == note):
                cells.append(nbformat.v4.new_markdown_cell(note))
        elif cell.cell_type == "markdown" and cell.metadata.get(WRITTEN):
            # an empty answer cell whose first line the grader looks for (tools/grade.py)
            removed_prose.append(cell.source)
            new.source = f"**Answer to {new.metadata.pop(WRITTEN)}** (written, graded by hand)\n\n"
            cells.append(new)
        elif cell.cell_type == "markdown":
            try:
                kept, gone, now_in = split_solution_prose(cell.source, in_solution)
            except StudentEditionError as error:
                raise StudentEditionError(f"{where}: {error}") from None
            removed_prose.append(gone)
            block += now_in and not in_solution
            if now_in and not in_solution and block in blocks_with_code:
                kept = (kept + "\n\n" if kept else "") + YOUR_TURN
            in_solution = now_in
            if kept.strip():
                new.source = kept
                cells.append(new)
        elif cell.cell_type == "code":
            # the student edition stubs the cells marked `answer`, and only those
            answer = cell.metadata.get("answer")
            if bool(answer) != bool(find_regions(cell.source, where)):
                raise StudentEditionError(
                    f"{where}: an answer cell (`:answer: {answer}`) needs `{BEGIN}` ... `{END}` "
                    "around its answer"
                    if answer
                    else f"{where}: solution markers in a cell that is not an answer "
                    "cell: mark it `:answer: <question>`"
                )
            if in_solution and not answer:
                continue  # a code cell inside a solution that is not an answer is all answer
            new.source = stub_source(cell.source, where)
            new.outputs, new.execution_count = [], None
            cells.append(new)
        else:
            cells.append(new)
    if in_solution:
        raise StudentEditionError(
            f"{md_path.name}: a `{{solution-start}}` is never closed by `{{solution-end}}`."
        )
    notebook = copy.deepcopy(original)
    notebook.cells = cells
    return notebook, "\n".join(removed_prose), original


def student_notebooks(md_paths, glue_values=None):
    """{md_path: student notebook (jupytext metadata kept)} with placeholders and references fixed.

    glue_values: {md_path: {name: text/plain}} of values that may be shown (the student site only)."""
    glue_values = glue_values or {}
    transformed = {path: _transform(path) for path in md_paths}
    # labels of removed prose and of code cells' figures (no outputs here); labels defined in
    # answers_question cells; a kept code cell's figure (it appears once the student runs it)
    removed, left_out, figures = set(), set(), set()
    for student, removed_prose, original in transformed.values():
        removed |= _labels(removed_prose) | _figure_labels(original)
        figures |= _figure_labels(student)
        left_out |= {
            label
            for cell in original.cells
            if cell.cell_type == "markdown" and cell.metadata.get(ANSWERS)
            for label in _labels(cell.source)
        }
    result = {}
    for path, (notebook, _, _) in transformed.items():
        shown = glue_values.get(path, {})
        placeholders, first_name = 0, None
        markdown = [cell for cell in notebook.cells if cell.cell_type == "markdown"]
        for cell in markdown:
            names = [
                m.group("body").split(":")[0].strip()
                for m in GLUE_ROLE.finditer(cell.source)
            ]
            first_name = first_name or next((n for n in names if n not in shown), None)
            cell.source, count = glue_placeholders(cell.source, removed, shown)
            placeholders += count
        for cell in markdown:
            cell.source = unlink_removed_labels(cell.source, removed, figures, left_out)
        note = STUDENT_NOTE + (
            PLACEHOLDER_NOTE.format(name=first_name or "name") if placeholders else ""
        )
        title = next((c for c in markdown if re.search(r"^# ", c.source, re.M)), None)
        if title is None:
            notebook.cells.insert(0, nbformat.v4.new_markdown_cell(note))
        else:  # the note goes right below the chapter title
            end = re.search(r"^# .*$", title.source, re.M).end()
            title.source = f"{title.source[:end]}\n\n{note}{title.source[end:]}"
        result[path] = notebook
    return result


def shown_glue_values(md_path: Path, cache_path: Path | None = None):
    """{name: text/plain} of the glued values the student site may show, from the book's execution cache:
    those glued by cells the student edition keeps unchanged, before the chapter's first stub (they
    cannot depend on an answer). Empty when the cache has no execution of the chapter as it is now."""
    if cache_path is None:
        cache = (book_config().get("execute") or {}).get("cache")
        cache_path = ROOT / (cache or "_build/.jupyter_cache")
    if not cache_path.exists():
        return {}
    original = jupytext.read(md_path)
    allowed, in_solution = [], False
    for cell in original.cells:
        if cell.cell_type == "markdown":
            _, _, in_solution = split_solution_prose(cell.source, in_solution)
        elif cell.cell_type == "code":
            if BEGIN in cell.source or in_solution:
                break
            if not cell.metadata.get(ANSWERS):
                allowed.append(cell.source)
    try:
        from jupyter_cache import get_cache

        cache = get_cache(str(cache_path))
        executed = cache.get_cache_bundle(cache.match_cache_notebook(original).pk).nb
    except Exception:  # noqa: BLE001 - no cached execution of this version of the chapter
        return {}
    values = {}
    for cell in executed.cells:
        if cell.cell_type == "code" and cell.source in allowed:
            for output in cell.get("outputs", []):
                name = output.get("metadata", {}).get("scrapbook", {}).get("name")
                text = output.get("data", {}).get(
                    "application/papermill.record/text/plain"
                )
                if name and text is not None:
                    values[name] = text
    return values


def notebook_text(notebook) -> str:
    """The .ipynb text of a student notebook (a copy: runs alone in Colab, no outputs)."""
    return ipynb_text(copy.deepcopy(notebook))


def book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def chapter_paths():
    return sorted(CHAPTERS.glob("[0-9][0-9]_*.md"))


def chapter_title(md_path: Path) -> str:
    """The page's first '# ' heading (markup kept as written), or its stem."""
    match = re.search(r"^# (.+)$", md_path.read_text(encoding="utf-8"), re.M)
    return match.group(1).strip() if match else md_path.stem


def course_repository(config):
    """(owner/name, branch) of the course's own repository, `student_repository` in _config.yml:
    the student links and `make assign`'s _build/distribution/ point there, not at the book."""
    setting = config.get("student_repository")
    setting = setting if isinstance(setting, dict) else {}
    url = str(setting.get("url") or "").rstrip("/")
    match = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?", url)
    if not match:
        raise StudentEditionError(
            f"_config.yml: student_repository.url is {repr(url) if url else 'missing'}; "
            "set it to the GitHub URL of the course's own repository, where students open "
            "the notebooks (student_repository: {url: https://github.com/OWNER/REPO, "
            "branch: main}); the book's repository shows the solutions."
        )
    return match.group(1), str(setting.get("branch") or "main")


def launch_links(stem: str, config=None):
    """(GitHub, Colab, Binder) URLs of student/<stem>.ipynb in the course's repository; the
    Binder URL has the form of the book theme's own launch buttons."""
    config = book_config() if config is None else config
    slug, branch = course_repository(config)
    buttons = config.get("launch_buttons", {})
    binder = buttons.get("binderhub_url", "https://mybinder.org").rstrip("/")
    ui = buttons.get("notebook_interface", "classic")
    interface = {"classic": "tree", "jupyterlab": "lab/tree"}.get(ui, "tree")
    path = f"student/{stem}.ipynb"
    return (
        f"https://github.com/{slug}/blob/{branch}/{path}",
        f"https://colab.research.google.com/github/{slug}/blob/{branch}/{path}",
        f"{binder}/v2/gh/{slug}/{branch}?urlpath={interface}/{path}",
    )


def table(md_paths, config=None, pdfs=None) -> str:
    """The notebooks with their launch links, a row per chapter (numbered as in the book), and
    with pdfs ({stem: handout link or None}) a column of handouts."""
    head = "| Chapter | Student notebook | Open in Colab | Launch on Binder |"
    pdf_column = pdfs is not None
    rows = [head + " Handout |" * pdf_column, "|" + " --- |" * (4 + pdf_column)]
    for path in md_paths:
        github, colab, binder = launch_links(path.stem, config)
        pdf = (pdfs or {}).get(path.stem)
        pdf = f" [PDF]({pdf}) |" if pdf else " - |" * pdf_column
        rows.append(
            f"| {int(path.stem[:2])}. {chapter_title(path)} | [{path.stem}.ipynb]({github}) | "
            f"[Open in Colab]({colab}) | [Launch on Binder]({binder}) |{pdf}"
        )
    return "\n".join(rows) + "\n"


def readme_text(md_paths) -> str:
    """student/README.md: the notebooks with their launch links (the instructor page includes the table)."""
    return (
        "# Student notebooks\n\n"
        "Generated by `tools/make_student.py` from `chapters/*.md` (`make student`); do not edit by hand.\n"
        "Each notebook is its chapter with the solutions replaced by stubs; see the book's instructor page.\n"
        "\n<!-- table -->\n" + table(md_paths)
    )


def expected_student_files():
    """{path under student/: text} for the committed part of the edition."""
    paths = chapter_paths()
    notebooks = student_notebooks(paths)
    files = {
        STUDENT / f"{p.stem}.ipynb": notebook_text(n) for p, n in notebooks.items()
    }
    files[STUDENT / "README.md"] = readme_text(paths)
    return files


# ----------------------------------------------------------------------------------------------------
# The student distribution: what the course's own repository holds
# ----------------------------------------------------------------------------------------------------
def imported_modules(sources) -> set:
    """The top-level names of the modules that the Python sources import."""
    names = set()
    for node in (n for source in sources for n in ast.walk(ast.parse(source))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add(node.module.split(".")[0])
    return names


def write_distribution(out=DISTRIBUTION, stems=(), pdfs=PDFS, config=None) -> list:
    """Write out/ from an allow-list: student/<stem>.ipynb of the chapters `stems` (default all),
    their handouts pdfs/<stem>.pdf as pdf/ when built, .binder/ with the book's pins of what the
    notebooks import, the book's LICENSE, a .gitignore and a README; return the stems without PDF."""
    config = book_config() if config is None else config
    course_repository(config)  # a missing setting stops before anything is written
    paths = {path.stem: path for path in chapter_paths()}
    if unknown := sorted(set(stems) - set(paths)):
        raise StudentEditionError(
            f"CHAPTERS: no chapter {' '.join(unknown)}; the chapters are: {' '.join(paths)}"
        )
    chosen = [paths[stem] for stem in sorted(stems or paths)]
    shutil.rmtree(out, ignore_errors=True)
    for folder in ("student", ".binder"):
        (out / folder).mkdir(parents=True)
    sources = [HELPER.read_text(encoding="utf-8")]
    for path in chosen:
        shutil.copy(STUDENT / f"{path.stem}.ipynb", out / "student")
        notebook = nbformat.read(STUDENT / f"{path.stem}.ipynb", as_version=4)
        sources += [c.source for c in notebook.cells if c.cell_type == "code"]
    handouts = {p.stem: pdfs / f"{p.stem}.pdf" for p in chosen}
    links = {s: f"pdf/{s}.pdf" if f.is_file() else None for s, f in handouts.items()}
    for stem in (stem for stem, link in links.items() if link):
        (out / "pdf").mkdir(exist_ok=True)
        shutil.copy(handouts[stem], out / links[stem])
    modules = imported_modules(sources)
    pins = [
        line
        for line in (ROOT / ".binder" / "requirements.txt").read_text().splitlines()
        if line.startswith("-") or re.split("[=<>~ ]", line)[0].lower() in modules
    ]
    (out / ".binder" / "requirements.txt").write_text("\n".join(pins) + "\n")
    shutil.copy(ROOT / ".binder" / "runtime.txt", out / ".binder")
    shutil.copy(ROOT / "LICENSE", out)
    (out / ".gitignore").write_text("data/\ndlbook.py\n.ipynb_checkpoints/\n")
    cifar = [str(int(p.stem[:2])) for p in chosen if "load_cifar10(" in p.read_text()]
    (out / "README.md").write_text(
        DISTRIBUTION_README.read_text(encoding="utf-8").format(
            title=config.get("title", "The book"),
            table=table(chosen, config, links),
            python=(ROOT / ".binder" / "runtime.txt").read_text().strip()[7:],
            cifar=", ".join(cifar) or "none",
        ),
        encoding="utf-8",
    )
    return [stem for stem, link in links.items() if not link]


# ----------------------------------------------------------------------------------------------------
# The student site sources
# ----------------------------------------------------------------------------------------------------
def _rewrite_toc(entries, dropped, files):
    """The kept entries, chapters in student/; adds the stems to dropped or files."""
    kept = []
    for entry in entries:
        entry = dict(entry)
        stem = entry.get("file")
        if stem in INSTRUCTOR_ONLY_PAGES:
            dropped.add(stem)
            continue
        if stem and stem.startswith("chapters/"):
            entry["file"] = "student/" + stem[len("chapters/") :]
        files += [entry[key] for key in ("root", "file") if key in entry]
        for key in ("sections", "chapters", "parts"):
            if key in entry:
                entry[key] = _rewrite_toc(entry[key], dropped, files)
        kept.append(entry)
    return kept


def _write_generated(path: Path, source: str, data) -> None:
    path.write_text(
        f"# Generated by tools/make_student.py from the book's {source}; do not edit.\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )


def site_config(config: dict) -> dict:
    """The student site's _config.yml: not executed, its launch and repository buttons open the
    course's repository (course_repository), never the book's, which shows the solutions."""
    slug, branch = course_repository(config)
    config["title"] = f"{config.get('title', 'Book')} (student edition)"
    url = f"https://github.com/{slug}"
    config["repository"] = {"url": url, "branch": branch, "path_to_book": ""}
    config["exclude_patterns"] = [
        p for p in config.get("exclude_patterns", []) if p.strip("/") != "student"
    ]
    # No execution: a stub would raise, and outputs could give answers away.
    config["execute"] = {**config.get("execute", {}), "execute_notebooks": "off"}
    config["execute"].pop("cache", None)
    return config


def write_site_sources(notebooks):
    """Lay out _build/student_src: config, toc, pages, and the student chapters under student/."""
    shutil.rmtree(SITE_SRC, ignore_errors=True)
    (SITE_SRC / "student").mkdir(parents=True)

    config = site_config(book_config())
    _write_generated(SITE_SRC / "_config.yml", "_config.yml", config)
    dropped, files = set(), []
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    toc = _rewrite_toc([toc], dropped, files)[0]
    _write_generated(SITE_SRC / "_toc.yml", "_toc.yml", toc)

    if (ROOT / "assets").exists():
        shutil.copytree(ROOT / "assets", SITE_SRC / "assets")
    # Folders the configuration points at (local extensions, static files, the vendored MathJax): linked.
    sphinx = config.get("sphinx", {})
    referenced = list((sphinx.get("local_extensions") or {}).values())
    for key in ("html_extra_path", "html_static_path", "templates_path"):
        referenced += list((sphinx.get("config") or {}).get(key) or [])
    referenced += [config.get("logo"), (config.get("html") or {}).get("favicon")]
    for top in {Path(str(e)).parts[0] for e in referenced if e and str(e).strip()}:
        source, link = ROOT / top, SITE_SRC / top
        if not Path(top).is_absolute() and source.exists() and not link.exists():
            link.symlink_to(source, target_is_directory=source.is_dir())
    # The appendix page shows the helper module (literalinclude): it holds no solution.
    (SITE_SRC / "dlbook").symlink_to(ROOT / "dlbook", target_is_directory=True)

    for path, notebook in notebooks.items():
        target = SITE_SRC / "student" / path.name
        jupytext.write(notebook, target, fmt="md:myst")
        # The theme's launch buttons open the .ipynb next to a page: the student notebook, not the twin.
        shutil.copy(STUDENT / f"{path.stem}.ipynb", target.with_suffix(".ipynb"))

    for stem in files:
        sources = [ROOT / f"{stem}{ext}" for ext in (".md", ".ipynb", ".rst")]
        source = next((p for p in sources if p.exists()), None)
        if stem.startswith("student/") or source is None:
            continue
        text = source.read_text(encoding="utf-8")
        if source.suffix == ".md":
            text = re.sub(r"(?<![\w/])chapters/(\d\d_)", r"student/\1", text)
            for gone in map(re.escape, dropped):
                text = re.sub(
                    r"\{doc\}`(?:(?P<title>[^`<]*?)\s*<)?/?" + gone + r"(?:\.md)?>?`",
                    lambda m: m.group("title") or "the instructor page",
                    text,
                )
                text = re.sub(
                    r"\[(?P<title>[^\]]*)\]\(/?" + gone + r"(?:\.md)?\)",
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
    parser.add_argument(
        "--distribution",
        nargs="*",
        metavar="STEM",
        help="write only _build/distribution/, of these chapters (default all): make assign",
    )
    args = parser.parse_args()
    try:
        expected = expected_student_files()
        present = {p for p in STUDENT.glob("*") if p.is_file()}
        drifted = [
            p for p, text in expected.items() if not p.exists() or p.read_text() != text
        ]
        extra = sorted(present - set(expected))
        if args.distribution is not None and not args.check:
            if drifted or extra:
                raise StudentEditionError("student/ is stale: run `make student`")
            missing = " ".join(write_distribution(stems=args.distribution)) or "none"
    except StudentEditionError as error:
        print(f"make_student: {error}", file=sys.stderr)
        return 2
    if args.check:
        problems = [f"  {p.relative_to(ROOT)} (stale or missing)" for p in drifted]
        problems += [f"  {p.relative_to(ROOT)} (no chapter source)" for p in extra]
        if problems:
            print(
                "The student edition files differ from a fresh generation; run `make student`"
                " (or python tools/make_student.py):",
                *problems,
                sep="\n",
                file=sys.stderr,
            )
        return 1 if problems else 0
    if args.distribution is not None:
        print(
            f"wrote {DISTRIBUTION.relative_to(ROOT)}/ (chapters without PDF: {missing})"
        )
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
