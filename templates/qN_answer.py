"""qN_answer, the template chapter's question: copy this file to grading/<stem>/tests/<question>.py.

One file per question, in otter's format: its points, its public cases (the chapter's one-line
self-check runs them; `make sync`/`make student` copy them into the notebooks, so each is
self-contained and its one-line docstring is what a pass prints) and at least two hidden cases
(only in the autograder zip). Each hidden case states its points, whole or half, adding up to `points`;
dlbook.hidden_case makes its failure message name it (the helper module comes from the autograder zip)."""

import os
from runpy import run_path
from types import SimpleNamespace

from otter.test_files import test_case

dlbook = SimpleNamespace(**run_path(os.getenv("DLBOOK_GRADER", "_dlbook_grader.py")))

OK_FORMAT = False

name = "qN_answer"
points = 1


@test_case(points=0, hidden=False)
def test_doubles_21(answer):
    """answer(21) == 42"""
    got = answer(21)
    assert got == 42, f"answer(21) returned {got!r}, expected 42: did you double n?"


@dlbook.hidden_case(0.5)
def test_doubles_negative_numbers(answer):
    assert answer(-3) == -6, f"answer(-3) = {answer(-3)!r}, expected -6"


@dlbook.hidden_case(0.5)
def test_doubles_zero(answer):
    assert answer(0) == 0, f"answer(0) = {answer(0)!r}, expected 0"
