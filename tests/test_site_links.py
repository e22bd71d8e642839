"""No broken link inside either site: every internal href/src of every built page resolves to a file of the
site, and every #anchor to an element of the target page (downloads and the PDF links included)."""

import functools
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.slow

LINK_ATTRIBUTES = {"a": "href", "link": "href", "script": "src", "img": "src", "source": "src",
                   "iframe": "src"}  # fmt: skip
# Vendored MathJax and the theme's Jinja macro files in _static are assets, not pages of the book.
NOT_PAGES = {"mathjax", "_static"}


@functools.cache
def _ids(page: Path):
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    names = {tag.get("name") for tag in soup.find_all("a", attrs={"name": True})}
    return {tag.get("id") for tag in soup.find_all(id=True)} | names


def broken_links(site: Path):
    """[(page, link, why)] for every internal link of every page of `site` that does not resolve."""
    problems, site = [], site.resolve()
    for page in sorted(site.rglob("*.html")):
        relative = str(page.relative_to(site))
        if page.relative_to(site).parts[0] in NOT_PAGES:
            continue
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag_name, attribute in LINK_ATTRIBUTES.items():
            for tag in soup.find_all(tag_name, attrs={attribute: True}):
                link = tag[attribute].strip()
                url = urlparse(link)
                if not link or url.scheme or url.netloc or link.startswith("mailto:"):
                    continue  # (javascript: and data: links have a scheme)
                target = (
                    (page.parent / unquote(url.path)).resolve() if url.path else page
                )
                if url.path.endswith("/") or target.is_dir():
                    target = target / "index.html"
                fragment = unquote(url.fragment)
                anchored = fragment and target.suffix == ".html"
                if site not in target.resolve().parents and target.resolve() != site:
                    why = "points outside the site"
                elif not target.is_file():
                    why = "no such file"
                elif anchored and fragment not in _ids(target):
                    why = f"no element with id '{fragment}'"
                else:
                    continue
                problems.append((relative, link, why))
    return problems


def assert_no_broken_link(site, name):
    problems = broken_links(site)
    assert not problems, f"{len(problems)} broken links in the {name}:\n" + "\n".join(
        f"  {page}: {link} ({why})" for page, link, why in problems[:60]
    )


def test_the_checker_finds_a_missing_page_a_missing_anchor_and_a_missing_download(
    tmp_path,
):
    site = tmp_path / "html"
    (site / "chapters").mkdir(parents=True)
    (site / "chapters" / "one.html").write_text('<h1 id="top">One</h1><p id="x">x</p>')
    (site / "intro.html").write_text(
        '<a href="chapters/one.html#x">fine</a> <a href="#here">fine</a> <span id="here"></span>'
        '<a href="chapters/one.html#typo">anchor</a> <a href="chapters/two.html">page</a>'
        '<a href="_downloads/book.pdf">pdf</a> <a href="https://example.org/x.html">external</a>'
        '<img src="_images/missing.png" alt="">'
    )
    found = {(page, link) for page, link, _ in broken_links(site)}
    missing = ["chapters/one.html#typo", "chapters/two.html", "_downloads/book.pdf",
               "_images/missing.png"]  # fmt: skip
    assert found == {("intro.html", link) for link in missing}


def test_reader_site_has_no_broken_internal_link(built_site):
    assert_no_broken_link(built_site, "reader's site")


def test_student_site_has_no_broken_internal_link(student_site):
    assert_no_broken_link(student_site, "student site")
