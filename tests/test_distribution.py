"""The student distribution (`make assign`: _build/distribution/, tools/make_student.py), the course's
own repository, generated into a temporary folder for a course repository of the test's own."""

import re
import sys

import nbformat
import pytest
from conftest import CHAPTER_STEMS, CHAPTERS, ROOT
from test_grading import hidden_test_files, leaked_fragments
from test_student_edition import leaks, make_student

SLUG, BRANCH, ONE = "a-course/homework-2027", "spring", "04_receptive_field"
COLAB, URL = "https://colab.research.google.com/github", f"https://github.com/{SLUG}"


def config(**setting):
    return {**make_student.book_config(), "student_repository": setting}


def cells(path, kind=("code", "markdown")):
    notebook = nbformat.read(path, as_version=4)
    return [c.source for c in notebook.cells if c.cell_type in kind]


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    pdfs, out = tmp_path_factory.mktemp("pdf"), tmp_path_factory.mktemp("d") / "dist"
    (pdfs / "01_logsumexp.pdf").write_bytes(b"%PDF-1.5 a handout")
    make_student.write_distribution(out, (), pdfs, config(url=URL, branch=BRANCH))
    return out


def test_the_distribution_holds_exactly_the_allowed_files(dist):
    """Binder pins what the notebooks import, as the book pins it."""
    files = sorted(str(p.relative_to(dist)) for p in dist.rglob("*") if p.is_file())
    notebooks = [f"student/{stem}.ipynb" for stem in CHAPTER_STEMS]
    assert files == [".binder/requirements.txt", ".binder/runtime.txt", ".gitignore",
                     "LICENSE", "README.md", "pdf/01_logsumexp.pdf", *notebooks]  # fmt: skip
    for name in [*notebooks, "LICENSE"]:  # the student notebooks: helper module inlined
        assert (dist / name).read_bytes() == (ROOT / name).read_bytes()
    pins, book = ((d / ".binder/requirements.txt").read_text() for d in (dist, ROOT))
    assert set(pins.splitlines()) <= set(book.splitlines())
    code = [s for p in (dist / "student").iterdir() for s in cells(p, ["code"])]
    imported = make_student.imported_modules([make_student.HELPER.read_text(), *code])
    # the notebook writes dlbook; Jupyter brings IPython, sympy mpmath; myst_nb is optional;
    # otter is imported only by dlbook.hidden_case, which only the hidden tests call
    given = {"dlbook", "IPython", "mpmath", "myst_nb", "otter", *sys.stdlib_module_names}  # fmt: skip
    pinned = {pin.split("==")[0] for pin in pins.split() if "==" in pin}
    assert pinned == imported - given


@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_no_solution_hidden_test_or_twin_in_the_distribution(dist, stem):
    files = [p for p in dist.rglob("*") if p.is_file() and p.suffix != ".pdf"]
    read = lambda p: "\n".join(cells(p)) if p.suffix == ".ipynb" else p.read_text()  # noqa: E731
    text, twin = "\n".join(map(read, files)), CHAPTERS / f"{stem}.ipynb"
    assert leaks(stem, read(twin)), "the search is blind: it finds nothing in the twin"
    assert not leaks(stem, text)
    assert twin.read_bytes() not in [p.read_bytes() for p in files]
    for path in (p for p in hidden_test_files() if p.parent.parent.name == stem):
        assert not leaked_fragments(path, text), path


def test_links_open_the_course_repository(dist):
    """The distribution's README and student/README.md (the site's: test_student_edition)."""
    course = make_student.book_config()["student_repository"]
    for readme, url, branch in ((dist / "README.md", URL, BRANCH),
                                (ROOT / "student/README.md", course["url"], course["branch"])):  # fmt: skip
        slug = url.removeprefix("https://github.com/")
        links = re.findall(r"\]\((https://[^)]+)\)", readme.read_text())
        assert links and all(slug in link for link in links), links
        for path in (f"student/{stem}.ipynb" for stem in CHAPTER_STEMS):
            colab = f"{COLAB}/{slug}/blob/{branch}/{path}"
            binder = f"https://mybinder.org/v2/gh/{slug}/{branch}?urlpath=tree/{path}"
            assert {f"{url}/blob/{branch}/{path}", colab, binder} <= set(links)
    assert "[PDF](pdf/01_logsumexp.pdf)" in (dist / "README.md").read_text()


def test_chapters_are_released_one_at_a_time(tmp_path):
    make_student.write_distribution(tmp_path / "d", [ONE], tmp_path)
    assert [p.name for p in (tmp_path / "d/student").iterdir()] == [ONE + ".ipynb"]
    readme = (tmp_path / "d/README.md").read_text()
    assert "| 4. Receptive fields" in readme and "01_logsumexp" not in readme
    assert "use CIFAR-10: 4." in readme and not (tmp_path / "d/pdf").exists()


@pytest.mark.parametrize("stems,wrong,error", [
    ((), config(), "_config.yml: student_repository.url is missing; set it to the GitHub URL"),
    ((), config(url="https://gitlab.com/a/b"), "student_repository.url is 'https://gitlab.com/a/b'; set"),
    (["01_logsumexp", "4_rf"], config(url=URL),
     "CHAPTERS: no chapter 4_rf; the chapters are: 01_logsumexp 02_alexnet_counting"),
], ids=["missing", "not GitHub", "no such chapter"])  # fmt: skip
def test_a_bad_setting_or_chapter_is_a_clear_error(tmp_path, stems, wrong, error):
    with pytest.raises(make_student.StudentEditionError, match=re.escape(error)):
        make_student.write_distribution(tmp_path / "d", stems, tmp_path, wrong)
    assert not (tmp_path / "d").exists()
