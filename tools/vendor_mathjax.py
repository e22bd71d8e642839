"""Copy MathJax's es5 build from the pinned pip package into the folder the site serves it from.

The wheel django-static-mathjax (pinned in requirements.txt) ships MathJax's es5 build under
mathjax/static/mathjax/es5; Django is not needed to use those files. Getting MathJax from pip means the
set-up needs nothing but Python (no npm, no Node.js).

    python tools/vendor_mathjax.py vendor/mathjax
"""

import argparse
import importlib.util
import re
import shutil
import sys
from pathlib import Path

EXPECTED_VERSION = "3.2.2"
PACKAGE = "django-static-mathjax"


def installed_es5() -> Path:
    """The es5 folder of the installed package, or SystemExit saying how to install it."""
    origin = (spec := importlib.util.find_spec("mathjax")) and spec.origin
    es5 = Path(origin).parent / "static" / "mathjax" / "es5" if origin else None
    if es5 is None or not (es5 / "tex-chtml.js").is_file():
        raise SystemExit(
            f"vendor_mathjax: MathJax's es5 build was not found in this Python ({sys.executable}). "
            f"Install the pinned requirements (`make venv`, or pip install -r requirements.txt, "
            f"which includes {PACKAGE})."
        )
    return es5


def mathjax_version(tex_chtml: Path) -> str:
    """The version MathJax's loader checks components against (the first version string in the file)."""
    text = tex_chtml.read_text(encoding="utf-8", errors="replace")
    match = re.search(r'"(3\.\d+\.\d+)"', text)
    return match.group(1) if match else "unknown"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "target", type=Path, help="folder to (re)create, e.g. vendor/mathjax"
    )
    target = parser.parse_args(argv).target
    source = installed_es5()
    version = mathjax_version(source / "tex-chtml.js")
    if version != EXPECTED_VERSION:
        raise SystemExit(
            f"vendor_mathjax: {PACKAGE} ships MathJax {version}, expected {EXPECTED_VERSION}; "
            "reinstall the pinned requirements."
        )
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    # shutil.copy, not copy2: fresh mtimes, so make sees the copy up to date
    shutil.copytree(source, staging, copy_function=shutil.copy)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    files = sum(1 for p in target.rglob("*") if p.is_file())
    print(f"MathJax {version} ({files} files) copied from {source} to {target}")


if __name__ == "__main__":
    main()
