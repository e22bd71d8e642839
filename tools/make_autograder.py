"""Build the otter-grader autograder of every chapter that has a `grading/<stem>/` folder.

One job: check each chapter's grading folder and write, with otter's own generator,

* _build/autograder/<stem>/autograder.zip -- the hidden tests and otter's Gradescope set-up; `make grade`
  runs it locally (tools/grade.py) and Gradescope runs it as a programming assignment's autograder;
* _build/autograder/<stem>/questions.json -- the questions in problem order (name, title, points,
  written), which tools/grade.py uses for the gradebook's columns and `possible`.

A chapter's grading folder holds

* questions.yml -- `questions:`, a list of `{name, title}` (plus `written: true, points: <whole or half>`
  for a question graded by hand), in the order of the problem;
* tests/<name>.py -- one otter test file per autograded question: `OK_FORMAT = False`,
  `name = "<name>"`, `points = <points>` and `@test_case(...)` functions. These are the hidden tests:
  they never go into student/ or the student site.

The chapter (chapters/<stem>.md) poses each question once, in words the student edition keeps:
"Question `<name>` (autograded, <points> points)" with the points of its test file, or
"Question `<name>` (written, <points> points, graded by hand)", those of questions.yml. So the
points a student reads are the points graded.

Usage: python tools/make_autograder.py [--root DIR] [--out DIR] [--requirements FILE]
(--root: the folder that holds grading/; the tests point it at tests/grading_fixture.)
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
HELPER = ROOT / "dlbook" / "__init__.py"  # the book's helper module
GRADER_MODULE = "_dlbook_grader.py"  # its name in the autograder zip
# What the chapters import; Gradescope installs these pins (the grader's machine uses the venv).
CHAPTER_PACKAGES = ("torch", "torchvision", "sympy", "numpy", "matplotlib")
QUESTION_KEYS = {"name", "title", "written", "points"}
TEST_FILE_KEYS = {"OK_FORMAT", "name", "points"}


class GradingConfigError(ValueError):
    """A grading folder is inconsistent; the message names the file and the fix."""


def _rel(path: Path, root: Path) -> str:
    return str(path.relative_to(root) if path.is_relative_to(root) else path)


def read_questions(folder: Path, root: Path) -> list[dict]:
    """The questions of questions.yml as [{name, title, written, points}], checked."""
    path = folder / "questions.yml"
    where = _rel(path, root)
    if not path.is_file():
        raise GradingConfigError(
            f"{where}: missing. Write the chapter's questions there, in problem order: "
            "questions: [{name: q1, title: '(a) ...'}, ...]"
        )
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise GradingConfigError(f"{where}: not valid YAML: {error}") from None
    items = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise GradingConfigError(
            f"{where}: expected a non-empty list under `questions:`, e.g. "
            "questions: [{name: q1, title: '(a) ...'}]"
        )
    questions = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise GradingConfigError(
                f"{where}: question {i} is not a mapping {{name, title}}"
            )
        if unknown := set(item) - QUESTION_KEYS:
            raise GradingConfigError(
                f"{where}: question {i} has unknown keys {sorted(unknown)}; "
                f"allowed: {sorted(QUESTION_KEYS)}"
            )
        name, title = item.get("name"), item.get("title")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_]\w*", name, re.A):
            raise GradingConfigError(
                f"{where}: question {i} needs a `name` that is a Python identifier "
                f"(it names tests/<name>.py), got {name!r}"
            )
        if name in (q["name"] for q in questions):
            raise GradingConfigError(f"{where}: question name {name!r} appears twice")
        if not isinstance(title, str) or not title.strip():
            raise GradingConfigError(f"{where}: question {name!r} needs a `title`")
        written = item.get("written", False)
        if not isinstance(written, bool):
            raise GradingConfigError(
                f"{where}: question {name!r}: `written` must be true or false"
            )
        points = item.get("points")
        half = type(points) in (int, float) and points > 0 and points * 2 % 1 == 0
        if written != (points is not None) or written and not half:
            raise GradingConfigError(
                f"{where}: question {name!r}: a written question states `points: <whole or "
                f"half, > 0>` here, an autograded one in its test file; got {points!r}"
            )
        questions.append(dict(name=name, title=title, written=written, points=points))
    return questions


def read_test_file(path: Path, root: Path) -> dict:
    """{name, points} of an otter test file, read with ast (the file is not executed)."""
    where = _rel(path, root)
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except SyntaxError as error:
        raise GradingConfigError(f"{where}: not valid Python: {error}") from None
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in TEST_FILE_KEYS:
                try:
                    values[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    raise GradingConfigError(
                        f"{where}: `{target.id}` must be a literal"
                    ) from None
    if values.get("OK_FORMAT") is not False:
        raise GradingConfigError(
            f"{where}: otter test files in this repo start with `OK_FORMAT = False`"
        )
    if values.get("name") != path.stem:
        raise GradingConfigError(
            f"{where}: `name = {values.get('name')!r}` must equal the file's name: "
            f'write name = "{path.stem}" (otter reports scores under `name`)'
        )
    points = values.get("points")
    if isinstance(points, bool) or not isinstance(points, int | float) or points <= 0:
        raise GradingConfigError(
            f"{where}: `points` must be a number > 0 (the question's points), got {points!r}"
        )
    if not any(
        isinstance(node, ast.FunctionDef)
        and any("test_case" in ast.unparse(d) for d in node.decorator_list)
        for node in tree.body
    ):
        raise GradingConfigError(
            f"{where}: no test: decorate test functions with "
            "`@test_case(points=None, hidden=True)` (from otter.test_files import test_case)"
        )
    return {"name": values["name"], "points": points}


def check_chapter(folder: Path, root: Path) -> list[dict]:
    """questions.json's content for one grading folder: [{name, title, points, written}]."""
    questions = read_questions(folder, root)
    tests_dir = folder / "tests"
    files = {p.stem: p for p in tests_dir.glob("*.py")} if tests_dir.is_dir() else {}
    yml = _rel(folder / "questions.yml", root)
    for q in questions:
        test = files.get(q["name"])
        if q["written"] and test:
            raise GradingConfigError(
                f"{_rel(test, root)}: {q['name']!r} is a written question in {yml} "
                "(graded by hand): delete the test file or drop `written: true`"
            )
        if not q["written"] and not test:
            raise GradingConfigError(
                f"{yml}: question {q['name']!r} has no test file: write "
                f"{_rel(tests_dir / (q['name'] + '.py'), root)} or mark it `written: true`"
            )
    if extra := sorted(set(files) - {q["name"] for q in questions}):
        raise GradingConfigError(
            f"{_rel(files[extra[0]], root)}: no question {extra[0]!r} in {yml}: add it "
            "there (in problem order) or delete the test file"
        )
    for q in (q for q in questions if not q["written"]):
        q["points"] = read_test_file(files[q["name"]], root)["points"]
    check_prose(folder, questions, root)
    return questions


