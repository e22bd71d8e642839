"""Rebuild when a file under html_extra_path changes, so the site gets the new copy.

Sphinx copies html_extra_path (our local MathJax, vendor/) only at the end of a build that has something
to write; when no document is out of date it stops at "no targets are out of date" and the site keeps the
old files. A new MathJax (requirements.txt changed, `make mathjax` re-copied vendor/) would then never
reach _build/html without `make clean`. This extension records a signature of the extra files in the
environment and marks the root document outdated when it changes, so the build runs and copies them.
"""

import hashlib
import os


def _signature(app):
    digest = hashlib.sha256()
    for extra in app.config.html_extra_path:
        top = os.path.join(app.confdir, extra)
        for root, dirs, files in os.walk(top, followlinks=True):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(root, name)
                info = os.stat(path)
                digest.update(
                    f"{os.path.relpath(path, top)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode()
                )
    return digest.hexdigest()


def _outdated_when_extra_files_change(app, env, added, changed, removed):
    signature = _signature(app)
    if getattr(env, "extra_files_signature", None) == signature:
        return []
    env.extra_files_signature = signature
    return [app.config.root_doc]


def setup(app):
    app.connect("env-get-outdated", _outdated_when_extra_files_change)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
