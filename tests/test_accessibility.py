"""Accessibility, checked in a real browser on both sites (the reader's and the students'):
tools/a11y_audit.py runs axe-core (the copy bundled by the pinned pip package axe-playwright-python, so no
npm) on every page at desktop and phone width, in light and dark mode, and writes `_build/a11y.json` (every
violation of any impact, by page, width, mode and rule). There must be no violation of impact "serious" or
"critical". Keyboard users must reach the launch, download and theme buttons and every dropdown toggle with
Tab and open a dropdown with Enter; screen readers get MathJax's assistive MathML."""

import json
import sys

import pytest
from conftest import ROOT, site_step

sys.path.insert(0, str(ROOT / "tools"))
import a11y_audit as a11y  # noqa: E402

pytestmark = pytest.mark.slow

REPORT = ROOT / "_build" / "a11y.json"


@pytest.fixture(scope="module")
def a11y_report(built_site, student_site):
    """tools/a11y_audit.py on both sites (a step of the site pipeline, see conftest)."""
    result = site_step("a11y")
    assert REPORT.is_file(), result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(REPORT.read_text())


def test_every_page_is_audited_in_both_widths_and_modes(
    a11y_report, built_site, student_site
):
    pages = len(a11y.pages_of(built_site)) + len(a11y.pages_of(student_site))
    assert a11y_report["pages_audited"] == len(a11y.VIEWPORTS) * len(a11y.MODES) * pages
    dark = [e for e in a11y_report["pages"] if e["mode"] == "dark"]
    assert dark and all(e["theme"] == "dark" for e in dark), "dark mode was not applied"
    assert {e["width"] for e in a11y_report["pages"]} == {"desktop", "phone"}


def test_no_serious_or_critical_violation(a11y_report):
    blocking = [
        (e["site"], e["page"], e["width"], e["mode"], v)
        for e in a11y_report["pages"]
        for v in e["violations"]
        if v["impact"] in a11y.BLOCKING
    ]
    assert not blocking, (
        f"{len(blocking)} serious/critical violations (all in {REPORT}):\n"
        + "\n".join(
            f"  {s}:{p} [{w}, {m}] {v['rule']} ({v['impact']}) at {v['targets']}: {v['fix'][:160]}"
            for s, p, w, m, v in blocking[:30]
        )
    )


def test_the_audit_finds_planted_violations(tmp_path):
    """The audit can fail: an unlabelled button, low-contrast text and the bibliography's invalid roles,
    and text faint in dark mode only (the page switched as the theme's button does it)."""
    (tmp_path / "bad.html").write_text(
        '<!doctype html><html lang="en"><head><title>t</title><style>'
        "html[data-theme=dark] #night{color:#333;background:#222}</style></head><body><main>"
        '<p id="night">only at night</p>'
        '<button><svg width="10" height="10"></svg></button>'
        '<p style="color:#bbb;background:#fff">faint text</p>'
        '<div role="list" class="citation-list"><div class="citation" role="doc-biblioentry">A.</div></div>'
        "</main></body></html>"
    )
    light, dark = a11y.audit_one("planted", str(tmp_path), "desktop")
    rules = {(v["rule"], v["impact"]) for v in light["violations"]}
    critical = {("button-name", "critical"), ("aria-required-children", "critical")}
    assert critical | {("color-contrast", "serious")} <= rules
    night = {t for v in dark["violations"] for t in v["targets"]} - {
        t for v in light["violations"] for t in v["targets"]
    }
    assert (dark["mode"], dark["theme"], night) == ("dark", "dark", {"#night"})


def test_code_contrast_is_audited_once_per_token_class_and_setting(tmp_path):
    """The audit drops repeated code tokens (same class, same setting) before axe runs; a faint token
    class that first appears late, and a token class repeated where other CSS makes it faint, are still
    found."""
    tokens = '<span class="n">ok</span> ' * 50
    (tmp_path / "code.html").write_text(
        '<!doctype html><html lang="en"><head><title>t</title><style>'
        "pre{background:#fff} .n{color:#000} .faint{color:#ccc} .hll .n{color:#ccc}"
        '</style></head><body><main><div class="cell_input"><div class="highlight"><pre>'
        f'{tokens}<span class="faint">late</span> <span class="hll"><span class="n">faint</span></span>'
        "</pre></div></div></main></body></html>"
    )
    entry, _ = a11y.audit_one("planted", str(tmp_path), "desktop")
    assert entry["code_token_repeats_dropped"] == 49
    (contrast,) = [v for v in entry["violations"] if v["rule"] == "color-contrast"]
    assert contrast["nodes"] == 2
    assert sorted(contrast["targets"]) == [".faint", ".hll > .n"]


# --- Keyboard and screen readers, on a chapter page of the reader's site ----------------------
FOCUSED_KEY_JS = "() => document.activeElement?.dataset.a11yKey || null"
TOGGLES = "article details > summary, article button.toggle-button"


@pytest.fixture(scope="module")
def chapter_page(built_site):
    with (
        a11y.served(built_site) as url,
        a11y.browser(*a11y.VIEWPORTS["desktop"], "light") as context,
    ):
        page = a11y.open_page(context, url + "chapters/01_logsumexp.html")
        yield page
        page.close()


def test_tab_reaches_the_buttons_and_every_dropdown_toggle(chapter_page):
    page = chapter_page
    # Label every element a keyboard user must reach, then Tab through the page and see which got focus.
    wanted = page.evaluate("""() => {
      const groups = {
        launch: document.querySelectorAll('.dropdown-launch-buttons > button'),
        download: document.querySelectorAll('.dropdown-download-buttons > button'),
        theme: document.querySelectorAll('.theme-switch-button'),
        dropdown: document.querySelectorAll('article details > summary, article button.toggle-button'),
      };
      const keys = [];
      for (const [name, nodes] of Object.entries(groups)) {
        Array.from(nodes).filter(n => n.offsetParent !== null || n.getClientRects().length)
          .forEach((n, i) => { n.dataset.a11yKey = name + i; keys.push(name + i); });
      }
      return keys;
    }""")
    for group in ("dropdown", "launch", "download", "theme"):
        assert any(k.startswith(group) for k in wanted), f"no visible {group} found"
    page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
    reached = set()
    for _ in range(600):
        page.keyboard.press("Tab")
        if key := page.evaluate(FOCUSED_KEY_JS):
            reached.add(key)
        if reached >= set(wanted):
            break
    missing = sorted(set(wanted) - reached)
    assert not missing, f"Tab never reaches: {missing}"


def test_enter_opens_a_solution_or_proof_dropdown(chapter_page):
    page = chapter_page
    toggle = page.locator(TOGGLES).first
    toggle.focus()
    is_open = """(el) => el.tagName === 'SUMMARY' ? el.parentElement.open
                 : !el.closest('.admonition, .toggle, div').classList.contains('toggle-hidden')
                   && el.getAttribute('aria-expanded') !== 'false'"""
    before = toggle.evaluate(is_open)
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    after = toggle.evaluate(is_open)
    assert before is False and after is True, (before, after)


def test_math_carries_assistive_mathml(chapter_page):
    counts = chapter_page.evaluate("""() => ({
      containers: document.querySelectorAll('mjx-container').length,
      assistive: document.querySelectorAll('mjx-container mjx-assistive-mml math').length})""")
    assert counts["containers"] > 20
    assert counts["assistive"] == counts["containers"], counts
