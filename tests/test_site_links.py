"""No broken link inside either site: every internal href/src of every built page resolves to a file of the
site, and every #anchor to an element of the target page (downloads and the PDF links included)."""

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.slow

LINK_ATTRIBUTES = {"a": "href", "link": "href", "script": "src", "img": "src", "source": "src",
                   "iframe": "src"}  # fmt: skip
# Vendored MathJax and the theme's Jinja macro files in _static are assets, not pages of the book.
NOT_PAGES = {"mathjax", "_static"}


def _ids(page: Path, cache={}):
    if page not in cache:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        cache[page] = {tag.get("id") for tag in soup.find_all(id=True)} | {
            tag.get("name") for tag in soup.find_all("a", attrs={"name": True})
        }
    return cache[page]


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
                if site not in target.resolve().parents and target.resolve() != site:
                    problems.append((relative, link, "points outside the site"))
                elif not target.is_file():
                    problems.append((relative, link, "no such file"))
                elif (
                    fragment
                    and target.suffix == ".html"
                    and fragment not in _ids(target)
                ):
                    problems.append(
                        (relative, link, f"no element with id '{fragment}'")
                    )
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
    assert found == {
        ("intro.html", "chapters/one.html#typo"),
        ("intro.html", "chapters/two.html"),
        ("intro.html", "_downloads/book.pdf"),
        ("intro.html", "_images/missing.png"),
    }


def test_reader_site_has_no_broken_internal_link(built_site):
    assert_no_broken_link(built_site, "reader's site")


def test_student_site_has_no_broken_internal_link(student_site):
    assert_no_broken_link(student_site, "student site")
