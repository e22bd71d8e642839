"""Write each inline <script> once per page.

Sphinx 7.4 registers a script added by an extension after the builder started (sphinx-togglebutton's
selector, sphinx-thebe's `const THEBE_JS_URL = ...`) twice: once as filename None, and again in
`prepare_writing` as filename ''. The two copies do not compare equal, so every page gets both, and the
second `const` declaration throws "Identifier 'THEBE_JS_URL' has already been declared" in the browser
(tests/test_site_browser.py fails on it). This extension drops the repeated copies from each page.
"""


def _drop_repeated_inline_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        filename = getattr(script, "filename", script) or ""
        attributes = tuple(sorted((getattr(script, "attributes", None) or {}).items()))
        key = (filename, attributes)
        if key in seen:
            continue
        seen.add(key)
        unique.append(script)
    scripts[:] = unique


def setup(app):
    app.connect("html-page-context", _drop_repeated_inline_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