def _points_text(points) -> str:
    return f"{points:g} point" + ("" if points == 1 else "s")


def posed(q: dict) -> str:
    """How the chapter poses question q ({name, written, points}), its points included."""
    label = f"written, {_points_text(q['points'])}, graded by hand"
    label = label if q["written"] else f"autograded, {_points_text(q['points'])}"
    return f"Question `{q['name']}` ({label})"


def check_prose(folder: Path, questions: list[dict], root: Path) -> None:
    """Each question is posed once in chapters/<stem>.md, with the points it is graded on."""
    chapter = root / "chapters" / f"{folder.name}.md"
    where = _rel(chapter, root)
    if not chapter.is_file():
        raise GradingConfigError(
            f"{where}: missing: every grading/<stem>/ belongs to the chapter <stem>.md"
        )
    text = chapter.read_text()
    for q in questions:
        found = re.findall(rf"Question `{re.escape(q['name'])}` (\([^)]*\))", text)
        if [f"Question `{q['name']}` {f}" for f in found] != [want := posed(q)]:
            raise GradingConfigError(
                f"{where}: pose question {q['name']!r} exactly once as "
                f'"{want}" (the points come from its test file, a written question\'s from '
                f"questions.yml); {f'found {found}' if found else 'not found'}"
            )


def chapter_pins(requirements: Path) -> list[str]:
    """The lines of requirements.txt that pin the chapters' packages (comments dropped)."""
    pins = {}
    for line in requirements.read_text().splitlines():
        spec = line.split("#", 1)[0].strip()
        match = re.match(r"([A-Za-z0-9_.-]+)\s*==", spec)
        if match and match.group(1).lower() in CHAPTER_PACKAGES:
            pins[match.group(1).lower()] = spec
    if missing := [p for p in CHAPTER_PACKAGES if p not in pins]:
        raise GradingConfigError(f"{requirements}: no `==` pin for {missing}")
    return [pins[p] for p in CHAPTER_PACKAGES]


