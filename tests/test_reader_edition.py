"""The reader's edition (HTML and PDF) shows the answers without the homework edition's markers."""

import html
import re
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "_ext"))
import hide_grading_markers  # noqa: E402

MARKED = """def fold(layer, bn):
    \"\"\"Docstring.\"\"\"
    # A comment of the book's own stays.
    # TODO: return a copy of `layer` that absorbs `bn`;
    # raise ValueError for a BN in training mode.
    ### BEGIN SOLUTION
    scale = bn.weight
    return scale
    ### END SOLUTION


x = 1"""


def test_the_markers_and_the_todo_block_go_and_the_answer_stays():
    assert hide_grading_markers.without_markers(MARKED) == (
        "def fold(layer, bn):\n"
        '    """Docstring."""\n'
        "    # A comment of the book's own stays.\n"
        "    scale = bn.weight\n"
        "    return scale\n"
        "\n\nx = 1"
    )


def test_code_without_markers_is_unchanged():
    code = "# TODO: this is the book's own note, not a marker\nx = 1"
    assert hide_grading_markers.without_markers(code) == code


def test_no_marker_reaches_the_built_pages(built_site):
    for page in sorted((built_site / "chapters").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, page.name
        assert "# TODO" not in text, page.name


def test_the_appendix_shows_every_line_of_the_helper_module(built_site):
    """Every line a chapter runs can be read: the module's definitions are on the appendix page."""
    page = (built_site / "helper_module.html").read_text()
    page = html.unescape(re.sub(r"<[^>]+>", "", page))
    source = (ROOT / "dlbook" / "__init__.py").read_text()
    for line in source.splitlines():
        if line.startswith(("def ", "class ")):
            assert line in page, line
