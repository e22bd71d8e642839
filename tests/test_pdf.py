"""The book as a PDF, and one solution-free handout per chapter (`make pdf`, XeLaTeX).

These tests need TeX Live. Where XeLaTeX is missing they are skipped, except in CI (CI=true), where .ci/run
installs it and a missing XeLaTeX is a failure.
"""

import os
import re
import shutil
import sys

import pytest
from conftest import (
    BUILD,
    CHAPTER_STEMS,
    CHAPTERS,
    assert_ok,
    built_chapter,
    run,
    site_step,
    tex_available,
)
from test_student_edition import leaks

pytestmark = pytest.mark.slow

PDF = BUILD / "pdf"


@pytest.fixture(scope="session")
def built_pdf(built_site, student_site):
    if not tex_available():
        if os.environ.get("CI"):
            pytest.fail(
                "XeLaTeX, latexmk or poppler-utils missing in CI: .ci/run must install them"
            )
        pytest.skip("no XeLaTeX: the PDF tests run where TeX Live is (always in CI)")
    assert_ok("make pdf", site_step("pdf"))
    return PDF


def pdf_text(path):
    return run(["pdftotext", "-layout", str(path), "-"], check=True).stdout


def chapter_titles():
    """Each chapter's first `# ` heading, without its math."""
    sources = [(CHAPTERS / f"{stem}.md").read_text() for stem in CHAPTER_STEMS]
    titles = [re.search(r"^# (.*)$", source, re.M)[1] for source in sources]
    return [re.sub(r"\$[^$]*\$", "", title).strip() for title in titles]


@pytest.fixture(scope="module")
def book_text(built_pdf):
    return pdf_text(built_pdf / "book.pdf")


def _squash(text):
    """Whitespace runs as one space, LaTeX's typographic quotes as plain ones."""
    return re.sub(r"\s+", " ", text).replace("\u2019", "'").replace("\u2018", "'")


def test_book_has_every_chapter_theorems_glued_numbers_and_bibliography(book_text):
    text = _squash(book_text)
    for title in chapter_titles():
        words = title.split(":")[0].strip()
        assert words in text, f"chapter title '{words}' is not in the PDF"
    # Numbered like the HTML (Theorem 1.1, not the section-numbered 1.2.1; see _config.yml).
    assert "Theorem 1.1 (Sandwich for log-sum-exp)" in text
    assert "Theorem 1.2 (Rate of the gap)" in text
    params = built_chapter("02_alexnet_counting").glue["ch2_total_params"]
    assert f"{params:,}" in text, f"the glued count {params:,} is not in the PDF"
    assert "References" in text or "Bibliography" in text
    assert "Krizhevsky" in text
    info = run(["pdfinfo", str(PDF / "book.pdf")], check=True).stdout
    assert int(re.search(r"^Pages:\s+(\d+)", info, re.M)[1]) > 60


def test_book_has_no_unresolved_reference_ansi_code_or_raw_html(book_text):
    assert "??" not in book_text, "an unresolved reference or citation (??) in the PDF"
    for escape in ("\x1b[", "[0m", "[31m"):
        assert escape not in book_text, "ANSI escapes"
    for tag in ("<div", "<span", "<a href", "<script", "<style"):
        assert tag not in book_text, f"raw HTML ({tag}) in the PDF"


def test_latex_logs_are_clean(built_pdf):
    """No missing glyph, no undefined reference, no overfull line running off the page by more than 30pt."""
    latex = BUILD / "latex"
    logs = [latex / "book.log", *sorted((BUILD / "student" / "latex").glob("*.log"))]
    assert len(logs) == 1 + len(CHAPTER_STEMS)
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        text = re.sub(r"(?m)^(.{79})\n", r"\1", text)  # TeX wraps its log at 79 columns
        assert "Missing character" not in text, f"{log.name}: a glyph is missing"
        undefined = r"LaTeX Warning: (Reference|Citation) .* undefined"
        assert not re.search(undefined, text), f"{log.name}: undefined"
        overfull = re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", text)
        too_wide = [float(w) for w in overfull]
        assert all(w < 30 for w in too_wide), (
            f"{log.name}: a line runs {max(too_wide)}pt off the page"
        )


def test_pdf_has_at_least_as_many_images_as_the_html_has_figures(built_pdf, built_site):
    figures = sum(
        page.read_text(encoding="utf-8").count("<figure")
        for page in (built_site / "chapters").glob("*.html")
    )
    listing = run(["pdfimages", "-list", str(built_pdf / "book.pdf")], check=True)
    listing = listing.stdout.splitlines()[2:]
    images = [line for line in listing if line.split()[2] == "image"]
    assert figures > 0 and len(images) >= figures, (len(images), figures)


@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_student_handout_exists_without_solutions(built_pdf, stem):
    handout = built_pdf / "student" / f"{stem}.pdf"
    assert handout.is_file()
    text = pdf_text(handout)
    assert "NotImplementedError" in text and "TODO" in text, "no stub to complete"
    leaked = leaks(stem, text)
    assert not leaked, f"solution text in the handout: {leaked[:5]}"


def test_pdfs_are_on_the_sites(built_pdf, built_site, student_site):
    assert (built_site / "pdf" / "book.pdf").is_file()
    for stem in CHAPTER_STEMS:
        assert (built_site / "pdf" / "student" / f"{stem}.pdf").is_file()
        assert (student_site / "pdf" / "student" / f"{stem}.pdf").is_file()
    assert not (student_site / "pdf" / "book.pdf").exists(), (
        "the book PDF (with solutions) on the student site"
    )
    intro, student_intro = (site / "intro.html" for site in (built_site, student_site))
    assert 'href="pdf/book.pdf"' in intro.read_text(encoding="utf-8")
    assert 'href="pdf/book.pdf"' not in student_intro.read_text(encoding="utf-8")


def test_no_grading_marker_in_the_book(book_text):
    """The reader's PDF shows answers without the homework edition's markers."""
    assert "BEGIN SOLUTION" not in book_text and "END SOLUTION" not in book_text


def test_leak_search_works_on_pdf_text(book_text):
    """The handout leak test is not blind on PDF text: it finds each chapter's solutions in the book PDF."""
    for stem in CHAPTER_STEMS:
        assert leaks(stem, book_text), f"no solution line of {stem} in the book PDF"


def test_make_pdf_without_xelatex_names_the_packages(tmp_path):
    """On a machine without TeX, make pdf stops with the packages to install, not an obscure failure."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("python3", "make", "sh", "bash", "env"):
        if shutil.which(tool):
            (bin_dir / tool).symlink_to(shutil.which(tool))
    env = {**os.environ, "PATH": str(bin_dir)}
    result = run([sys.executable, "tools/build_pdf.py"], env=env)
    assert result.returncode != 0
    assert "xelatex, latexmk, xindy not found" in result.stderr
    assert "sudo apt-get install texlive-xetex" in result.stderr
    assert "brew install --cask mactex-no-gui" in result.stderr
