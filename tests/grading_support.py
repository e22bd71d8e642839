"""What the grading tests share: a chapter's hidden tests run in-process against a namespace (they load
the book's helper module from DLBOOK_GRADER, this repository's dlbook/__init__.py), and one
`tools/grade.py` run over a folder of submissions."""

import ast
import importlib.util
import os
import subprocess
import sys

from conftest import ROOT

os.environ.setdefault("DLBOOK_GRADER", str(ROOT / "dlbook" / "__init__.py"))
from otter.test_files.exception_test import test_case as OtterTestCase

sys.path.insert(0, str(ROOT / "tools"))
import grade  # noqa: E402

META = {"POINTS", "SELF_CHECK", "MESSAGE"}  # a variant's data, not its code


def declared(path):
    """A variant's POINTS, SELF_CHECK and MESSAGE, read without running its answer (they are
    constant expressions such as `2 * 2 / 3`)."""
    return {
        target.id: eval(compile(ast.Expression(node.value), str(path), "eval"), {})
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id in META
    }


def question_cases(stem, question):
    """(module, [test cases, public and hidden]) of grading/<stem>/tests/<question>.py."""
    path = ROOT / "grading" / stem / "tests" / f"{question}.py"
    spec = importlib.util.spec_from_file_location(f"hidden_{stem}_{question}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, [v for v in vars(module).values() if isinstance(v, OtterTestCase)]


def grade_run(stem, submissions, tmpdir, unset, **options):
    """`tools/grade.py` over submissions (grade.command's options), its temporary folders under
    tmpdir, without the environment variable `unset`; it must succeed."""
    env = {k: v for k, v in os.environ.items() if k != unset}
    run = subprocess.run(
        grade.command(stem, submissions, **options), cwd=ROOT, capture_output=True,
        text=True, timeout=3 * options["timeout"] + 900, env={**env, "TMPDIR": str(tmpdir)},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return run