def build(folder: Path, out: Path, pins: list[str], root: Path) -> dict:
    """Check one grading folder and write its autograder.zip and questions.json into out/<stem>/."""
    questions = check_chapter(folder, root)
    # ~3 s to import: only when needed
    from otter.generate import main as otter_generate

    target = out / folder.name
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "requirements.txt").write_text("\n".join(pins) + "\n")
        # An explicit config: no PDF (the book grades code; written answers are collected by
        # tools/grade.py) and no assignment name (otter would then reject notebooks without
        # otter metadata, i.e. every notebook from make_student.py).
        (tmp / "otter_config.json").write_text(json.dumps({"pdf": False}))
        zip_tmp = tmp / "autograder.zip"
        # The hidden tests load the book's helper module by path under a private name
        # (GRADER_MODULE): otter copies `files` next to the submission, where the
        # notebook's own inlined copy is dlbook.py, which the hidden tests never use.
        shutil.copy(HELPER, tmp / GRADER_MODULE)
        # otter takes `files` relative to the working folder
        with contextlib.chdir(tmp):
            otter_generate(
                files=[GRADER_MODULE],
                tests_dir=str(folder / "tests"),
                output_path=str(zip_tmp),
                config=str(tmp / "otter_config.json"),
                requirements=str(tmp / "requirements.txt"),
                no_environment=True,  # never pick up an environment.yml from the cwd
                # Gradescope's Python is the one the pins were tested with (otter's default is 3.13).
                python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
            )
        shutil.move(zip_tmp, target / "autograder.zip")
    (target / "questions.json").write_text(json.dumps(questions, indent=1) + "\n")
    return dict(stem=folder.name, questions=questions, zip=target / "autograder.zip")


def grading_folders(root: Path) -> list[Path]:
    return sorted(p for p in (root / "grading").glob("*") if p.is_dir())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--root", type=Path, default=ROOT, help="folder that holds grading/")
    add("--out", type=Path, help="default: ROOT/_build/autograder")
    add("--requirements", type=Path, default=ROOT / "requirements.txt", help="pins")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    out = (args.out or root / "_build" / "autograder").resolve()
    folders = grading_folders(root)
    if not folders:
        print(
            f"make_autograder: no chapter has a grading folder ({root / 'grading'}/<stem>/)"
        )
        return 0
    try:
        pins = chapter_pins(args.requirements)
        for folder in folders:  # check every chapter first: no half-built set on error
            check_chapter(folder, root)
        for folder in folders:
            built = build(folder, out, pins, root)
            written = [q["points"] for q in built["questions"] if q["written"]]
            auto = [q["points"] for q in built["questions"] if not q["written"]]
            print(
                f"{_rel(built['zip'], root)}: {len(auto)} autograded questions "
                f"({_points_text(sum(auto))}), {len(written)} written "
                f"({_points_text(sum(written))})"
            )
    except GradingConfigError as error:
        print(f"make_autograder: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
