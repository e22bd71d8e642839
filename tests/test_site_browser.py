"""The reader's experience in a real browser: the strict build (`built_site`) served on localhost, every
page opened in Debian's Chromium through Playwright (tools/a11y_audit.py's launcher: no downloaded
browser, no request off the site) at desktop width (1280x900), where everything below is measured, and
at phone width (390x844, mobile emulation) for the layout. Screenshots of both go to
`_build/screenshots/<page>-desktop.png` and `<page>-phone.png`: look at them. Each test checks one
promise to the reader on every page and lists every page that breaks it."""

import json
import re
import shutil
import sys
from urllib.parse import parse_qs, unquote, urlparse

import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import ROOT, run, toc_files

sys.path.insert(0, str(ROOT / "tools"))
import a11y_audit as a11y  # noqa: E402

pytestmark = pytest.mark.slow

SCREENSHOTS = ROOT / "_build" / "screenshots"
# Chromium asks every site for /favicon.ico by itself; no page links it, so its 404 is not the book's.
BROWSER_OWN_REQUESTS = {"/favicon.ico"}
MATH_DELIMITER = re.compile(r"(?<!\\)\\[(\[]")  # \( or \[ opens a formula (not \\[2pt])
RAW_MATH = re.compile(r"(?<!\\)\\[(\[]|\$\$|\$[^\s$][^$\n]{0,200}?\$")
IMAGE_PATH = re.compile(r"\.(png|jpe?g|gif|svg|webp)$", re.IGNORECASE)
STDERR_ERROR = re.compile(r"Traceback|\w*Error\b")
CODE_CELL = re.compile(r"^(`{3,}|~{3,})\{code-cell\}", re.MULTILINE)


def toc_pages():
    """The book's pages in reading order (`x.html`): the root, then every file of _toc.yml."""
    return [re.sub(r"\.(md|ipynb|rst)$", "", name) + ".html" for name in toc_files()]


def tracked_by_git(path):
    if not (ROOT / ".git").exists():
        return path.exists()
    command = ["git", "ls-files", "--error-unmatch", str(path.relative_to(ROOT))]
    return run(command).returncode == 0


@pytest.fixture(scope="module")
def site_url(built_site):
    with a11y.served(built_site) as url:
        yield url


class Visit:
    """What one page gave: console errors, failed and off-site requests, the page's facts."""

    def __init__(self):
        self.console_errors, self.failed_local, self.external = [], [], []
        self.dom, self.phone, self.pdf_bytes, self.pdf_error = {}, {}, 0, ""


COLLECT_JS = r"""
async () => {
  const result = {};
  // Let every image load (lazy ones too) before measuring it.
  const images = Array.from(document.querySelectorAll('img'));
  images.forEach(img => { if (img.loading === 'lazy') img.loading = 'eager'; });
  await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener('load', done); img.addEventListener('error', done); setTimeout(done, 15000);
  })));
  // MathJax typesets asynchronously; wait until it says it is done.
  result.mathjax = !!(window.MathJax && window.MathJax.startup);
  result.mathjax_error = null;
  if (result.mathjax) {
    try {
      await Promise.race([window.MathJax.startup.promise,
                          new Promise((_, fail) => setTimeout(() => fail(new Error('timeout after 30 s')), 30000))]);
    } catch (error) { result.mathjax_error = String(error); }
  }
  const mathjaxScript = Array.from(document.scripts).find(s => /mathjax/i.test(s.src || ''));
  result.mathjax_src = mathjaxScript ? mathjaxScript.src : null;
  result.mjx_containers = document.querySelectorAll('mjx-container').length;
  result.mjx_errors = Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent.slice(0, 120));
  result.untypeset = Array.from(document.querySelectorAll('.math'))
      .filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.trim().slice(0, 120));
  // Text a reader sees (dropdowns included), without code, typeset math or scripts.
  const main = (document.querySelector('main') || document.body).cloneNode(true);
  main.querySelectorAll('pre, code, script, style, textarea, mjx-container, .highlight').forEach(e => e.remove());
  result.visible_text = main.textContent;
  result.images = images.map(img => {
    const figure = img.closest('figure');
    const caption = figure ? (figure.querySelector('figcaption') || {}).textContent || '' : '';
    return {src: img.currentSrc || img.src, src_attr: img.getAttribute('src') || '',
            alt: img.getAttribute('alt'), natural_width: img.naturalWidth, caption: caption.trim()};
  });
  // Cell outputs that are errors.
  result.error_outputs = Array.from(document.querySelectorAll(
      '.cell_output .output.traceback, .cell_output .output.error')).map(e => e.textContent.slice(0, 300));
  result.traceback_outputs = Array.from(document.querySelectorAll('.cell_output'))
      .filter(e => e.textContent.includes('Traceback (most recent call last)')).map(e => e.textContent.slice(0, 300));
  result.stderr_outputs = Array.from(document.querySelectorAll('.cell_output .output.stderr'))
      .map(e => e.textContent.slice(0, 2000));
  // Launch and download buttons.
  const link = selector => Array.from(document.querySelectorAll(selector)).map(a => a.href);
  result.colab = link('a[href*="colab.research.google.com"]');
  result.binder = link('a[href*="mybinder.org"], a[title="Launch on Binder"]');
  result.download_source = link('a.btn-download-source-button');
  result.download_notebook = link('a.btn-download-notebook-button');
  result.print_buttons = Array.from(document.querySelectorAll('.btn-download-pdf-button'))
      .map(b => b.getAttribute('onclick') || '');
  // Navigation.
  result.prev = link('.prev-next-area a.left-prev');
  result.next = link('.prev-next-area a.right-next');
  result.sidebar = link('nav.bd-docs-nav a.reference.internal');
  return result;
}
"""

