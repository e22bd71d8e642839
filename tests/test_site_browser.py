"""The reader's experience, checked in a real browser: every page of the built site in headless Chromium.

The strict build (`built_site`, i.e. `make book`) is served over http on a free localhost port and every
HTML page is opened twice with Debian's `/usr/bin/chromium` driven by Playwright (never a downloaded
browser): once at desktop width (1280x900), where everything below is measured and a screenshot is taken,
and once at phone width (390x844, mobile emulation), for a screenshot and a layout check.
Screenshots go to `_build/screenshots/<page>-desktop.png` and `<page>-phone.png`: look at them.

Each test below checks one promise to the reader on every page and lists every page that breaks it.
"""

import functools
import http.server
import json
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import pytest
import yaml
from bs4 import BeautifulSoup

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = ROOT / "_build" / "screenshots"
# Folders of the built site that hold assets, not pages.
NOT_PAGES = {
    "_static",
    "_sources",
    "_images",
    "_downloads",
    "mathjax",
    "reports",
    "jupyter_execute",
}
# Chromium asks every site for /favicon.ico by itself; no page links it, so its 404 is not the book's.
BROWSER_OWN_REQUESTS = {"/favicon.ico"}
MATH_DELIMITER = re.compile(
    r"(?<!\\)\\[(\[]"
)  # \( or \[ opening a formula (not the \\[2pt] of a line break)
RAW_MATH = re.compile(r"(?<!\\)\\[(\[]|\$\$|\$[^\s$][^$\n]{0,200}?\$")
IMAGE_PATH = re.compile(r"\.(png|jpe?g|gif|svg|webp)$", re.IGNORECASE)
STDERR_ERROR = re.compile(r"Traceback|\w*Error\b")
CODE_CELL = re.compile(r"^(`{3,}|~{3,})\{code-cell\}", re.MULTILINE)


# --------------------------------------------------------------------------------------------------
# What the book should contain: pages from _toc.yml, the repository from _config.yml.


def _toc_files(entries):
    for entry in entries or []:
        if "file" in entry:
            yield entry["file"]
        yield from _toc_files(entry.get("sections"))
        yield from _toc_files(entry.get("chapters"))
        for part in entry.get("parts", []):
            yield from _toc_files(part.get("chapters"))


