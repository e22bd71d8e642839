"""Build the book's PDF (and the student handouts) with Sphinx's LaTeX route and XeLaTeX, strictly.

    python tools/build_pdf.py            # _build/pdf/book.pdf and _build/pdf/student/<chapter>.pdf

The book comes from `jupyter-book build . --builder pdflatex` (same execution cache as the HTML, so nothing
re-executes when the cache is warm). Each handout is one chapter of the student edition (the sources `make
student` generated in _build/student_src, solutions removed, no outputs), built as its own LaTeX document.

Strict, like the HTML build: a Sphinx warning, a XeLaTeX "Missing character" (a glyph the font lacks), an
undefined reference or citation (a `??` in the PDF) fails the build with the offending lines. Without
XeLaTeX the tool stops at once and names the packages to install.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from make_student import SITE_SRC as STUDENT_SRC
from make_student import chapter_title

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OUT = ROOT / "_build" / "pdf"

INSTALL_HINT = """\
make pdf needs XeLaTeX, latexmk and xindy with the LaTeX packages Sphinx uses. Install them with
  Debian/Ubuntu:  sudo apt-get install texlive-xetex texlive-latex-extra texlive-fonts-extra latexmk xindy
  macOS:          brew install --cask mactex-no-gui      (MacTeX has XeLaTeX, latexmk and xindy)
then run make pdf again."""

# Lines of a LaTeX log that mean the PDF is wrong, not just ugly.
LOG_PROBLEMS = re.compile(
    r"Missing character: There is no .*|LaTeX Warning: (Reference|Citation) .* undefined.*|"
    r"LaTeX Warning: There were undefined references.*|! .*"
)


def require_tex():
    if missing := [t for t in ("xelatex", "latexmk", "xindy") if not shutil.which(t)]:
        raise SystemExit(f"make pdf: {', '.join(missing)} not found.\n{INSTALL_HINT}")
    styles = ["fncychap.sty", "tabulary.sty", "bbm.sty", "fontawesome5.sty"]
    probe = subprocess.run(["kpsewhich", *styles], capture_output=True, text=True)
    found = {Path(line).name for line in probe.stdout.split()}
    if lacking := sorted(set(styles) - found):
        raise SystemExit(
            f"make pdf: LaTeX packages missing ({', '.join(lacking)}).\n{INSTALL_HINT}"
        )


def check_log(log: Path, what: str):
    """Stop with the log's problems (missing glyphs, undefined references, errors)."""
    text = log.read_text(encoding="utf-8", errors="replace")
    text = re.sub(r"(?m)^(.{79})\n", r"\1", text)  # TeX wraps its log at 79 characters
    if problems := sorted({m.group(0).strip() for m in LOG_PROBLEMS.finditer(text)}):
        lines = "\n  ".join(problems[:40])
        raise SystemExit(f"build_pdf: {what}'s LaTeX log reports:\n  {lines}")


def run(command, cwd=ROOT):
    print("+", " ".join(str(c) for c in command), flush=True)
    # The generated student conf.py names the local extensions but does not put _ext on the path.
    path = filter(None, [str(ROOT / "_ext"), os.environ.get("PYTHONPATH")])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-8000:])
        sys.stderr.write(result.stderr[-8000:])
        raise SystemExit(f"build_pdf: {command[0]} failed (exit {result.returncode})")
    return result


def build_book(build_flags):
    latex = ROOT / "_build" / "latex"
    # latexmk keeps stale state after a failed run
    shutil.rmtree(latex, ignore_errors=True)
    run([BIN / "jupyter-book", "build", ".", "--builder", "pdflatex", *build_flags])
    check_log(latex / "book.log", "the book")
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.copy(latex / "book.pdf", OUT / "book.pdf")
    return OUT / "book.pdf"


HANDOUT_MARKER = "# --- student handouts (tools/build_pdf.py) ---"


def build_student_handouts(build_flags):
    """One PDF per chapter of the student edition, from the sources `make student` generated."""
    conf = STUDENT_SRC / "conf.py"
    if not conf.exists():
        raise SystemExit(f"build_pdf: {conf} is missing: run `make student` first")
    if not (chapters := sorted((STUDENT_SRC / "student").glob("[0-9][0-9]_*.md"))):
        raise SystemExit(
            f"build_pdf: no chapters in {STUDENT_SRC / 'student'}: run `make student` first"
        )
    # Each chapter is its own LaTeX document (the book's jupyterBook class), so each handout stands alone.
    documents = [
        (f"student/{c.stem}", f"{c.stem}.tex", chapter_title(c), "", "jupyterBook")
        for c in chapters
    ]
    text = conf.read_text(encoding="utf-8").split(HANDOUT_MARKER)[0]
    # No theorem index in a handout: it would list (and link) the theorems of every other chapter too.
    conf.write_text(
        f"{text}{HANDOUT_MARKER}\nlatex_engine = 'xelatex'\nlatex_documents = {documents!r}\n"
        "latex_domain_indices = False\n",
        encoding="utf-8",
    )
    latex = ROOT / "_build" / "student" / "latex"
    shutil.rmtree(latex, ignore_errors=True)
    doctrees = ROOT / "_build" / "student" / "doctrees-latex"
    sphinx = [BIN / "sphinx-build", *build_flags, "-q", "-b", "latex", "-d"]
    run([*sphinx, str(doctrees), str(STUDENT_SRC), str(latex)])
    run(["make", "-C", str(latex), "all-pdf"])
    target = OUT / "student"
    target.mkdir(parents=True, exist_ok=True)
    pdfs = []
    for chapter in chapters:
        check_log(latex / f"{chapter.stem}.log", f"the handout {chapter.stem}")
        pdfs.append(shutil.copy(latex / f"{chapter.stem}.pdf", target))
    return pdfs


def publish_into(site: Path, book=True):
    """Put the PDFs where the site links them: <site>/pdf/book.pdf (the reader's site only: it has the
    solutions) and <site>/pdf/student/*.pdf."""
    if not site.is_dir():
        return
    (site / "pdf").mkdir(exist_ok=True)
    shutil.copytree(OUT / "student", site / "pdf" / "student", dirs_exist_ok=True)
    if book:
        shutil.copy(OUT / "book.pdf", site / "pdf" / "book.pdf")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-flags", default="-W -n --keep-going")
    args = parser.parse_args(argv)
    require_tex()
    flags = args.build_flags.split()
    book = build_book(flags)
    handouts = build_student_handouts(flags)
    publish_into(ROOT / "_build" / "html")
    publish_into(ROOT / "_build" / "student" / "html", book=False)
    print(f"book: {book.relative_to(ROOT)}")
    print(
        "student handouts:", ", ".join(str(Path(p).relative_to(ROOT)) for p in handouts)
    )


if __name__ == "__main__":
    main()
