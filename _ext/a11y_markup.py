"""Valid ARIA for the bibliography, found by the axe-core audit (tests/test_accessibility.py).

Docutils writes the citation list as `<div role="list">` whose children carry `role="doc-biblioentry"`:
a list must own list items ("aria-required-children", critical), and DPUB-ARIA deprecates doc-biblioentry.
Each entry becomes a `listitem`, which is what screen readers announce for a bibliography anyway.
"""

import re

BIBLIOENTRY = re.compile(r'(<div class="citation"[^>]*?) role="doc-biblioentry"')


def _citation_entries_as_list_items(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body and "doc-biblioentry" in body:
        context["body"] = BIBLIOENTRY.sub(r'\1 role="listitem"', body)


def setup(app):
    app.connect("html-page-context", _citation_entries_as_list_items)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