PHONE_JS = r"""
() => {
  const width = window.innerWidth;
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const box = article.getBoundingClientRect();
  // Elements that stick out to the right of the screen without a scrolling ancestor to hold them.
  const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p); if (/(auto|scroll|hidden)/.test(s.overflowX)) return true; } return false; };
  const offenders = Array.from(article.querySelectorAll('*'))
      .filter(e => e.getBoundingClientRect().right > width + 1 && !scrolls(e))
      .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string'
                                                         ? '.' + e.className.trim().split(/\s+/).join('.') : ''));
  const paragraph = article.querySelector('p');
  return {inner_width: width, scroll_width: document.documentElement.scrollWidth,
          article_left: box.left, article_width: box.width, offenders: offenders,
          font_px: paragraph ? parseFloat(getComputedStyle(paragraph).fontSize) : null};
}
"""


def _local(url, site_url):
    return url.startswith(site_url)


def _watch(page, visit, site_url):
    """Record console errors, uncaught exceptions, failed local requests and requests off the site."""

    def on_console(message):
        where = (message.location or {}).get("url", "")
        if message.type == "error" and urlparse(where).path not in BROWSER_OWN_REQUESTS:
            visit.console_errors.append(f"{message.text} ({where})")

    def on_response(response):
        path = urlparse(response.url).path
        if _local(response.url, site_url) and response.status >= 400:
            if path not in BROWSER_OWN_REQUESTS:
                visit.failed_local.append(f"HTTP {response.status} {path}")

    def on_failed(request):
        if _local(request.url, site_url):
            visit.failed_local.append(f"{request.failure} {urlparse(request.url).path}")

    # a page's route comes before the launcher's, which aborts off-site
    def route(route_):
        url = route_.request.url
        if _local(url, site_url) or url.startswith(("data:", "blob:")):
            return route_.continue_()
        visit.external.append(url)
        route_.abort()

    page.on("console", on_console)
    page.on(
        "pageerror", lambda e: visit.console_errors.append(f"uncaught exception: {e}")
    )
    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    page.route("**/*", route)


def _screenshot(page_path, width):
    name = page_path.removesuffix(".html").replace("/", "__")
    return SCREENSHOTS / f"{name}-{width}.png"


