"""What the grading tests share: a chapter's hidden tests run in-process against a namespace, and one
`tools/grade.py` run over a class of submissions (tests/test_ch01_graded_class.py).

In-process, the hidden tests load the book's helper module from DLBOOK_GRADER (this repository's
dlbook/__init__.py); a `tools/grade.py` run uses the autograder zip's own copy, as a grader would."""

import importlib.util
import os
import subprocess
import sys
import time

from conftest import ROOT

os.environ.setdefault("DLBOOK_GRADER", str(ROOT / "dlbook" / "__init__.py"))
from otter.test_files.exception_test import test_case as OtterTestCase

sys.path.insert(0, str(ROOT / "tools"))
import grade  # noqa: E402


def hidden_cases(stem, question):
    """(module, [test cases]) of grading/<stem>/tests/<question>.py."""
    path = ROOT / "grading" / stem / "tests" / f"{question}.py"
    spec = importlib.util.spec_from_file_location(f"hidden_{stem}_{question}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, [v for v in vars(module).values() if isinstance(v, OtterTestCase)]


def hidden_failures(stem, question, namespace):
    """{test name: message} of the question's hidden cases that fail against the names in namespace."""
    _, cases = hidden_cases(stem, question)
    failed = {}
    for case in cases:
        try:
            case.call_func(namespace)
        except Exception as error:  # noqa: BLE001 - any exception fails a test, as in otter
            failed[case.test_func.__name__] = f"{type(error).__name__}: {error}"
    return failed


def grade_class(base, stem, autograders, make_class, *, cell_timeout, timeout, env=()):
    """make_class(base / "submissions"), then grade it in one run (JOBS=2); returns the grades folder.

    The submissions' temporary folders go under base (TMPDIR), so a test can see none is left."""
    out = base / "grades"
    make_class(base / "submissions")
    start = time.monotonic()
    run = subprocess.run(
        grade.command(
            stem,
            base / "submissions",
            autograder_dir=autograders,
            out=out,
            jobs=2,
            timeout=timeout,
            cell_timeout=cell_timeout,
        ),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3 * timeout + 600,
        env={
            **{k: v for k, v in os.environ.items() if k != "DLBOOK_GRADER"},
            "TMPDIR": str(base),
            **dict(env),
        },
    )
    seconds = time.monotonic() - start
    print(f"\n{stem}: the class graded in {seconds:.1f} s\n{run.stdout[-2000:]}")
    assert run.returncode == 0, run.stderr[-3000:]
    return out
