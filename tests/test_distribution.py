"""The student distribution (`make assign`: _build/distribution/, tools/make_student.py), the course's
own repository: generated here into a temporary folder, for a course repository of the test's own."""

import re
import sys

import nbformat
import pytest
from conftest import CHAPTER_STEMS, CHAPTERS, ROOT
from test_grading import hidden_test_files, leaked_fragments
from test_student_edition import leaks, make_student

SLUG, BRANCH = "a-course/homework-2027", "spring"


def config(**setting):
    return {**make_student.book_config(), "student_repository": setting}


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    pdfs = tmp_path_factory.mktemp("pdf")
    (pdfs / "01_logsumexp.pdf").write_bytes(b"%PDF-1.5 a handout")
    (pdfs / "roster.csv").write_text("Student,ID\nAda Lovelace,1\n")  # never copied
    out = tmp_path_factory.mktemp("dist") / "distribution"
    course = config(url=f"https://github.com/{SLUG}", branch=BRANCH)
    return out, make_student.write_distribution(out, (), pdfs, course)


def text_of(path):
    """A file as a reader sees it: a notebook's cell sources, any other file's text."""
    if path.suffix == ".ipynb":
        return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    return path.read_text(encoding="utf-8")


def test_the_distribution_holds_exactly_the_allowed_files(dist):
    out, without_pdf = dist
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    notebooks = [f"student/{stem}.ipynb" for stem in CHAPTER_STEMS]
    assert files == [".binder/requirements.txt", ".binder/runtime.txt", ".gitignore",
                     "LICENSE", "README.md", "pdf/01_logsumexp.pdf", *notebooks]  # fmt: skip
    assert without_pdf == CHAPTER_STEMS[1:]
    for name in [
        *notebooks,
        "LICENSE",
    ]:  # the committed student notebooks, helper inlined
        assert (out / name).read_bytes() == (ROOT / name).read_bytes()


def test_binder_pins_exactly_what_the_notebooks_import(dist):
    out, _ = dist
    pins = (out / ".binder" / "requirements.txt").read_text().splitlines()
    assert set(pins) <= set(
        (ROOT / ".binder" / "requirements.txt").read_text().split("\n")
    )
    sources = [make_student.HELPER.read_text()] + [
        c.source for p in (out / "student").iterdir()
        for c in nbformat.read(p, as_version=4).cells if c.cell_type == "code"
    ]  # fmt: skip
    imported = make_student.imported_modules(sources) - set(sys.stdlib_module_names)
    # the notebook writes dlbook; Jupyter brings IPython, sympy mpmath; myst_nb is optional
    wanted = imported - {"dlbook", "IPython", "mpmath", "myst_nb"}
    assert {pin.split("==")[0] for pin in pins if "==" in pin} == wanted


@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_no_solution_hidden_test_or_twin_in_the_distribution(dist, stem):
    files = [p for p in dist[0].rglob("*") if p.is_file() and p.suffix != ".pdf"]
    text = "\n".join(map(text_of, files))
    twin = CHAPTERS / f"{stem}.ipynb"
    assert leaks(stem, text_of(twin)), "the search is blind: nothing found in the twin"
    assert not leaks(stem, text)
    assert twin.read_bytes() not in [p.read_bytes() for p in files]
    for path in hidden_test_files():
        if path.parent.parent.name == stem:
            assert not leaked_fragments(path, text), path


def test_links_open_the_course_repository(dist):
    readme = (dist[0] / "README.md").read_text()
    urls = re.findall(r"\]\((https://[^)]+)\)", readme)
    assert urls and all(SLUG in url for url in urls)
    for stem in CHAPTER_STEMS:
        path = f"student/{stem}.ipynb"
        assert (
            f"https://colab.research.google.com/github/{SLUG}/blob/{BRANCH}/{path}"
            in urls
        )
        assert f"https://mybinder.org/v2/gh/{SLUG}/{BRANCH}?urlpath=tree/{path}" in urls
    assert "[PDF](pdf/01_logsumexp.pdf)" in readme
    site = make_student.site_config(config(url=f"https://github.com/{SLUG}.git/"))
    assert site["repository"] == {
        "url": f"https://github.com/{SLUG}", "branch": "main", "path_to_book": ""
    }  # fmt: skip


def test_chapters_are_released_one_at_a_time(tmp_path):
    out = tmp_path / "distribution"
    make_student.write_distribution(out, ["04_receptive_field"], tmp_path)
    assert [p.name for p in (out / "student").iterdir()] == ["04_receptive_field.ipynb"]
    readme = (out / "README.md").read_text()
    assert "| 4. Receptive fields" in readme and "01_logsumexp" not in readme
    assert "Chapter 4 uses CIFAR-10." in readme and not (out / "pdf").exists()


BAD = {  # id: (chapters, student_repository, the error)
    "missing": ((), {}, "_config.yml: student_repository.url is missing; set it to the GitHub"),
    "not GitHub": ((), {"url": "https://gitlab.com/a/b"},
                   "student_repository.url is 'https://gitlab.com/a/b'; set it"),
    "no such chapter": (["01_logsumexp", "4_rf"], {"url": "https://github.com/a/b"},
                        "CHAPTERS: no chapter 4_rf; the chapters are: 01_logsumexp"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD)
def test_a_wrong_setting_or_chapter_is_a_clear_error(tmp_path, case):
    chapters, setting, message = BAD[case]
    with pytest.raises(make_student.StudentEditionError, match=re.escape(message)):
        make_student.write_distribution(
            tmp_path / "d", chapters, tmp_path, config(**setting)
        )
    assert not (tmp_path / "d").exists()
