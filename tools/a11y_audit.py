"""Audit built sites with axe-core in headless Chromium: every page, at desktop and phone width, light and dark.

    python tools/a11y_audit.py reader=_build/html student=_build/student/html --out _build/a11y.json

axe-core is the copy bundled by the pinned pip package axe-playwright-python (no npm). Chromium is Debian's
/usr/bin/chromium, driven by Playwright; a host-resolver rule stops it from reaching any host but the local
server. Each (site, width) runs in its own process, `--jobs` at a time; each page is loaded once, audited in
light mode, switched to dark mode the way the theme's own button does it and audited again (axe's
colour-contrast rule dominates and is single-threaded per page; repeated code tokens are dropped first, see
AUDIT_JS). The report lists, for every page view, the violations of every impact: rule, impact, how many
elements, the first few selectors and the fix axe suggests for the first one. Exit status 1 when a violation
is "serious" or "critical".
"""

import argparse
import collections
import concurrent.futures
import functools
import http.server
import importlib.util
import json
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = """--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync""".split()
# Any host but the local server resolves to nothing (cheaper than routing every request through Python).
CHROMIUM_ARGS.append("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
VIEWPORTS = {
    "desktop": ({"width": 1280, "height": 900}, False),
    "phone": ({"width": 390, "height": 844}, True),
}
MODES = ("light", "dark")
BLOCKING = {"serious", "critical"}
NOT_PAGES = set(
    "_static _sources _images _downloads mathjax reports jupyter_execute pdf".split()
)

# Pygments colours a code token by its class alone, and a chapter page has ~12,000 token spans: auditing
# each costs ~15 s of axe's colour-contrast rule per page view. So before the audit the page keeps the
# first token of each class in each setting (its parent's class, the code block's container, e.g. a cell's
# input or output, a highlighted line) and drops the repeats, whose colours and backgrounds are the same.
AUDIT_JS = """async () => {
  const seen = new Set();
  let repeats = 0;
  for (const span of document.querySelectorAll('div.highlight pre span')) {
    if (span.children.length) continue;  // a highlighted line wraps tokens: keep it
    const block = span.closest('div.highlight');
    const key = [span.className, span.parentElement.className,
                 block.parentElement.className].join('|');
    if (seen.has(key)) { span.remove(); repeats++; } else { seen.add(key); }
  }
  const result = await axe.run(document, {resultTypes: ['violations']});
  return {theme: document.documentElement.dataset.theme || null, code_token_repeats_dropped: repeats,
          violations: result.violations.map(v => ({
            rule: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
            targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
            fix: (v.nodes[0] && v.nodes[0].failureSummary || '').slice(0, 300)}))};
}"""
# The theme's dark-mode switch (pydata-sphinx-theme's setTheme: both data attributes and localStorage),
# then wait until its colour transitions have finished.
DARK_JS = """async () => {
  for (const key of ['mode', 'theme']) {
    localStorage.setItem(key, 'dark');
    document.documentElement.dataset[key] = 'dark';
  }
  await Promise.all(document.getAnimations().map(a => a.finished));
}"""


def axe_source():
    spec = importlib.util.find_spec("axe_playwright_python")
    if not (spec and spec.origin):
        raise SystemExit(
            "a11y_audit: axe-playwright-python is missing (it is pinned in requirements.txt)"
        )
    return (Path(spec.origin).parent / "axe.min.js").read_text(encoding="utf-8")


def pages_of(site: Path):
    """Every page of a built site (not its assets, not the root index.html, which only redirects)."""
    paths = (p.relative_to(site) for p in sorted(site.rglob("*.html")))
    return [p.as_posix() for p in paths if p.parts[0] not in NOT_PAGES | {"index.html"}]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def served(site):
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def browser(viewport, mobile, mode):
    """A Chromium context at that size, in that colour mode, that may fetch nothing but the local site."""
    if not CHROMIUM.exists():
        raise SystemExit(
            f"{CHROMIUM} is missing: `apt-get install -y chromium chromium-driver` (.ci/run does it)"
        )
    from playwright.sync_api import sync_playwright

    with (
        sync_playwright() as playwright,
        tempfile.TemporaryDirectory(prefix="chromium-a11y-") as profile,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=viewport,
            is_mobile=mobile,
            has_touch=mobile,
            device_scale_factor=1,
            color_scheme="dark" if mode == "dark" else "light",
        )
        # The theme keeps the reader's choice in localStorage; set it before any page script runs.
        context.add_init_script(
            f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');"
        )
        try:
            yield context
        finally:
            context.close()


def open_page(context, url):
    page = context.new_page()
    page.goto(url, wait_until="load", timeout=120_000)
    page.evaluate(
        "async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }"
    )
    return page


def audit_one(site_name, site, width, pages=None):
    """[{site, page, width, mode, theme, violations}] for the pages of one site at one width, each
    page audited in light and then in dark mode."""
    axe = axe_source()
    viewport, mobile = VIEWPORTS[width]
    entries = []
    with served(site) as url, browser(viewport, mobile, "light") as context:
        for page_path in pages or pages_of(Path(site)):
            page = open_page(context, url + page_path)
            page.add_script_tag(content=axe)
            for mode in MODES:
                if mode == "dark":
                    page.emulate_media(color_scheme="dark")
                    page.evaluate(DARK_JS)
                found = page.evaluate(AUDIT_JS)
                entry = dict(site=site_name, page=page_path, width=width, mode=mode)
                entries.append({**entry, **found})
            page.close()
    return entries


def audit(sites, jobs=2):
    """The full report for {name: site folder}: every page in every width and mode."""
    runs = [(n, str(s), w) for n, s in sites.items() for w in VIEWPORTS]
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(audit_one, *zip(*runs)))
    entries = [entry for result in results for entry in result]
    totals = collections.Counter(
        (v["rule"], v["impact"]) for e in entries for v in e["violations"]
    )
    return {
        "axe_core": axe_source().split("\n", 1)[0].strip("/*! "),
        "pages_audited": len(entries),
        "totals": [
            {"rule": rule, "impact": impact, "page_views": count}
            for (rule, impact), count in sorted(totals.items())
        ],
        "blocking": sum(n for (_, impact), n in totals.items() if impact in BLOCKING),
        "pages": entries,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("sites", nargs="+", help="name=folder of a built site, e.g. reader=_build/html")
    add("--out", type=Path, default=Path("_build/a11y.json"))
    add("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    sites = dict(item.split("=", 1) for item in args.sites)
    report = audit(sites, jobs=args.jobs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    for t in report["totals"]:
        print(f"{t['rule']:32} {t['impact']:9} {t['page_views']} page views")
    print(
        f"{report['pages_audited']} page views audited, {report['blocking']} serious/critical violations: {args.out}"
    )
    sys.exit(1 if report["blocking"] else 0)


if __name__ == "__main__":
    main()