@pytest.fixture(scope="module")
def visits(built_site, site_url):
    """Open every page at desktop and at phone width; {page: Visit}."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    results = {page_path: Visit() for page_path in a11y.pages_of(built_site)}
    for width, (viewport, mobile) in a11y.VIEWPORTS.items():
        with a11y.browser(viewport, mobile, "light") as context:
            for page_path, visit in results.items():
                page = context.new_page()
                _watch(page, visit, site_url)
                page.goto(site_url + page_path, wait_until="load", timeout=60_000)
                dom = page.evaluate(COLLECT_JS)  # waits: images loaded, math typeset
                if width == "desktop":
                    visit.dom = dom
                else:
                    visit.phone = page.evaluate(PHONE_JS)
                page.screenshot(path=str(_screenshot(page_path, width)), full_page=True)
                if width == "desktop" and page_path.startswith("chapters/"):
                    # What the "Print to PDF" button gives: the print stylesheet as a PDF.
                    try:
                        pdf = page.pdf(format="A4", print_background=True)
                        visit.pdf_bytes = len(pdf)
                    except Exception as error:  # noqa: BLE001 - reported by a test below
                        visit.pdf_error = str(error)
                page.close()
    return results


def assert_every_page(visits, what, problems_of):
    """problems_of(page, visit) yields what is wrong with one page; none may be."""
    problems = [(p, x) for p, visit in visits.items() for x in problems_of(p, visit)]
    assert not problems, f"{what}:\n" + "\n".join(f"  {p}: {x}" for p, x in problems)


def test_index_redirects_to_the_root_page(built_site):
    index = (built_site / "index.html").read_text(encoding="utf-8")
    assert f"url={toc_pages()[0]}" in index, f"index.html is no redirect:\n{index}"


def test_no_console_errors_no_failed_or_external_requests(visits):
    def problems(page, visit):
        yield from (f"console error: {text}" for text in visit.console_errors)
        yield from (f"failed local request: {text}" for text in visit.failed_local)
        for url in visit.external:
            yield f"request off the site (the book must work offline): {url}"

    assert_every_page(visits, "JavaScript errors or failed requests", problems)


def test_every_formula_is_typeset_by_the_local_mathjax(built_site, site_url, visits):
    def problems(page, visit):
        dom, source = visit.dom, (built_site / page).read_text(encoding="utf-8")
        formulas = BeautifulSoup(source, "html.parser").select(".math")
        expected = sum(len(MATH_DELIMITER.findall(n.get_text())) for n in formulas)
        if expected and not dom["mathjax"]:
            yield f"{expected} formulas but MathJax did not load"
            return
        if dom["mathjax_src"] and not _local(dom["mathjax_src"], site_url):
            yield f"MathJax comes from {dom['mathjax_src']}, not the site's own copy"
        if dom["mathjax_error"]:
            yield f"MathJax did not finish: {dom['mathjax_error']}"
        if dom["mjx_containers"] != expected:
            yield f"{expected} formulas in the HTML but {dom['mjx_containers']} typeset"
        yield from (f"formula not typeset: {text!r}" for text in dom["untypeset"])
        yield from (f"TeX error in a formula: {text!r}" for text in dom["mjx_errors"])
        text = dom["visible_text"]
        for match in RAW_MATH.finditer(text):
            near = text[max(0, match.start() - 40) : match.end() + 40]
            yield f"raw TeX left in the text: ...{near.replace(chr(10), ' ')}..."

    assert_every_page(visits, "math not rendered", problems)


def test_every_image_loads_and_has_alt_text_or_a_caption(visits):
    def problems(page, visit):
        for image in visit.dom["images"]:
            name = image["src_attr"] or image["src"]
            if image["natural_width"] <= 0:
                yield f"image does not load: {name}"
            # myst-nb falls back to the file name as alt text: that tells a reader nothing.
            alt = (image["alt"] or "").strip()
            real = alt and alt != image["src_attr"] and not IMAGE_PATH.search(alt)
            if not real and not image["caption"]:
                yield (
                    "image without alt text or caption (give the cell `mystnb: image: "
                    f"alt:` and `figure: caption:` metadata): {name}"
                )

    assert_every_page(visits, "images", problems)


def test_no_cell_shows_an_error(visits):
    def problems(page, visit):
        dom = visit.dom
        yield from (f"error output: {text!r}" for text in dom["error_outputs"])
        yield from (f"traceback in an output: {t!r}" for t in dom["traceback_outputs"])
        for text in dom["stderr_outputs"]:
            if STDERR_ERROR.search(text):
                yield f"error on stderr: {text[:300]!r}"

    assert_every_page(visits, "cells that show errors", problems)


def _chapters(visits):
    chapters = {p: v for p, v in visits.items() if p.startswith("chapters/")}
    assert chapters, "no chapter pages were built"
    return chapters


def test_launch_buttons_open_the_chapter_notebook_of_the_repo(visits):
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    owner_name = urlparse(repo["url"]).path.strip("/")
    branch = repo.get("branch", "main")
    book_path = (repo.get("path_to_book") or "").strip("/")

    def problems(page, visit):
        notebook = page.removesuffix(".html") + ".ipynb"
        notebook = f"{book_path}/{notebook}" if book_path else notebook
        colab = f"https://colab.research.google.com/github/{owner_name}/blob/{branch}/{notebook}"
        if visit.dom["colab"] != [colab]:
            yield f"Colab button(s) {visit.dom['colab']}, expected [{colab}]"
        binder = [urlparse(url) for url in visit.dom["binder"]]
        if not any(
            url.path == f"/v2/gh/{owner_name}/{branch}"
            and parse_qs(url.query).get("urlpath") == [f"tree/{notebook}"]
            for url in binder
        ):
            yield f"Binder button(s) {visit.dom['binder']} do not open {notebook}"
        if not (ROOT / notebook).exists():
            yield f"the buttons open {notebook}, not in the repo: run `make sync`"
        elif not tracked_by_git(ROOT / notebook):
            yield f"{notebook} is not committed: Colab and Binder would not find it"

    assert_every_page(_chapters(visits), "launch buttons", problems)


def test_download_buttons_give_the_chapter_source_and_notebook(
    built_site, site_url, visits
):
    def site_file(url):
        path = built_site / unquote(urlparse(url).path).lstrip("/")
        return path if _local(url, site_url) and path.is_file() else None

    def problems(page, visit):
        dom, source = visit.dom, ROOT / page.replace(".html", ".md")
        if len(dom["download_source"]) != 1 or len(dom["download_notebook"]) != 1:
            yield (
                "expected one .md and one .ipynb download button, got "
                f"{dom['download_source']} and {dom['download_notebook']}"
            )
            return
        md = site_file(dom["download_source"][0])
        notebook = site_file(dom["download_notebook"][0])
        if md is None or md.read_bytes() != source.read_bytes():
            yield f"the source download {dom['download_source'][0]} is not {source.name}"
        if notebook is None:
            yield f"the notebook download {dom['download_notebook'][0]} is not a file"
        else:
            cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
            code_cells = sum(cell.get("cell_type") == "code" for cell in cells)
            expected = len(CODE_CELL.findall(source.read_text(encoding="utf-8")))
            if code_cells != expected:
                yield f"{notebook.name} has {code_cells} code cells, {source.name} {expected}"
        if dom["print_buttons"] != ["window.print()"]:
            yield f"no working 'Print to PDF' button: {dom['print_buttons']}"
        if visit.pdf_error or visit.pdf_bytes < 10_000:
            yield f"printing to PDF failed: {visit.pdf_error or visit.pdf_bytes} (bytes)"

    assert_every_page(_chapters(visits), "download buttons", problems)


def _page_of(url, site_url):
    return urlparse(url).path.removeprefix("/") if _local(url, site_url) else url


def test_previous_next_chain_reads_the_book_in_toc_order(site_url, visits):
    order = toc_pages()
    chain, page = [order[0]], order[0]
    while page in visits and visits[page].dom["next"] and len(chain) <= len(visits):
        page = _page_of(visits[page].dom["next"][0], site_url)
        chain.append(page)
    assert chain == order, f"following 'next' from {order[0]} reads {chain}"
    previous = {after: before for before, after in zip(order, order[1:])}

    def problems(page, visit):
        got = [_page_of(url, site_url) for url in visit.dom["prev"]]
        if page in previous and got != [previous[page]]:
            yield f"'previous' goes to {got}, expected {previous[page]}"

    assert_every_page(visits, "previous links", problems)


def test_sidebar_table_of_contents_reaches_every_chapter_from_every_page(
    site_url, visits
):
    def problems(page, visit):
        reached = {_page_of(url, site_url) for url in visit.dom["sidebar"]}
        if missing := sorted(set(toc_pages()) - reached - {page}):
            yield f"the sidebar does not link {missing}"
        if stray := sorted(p for p in reached if p not in visits):
            yield f"the sidebar links pages that do not exist: {stray}"

    assert_every_page(visits, "table of contents", problems)


def test_screenshots_are_written_and_the_phone_layout_fits_the_screen(visits):
    def problems(page, visit):
        for width in a11y.VIEWPORTS:
            shot = _screenshot(page, width)
            if not shot.is_file() or shot.stat().st_size < 2_000:
                yield f"no {width} screenshot at {shot}"
        phone, screen = visit.phone, visit.phone["inner_width"]
        if phone["scroll_width"] > screen + 1:
            yield (
                f"on a phone the page scrolls sideways ({phone['scroll_width']} px for "
                f"a {screen} px screen); too wide: {phone['offenders']}"
            )
        if phone["article_width"] < 0.85 * screen or phone["article_left"] < 0:
            yield (
                f"on a phone the text column is {phone['article_width']:.0f} px wide "
                f"at x={phone['article_left']:.0f} (screen {screen} px)"
            )
        if phone["font_px"] is not None and phone["font_px"] < 14:
            yield f"on a phone the body text is {phone['font_px']} px: too small to read"

    assert_every_page(visits, "screenshots and phone layout", problems)