def toc_docnames():
    """The book's pages in reading order: the root, then every file of _toc.yml (without suffix)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]
    names += _toc_files(toc.get("chapters"))
    for part in toc.get("parts", []):
        names += _toc_files(part.get("chapters"))
    return [re.sub(r"\.(md|ipynb|rst)$", "", name) for name in names]


def repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]
    owner_name = urlparse(repo["url"]).path.strip("/")
    return (
        owner_name,
        repo.get("branch", "main"),
        (repo.get("path_to_book") or "").strip("/"),
    )


def tracked_by_git(path):
    if not (ROOT / ".git").exists():
        return path.exists()
    result = subprocess.run(
        ["git", "ls-files", "--error-unmatch", str(path.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return result.returncode == 0


def page_docname(path_in_site):
    """'chapters/01_x.html' -> 'chapters/01_x'."""
    return re.sub(r"\.html$", "", path_in_site)


def static_formula_count(html_file):
    """How many formulas Sphinx wrote into the page: the \\( and \\[ openers inside its .math elements."""
    soup = BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser")
    return sum(
        len(MATH_DELIMITER.findall(node.get_text())) for node in soup.select(".math")
    )


# --------------------------------------------------------------------------------------------------
# Serving the site and visiting every page.


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture(scope="module")
def site_url(built_site):
    server = _Server(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(built_site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def site_pages(built_site):
    """Every HTML page of the built site, as paths relative to its root (index.html is only a redirect)."""
    pages = []
    for path in sorted(built_site.rglob("*.html")):
        relative = path.relative_to(built_site)
        if relative.parts[0] in NOT_PAGES or str(relative) == "index.html":
            continue
        pages.append(relative.as_posix())
    return pages


@dataclass
class Visit:
    page: str
    console_errors: list = field(default_factory=list)
    failed_local: list = field(default_factory=list)
    external: list = field(default_factory=list)
    dom: dict = field(default_factory=dict)
    phone: dict = field(default_factory=dict)
    pdf_bytes: int = 0
    pdf_error: str = ""


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
    result.mathjax_version = window.MathJax.version || null;
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
  result.title = document.title;
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
    """Record console errors, uncaught exceptions, failed local requests; refuse any request off the site."""

    def on_console(message):
        if message.type != "error":
            return
        where = (message.location or {}).get("url", "")
        if urlparse(where).path in BROWSER_OWN_REQUESTS:
            return
        visit.console_errors.append(f"{message.text} ({where})")

    def on_response(response):
        path = urlparse(response.url).path
        if (
            _local(response.url, site_url)
            and response.status >= 400
            and path not in BROWSER_OWN_REQUESTS
        ):
            visit.failed_local.append(f"HTTP {response.status} {path}")

    def on_failed(request):
        if _local(request.url, site_url):
            visit.failed_local.append(f"{request.failure} {urlparse(request.url).path}")

    def route(route_):
        if _local(route_.request.url, site_url) or route_.request.url.startswith(
            ("data:", "blob:")
        ):
            route_.continue_()
        else:
            visit.external.append(route_.request.url)
            route_.abort()

    page.on("console", on_console)
    page.on(
        "pageerror",
        lambda error: visit.console_errors.append(f"uncaught exception: {error}"),
    )
    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    page.route("**/*", route)


def _screenshot_name(page_path, width_name):
    return f"{page_docname(page_path).replace('/', '__')}-{width_name}.png"


@pytest.fixture(scope="module")
def visits(built_site, site_url, site_pages):
    """Open every page at desktop and at phone width; {page: Visit}."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `apt-get install -y chromium chromium-driver` (.ci/run does it)"
        )
    from playwright.sync_api import sync_playwright

    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    results = {page_path: Visit(page_path) for page_path in site_pages}
    with sync_playwright() as playwright:
        for width_name, viewport, mobile in (
            ("desktop", DESKTOP, False),
            ("phone", PHONE, True),
        ):
            with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
                context = playwright.chromium.launch_persistent_context(
                    profile,
                    executable_path=str(CHROMIUM),
                    headless=True,
                    args=CHROMIUM_ARGS,
                    viewport=viewport,
                    is_mobile=mobile,
                    has_touch=mobile,
                    device_scale_factor=1,
                )
                try:
                    for page_path in site_pages:
                        visit = results[page_path]
                        page = context.new_page()
                        _watch(page, visit, site_url)
                        page.goto(
                            site_url + page_path, wait_until="load", timeout=60_000
                        )
                        if width_name == "desktop":
                            visit.dom = page.evaluate(COLLECT_JS)
                        else:
                            page.evaluate(
                                COLLECT_JS
                            )  # same waits: images loaded, math typeset
                            visit.phone = page.evaluate(PHONE_JS)
                        page.screenshot(
                            path=str(
                                SCREENSHOTS / _screenshot_name(page_path, width_name)
                            ),
                            full_page=True,
                        )
                        if width_name == "desktop" and page_path.startswith(
                            "chapters/"
                        ):
                            # What the "Print to PDF" button gives: the print stylesheet rendered to a PDF.
                            try:
                                visit.pdf_bytes = len(
                                    page.pdf(format="A4", print_background=True)
                                )
                            except Exception as error:  # noqa: BLE001 - reported by the test below
                                visit.pdf_error = str(error)
                        page.close()
                finally:
                    context.close()
    return results


def _report(problems):
    return "\n".join(f"  {page}: {problem}" for page, problem in problems)


# --------------------------------------------------------------------------------------------------
# The checks.


def test_index_redirects_to_the_root_page(built_site):
    index = (built_site / "index.html").read_text(encoding="utf-8")
    assert f"url={toc_docnames()[0]}.html" in index, (
        f"index.html does not send the reader to the root page:\n{index}"
    )


def test_no_console_errors_no_failed_or_external_requests(visits):
    problems = []
    for page, visit in visits.items():
        problems += [(page, f"console error: {text}") for text in visit.console_errors]
        problems += [
            (page, f"failed local request: {text}") for text in visit.failed_local
        ]
        problems += [
            (page, f"request off the site (the book must work offline): {url}")
            for url in visit.external
        ]
    assert not problems, "JavaScript errors or failed requests:\n" + _report(problems)


def test_every_formula_is_typeset_by_the_local_mathjax(built_site, site_url, visits):
    problems = []
    for page, visit in visits.items():
        dom = visit.dom
        expected = static_formula_count(built_site / page)
        if expected and not dom["mathjax"]:
            problems.append((page, f"{expected} formulas but MathJax did not load"))
            continue
        if dom["mathjax_src"] and not _local(dom["mathjax_src"], site_url):
            problems.append(
                (
                    page,
                    f"MathJax comes from {dom['mathjax_src']}, not from the site's own copy",
                )
            )
        if dom["mathjax_error"]:
            problems.append((page, f"MathJax did not finish: {dom['mathjax_error']}"))
        if dom["mjx_containers"] != expected:
            problems.append(
                (
                    page,
                    f"{expected} formulas in the HTML but {dom['mjx_containers']} typeset",
                )
            )
        problems += [
            (page, f"formula not typeset: {text!r}") for text in dom["untypeset"]
        ]
        problems += [
            (page, f"TeX error in a formula: {text!r}") for text in dom["mjx_errors"]
        ]
        for match in RAW_MATH.finditer(dom["visible_text"]):
            context = dom["visible_text"][
                max(0, match.start() - 40) : match.end() + 40
            ].replace("\n", " ")
            problems.append((page, f"raw TeX left in the text: ...{context}..."))
    assert not problems, "math not rendered:\n" + _report(problems)


def _alt_is_real(image):
    """myst-nb falls back to the file name as alt text; that tells a screen-reader user nothing."""
    alt = (image["alt"] or "").strip()
    return bool(alt) and alt != image["src_attr"] and not IMAGE_PATH.search(alt)


def test_every_image_loads_and_has_alt_text_or_a_caption(visits):
    problems = []
    for page, visit in visits.items():
        for image in visit.dom["images"]:
            name = image["src_attr"] or image["src"]
            if image["natural_width"] <= 0:
                problems.append((page, f"image does not load: {name}"))
            if not _alt_is_real(image) and not image["caption"]:
                problems.append(
                    (
                        page,
                        f"image without alt text or caption (give the cell `mystnb: image: alt:` "
                        f"and `figure: caption:` metadata): {name}",
                    )
                )
    assert not problems, "images:\n" + _report(problems)


def test_no_cell_shows_an_error(visits):
    problems = []
    for page, visit in visits.items():
        dom = visit.dom
        problems += [(page, f"error output: {text!r}") for text in dom["error_outputs"]]
        problems += [
            (page, f"traceback in an output: {text!r}")
            for text in dom["traceback_outputs"]
        ]
        problems += [
            (page, f"error on stderr: {text[:300]!r}")
            for text in dom["stderr_outputs"]
            if STDERR_ERROR.search(text)
        ]
    assert not problems, "cells that show errors:\n" + _report(problems)


def _chapter_pages(visits):
    return {
        page: visit for page, visit in visits.items() if page.startswith("chapters/")
    }


def test_launch_buttons_open_the_chapter_notebook_of_the_repo(visits):
    owner_name, branch, book_path = repository()
    chapters = _chapter_pages(visits)
    assert chapters, "no chapter pages were built"
    problems = []
    for page, visit in chapters.items():
        notebook = "/".join(filter(None, [book_path, page_docname(page) + ".ipynb"]))
        colab = f"https://colab.research.google.com/github/{owner_name}/blob/{branch}/{notebook}"
        if visit.dom["colab"] != [colab]:
            problems.append(
                (page, f"Colab button(s) {visit.dom['colab']}, expected [{colab}]")
            )
        binder_ok = False
        for url in visit.dom["binder"]:
            parsed = urlparse(url)
            binder_ok |= parsed.path == f"/v2/gh/{owner_name}/{branch}" and parse_qs(
                parsed.query
            ).get("urlpath") == [f"tree/{notebook}"]
        if not binder_ok:
            problems.append(
                (
                    page,
                    f"Binder button(s) {visit.dom['binder']} do not open {notebook} "
                    f"of {owner_name}@{branch}",
                )
            )
        twin = ROOT / notebook
        if not twin.exists():
            problems.append(
                (
                    page,
                    f"the buttons open {notebook}, which is not in the repo: run `make sync`",
                )
            )
        elif not tracked_by_git(twin):
            problems.append(
                (
                    page,
                    f"{notebook} is not committed: Colab and Binder would not find it",
                )
            )
    assert not problems, "launch buttons:\n" + _report(problems)


def _site_file(url, site_url, built_site):
    return (
        built_site / unquote(urlparse(url).path).lstrip("/")
        if _local(url, site_url)
        else None
    )


def test_download_buttons_give_the_chapter_source_and_notebook(
    built_site, site_url, visits
):
    problems = []
    for page, visit in _chapter_pages(visits).items():
        dom, stem = visit.dom, page_docname(page)
        if len(dom["download_source"]) != 1 or len(dom["download_notebook"]) != 1:
            problems.append(
                (
                    page,
                    f"expected one .md and one .ipynb download button, got "
                    f"{dom['download_source']} and {dom['download_notebook']}",
                )
            )
            continue
        source = _site_file(dom["download_source"][0], site_url, built_site)
        notebook = _site_file(dom["download_notebook"][0], site_url, built_site)
        if source is None or not source.is_file():
            problems.append(
                (
                    page,
                    f"the source download {dom['download_source'][0]} is not a file of the site",
                )
            )
        elif source.read_bytes() != (ROOT / f"{stem}.md").read_bytes():
            problems.append(
                (page, f"the source download {source.name} differs from {stem}.md")
            )
        if notebook is None or not notebook.is_file():
            problems.append(
                (
                    page,
                    f"the notebook download {dom['download_notebook'][0]} is not a file of the site",
                )
            )
        else:
            cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
            code_cells = sum(cell.get("cell_type") == "code" for cell in cells)
            expected = len(
                CODE_CELL.findall((ROOT / f"{stem}.md").read_text(encoding="utf-8"))
            )
            if code_cells != expected:
                problems.append(
                    (
                        page,
                        f"the notebook download {notebook.name} has {code_cells} code cells, "
                        f"{stem}.md has {expected}",
                    )
                )
        if dom["print_buttons"] != ["window.print()"]:
            problems.append(
                (page, f"no working 'Print to PDF' button: {dom['print_buttons']}")
            )
        if visit.pdf_error or visit.pdf_bytes < 10_000:
            problems.append(
                (
                    page,
                    f"printing to PDF failed: {visit.pdf_error or f'{visit.pdf_bytes} bytes'}",
                )
            )
    assert not problems, "download buttons:\n" + _report(problems)


def _page_of(url, site_url):
    path = urlparse(url).path
    return path[len(urlparse(site_url).path) :] if _local(url, site_url) else url


def test_previous_next_chain_reads_the_book_in_toc_order(site_url, visits):
    order = [f"{name}.html" for name in toc_docnames()]
    chain, page = [order[0]], order[0]
    while page in visits and visits[page].dom["next"] and len(chain) <= len(visits):
        page = _page_of(visits[page].dom["next"][0], site_url)
        chain.append(page)
    assert chain == order, (
        f"following 'next' from {order[0]} reads {chain}, expected the toc order {order}"
    )
    problems = []
    for before, after in zip(order, order[1:]):
        previous = [_page_of(url, site_url) for url in visits[after].dom["prev"]]
        if previous != [before]:
            problems.append(
                (after, f"'previous' goes to {previous}, expected {before}")
            )
    assert not problems, "previous links:\n" + _report(problems)


def test_sidebar_table_of_contents_reaches_every_chapter_from_every_page(
    site_url, visits
):
    wanted = {f"{name}.html" for name in toc_docnames()}
    problems = []
    for page, visit in visits.items():
        reached = {_page_of(url, site_url) for url in visit.dom["sidebar"]}
        missing = sorted(wanted - reached - {page})
        if missing:
            problems.append((page, f"the sidebar does not link {missing}"))
        stray = sorted(p for p in reached if p not in visits)
        if stray:
            problems.append(
                (page, f"the sidebar links pages that do not exist: {stray}")
            )
    assert not problems, "table of contents:\n" + _report(problems)


def test_screenshots_are_written_and_the_phone_layout_fits_the_screen(visits):
    problems = []
    for page, visit in visits.items():
        for width_name in ("desktop", "phone"):
            shot = SCREENSHOTS / _screenshot_name(page, width_name)
            if not shot.is_file() or shot.stat().st_size < 2_000:
                problems.append((page, f"no {width_name} screenshot at {shot}"))
        phone = visit.phone
        if phone["scroll_width"] > phone["inner_width"] + 1:
            problems.append(
                (
                    page,
                    f"on a phone the page scrolls sideways ({phone['scroll_width']} px wide for a "
                    f"{phone['inner_width']} px screen); too wide: {phone['offenders']}",
                )
            )
        if (
            phone["article_width"] < 0.85 * phone["inner_width"]
            or phone["article_left"] < 0
        ):
            problems.append(
                (
                    page,
                    f"on a phone the text column is {phone['article_width']:.0f} px wide at "
                    f"x={phone['article_left']:.0f} (screen {phone['inner_width']} px)",
                )
            )
        if phone["font_px"] is not None and phone["font_px"] < 14:
            problems.append(
                (
                    page,
                    f"on a phone the body text is {phone['font_px']} px: too small to read",
                )
            )
    assert not problems, "screenshots and phone layout:\n" + _report(problems)
