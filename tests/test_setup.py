"""Set-up needs only Python and make: MathJax comes from pip (no npm or Node.js), old Pythons get a clear stop."""

import filecmp
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run

NODE_TOOLS = {"node", "nodejs", "npm", "npx", "corepack", "yarn", "pnpm"}


def path_without_node(tmp_path):
    """A PATH with every program of the current PATH except Node.js and its package managers."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for folder in filter(os.path.isdir, os.environ["PATH"].split(os.pathsep)):
        for entry in os.scandir(folder):
            target = bin_dir / entry.name
            if entry.name in NODE_TOOLS or target.exists():
                continue
            if os.access(entry.path, os.X_OK):
                target.symlink_to(entry.path)
    return str(bin_dir)


def make(*args, env=None):
    return run(
        ["make", "--no-print-directory", "-C", str(ROOT), *args], env=env, timeout=600
    )


def test_mathjax_step_needs_no_npm_or_node(tmp_path):
    vendor, path = tmp_path / "vendor", path_without_node(tmp_path)
    assert all(shutil.which(tool, path=path) is None for tool in NODE_TOOLS)
    assert shutil.which("make", path=path) and shutil.which("cp", path=path)
    env = {**os.environ, "PATH": path}
    result = make("mathjax", f"VENDOR={vendor}", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "command not found" not in result.stdout + result.stderr
    copied = vendor / "mathjax" / "tex-chtml.js"
    assert '"3.2.2"' in copied.read_text(errors="replace")  # raises if it is missing
    # exactly the pinned package's es5 build, every file of it
    probe = "import importlib.util; print(importlib.util.find_spec('mathjax').origin)"
    python = str(ROOT / ".venv" / "bin" / "python")
    origin = run([python, "-c", probe], check=True).stdout
    es5 = Path(origin.strip()).parent / "static" / "mathjax" / "es5"
    comparison = filecmp.dircmp(es5, vendor / "mathjax")
    assert not (comparison.left_only or comparison.right_only or comparison.diff_files)
    for part in ("input/tex/extensions/ams.js", "output/chtml/fonts/tex.js",
                 "a11y/assistive-mml.js"):  # fmt: skip
        assert (vendor / "mathjax" / part).is_file(), f"{part} is missing from the copy"
    assert list((vendor / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))
    # a second run does nothing: make sees the copy as up to date
    assert make("-q", "mathjax", f"VENDOR={vendor}", env=env).returncode == 0


def fake_python(tmp_path, version):
    """A stand-in interpreter that says it is `version` and fails the version check the way that Python would."""
    script = tmp_path / "python-old"
    major, minor = map(int, version.split(".")[:2])
    script.write_text(f"""#!{sys.executable}
import sys
if sys.argv[1:] == ["--version"]:
    print("Python {version}")
    sys.exit(0)
sys.version_info = ({major}, {minor}, 0, "final", 0)
code = sys.argv[sys.argv.index("-c") + 1]
exec(compile(code, "<make>", "exec"))
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


@pytest.mark.parametrize("version", ["3.10.12", "3.9.18", "3.11.7", "3.13.0"])
def test_python_version_gate(tmp_path, version):
    python = fake_python(tmp_path, version)
    result = make("python-check", f"PYTHON={python}")
    if tuple(map(int, version.split("."))) >= (3, 11):
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0
        wanted = f"this book needs Python 3.11 or newer; '{python}' is Python {version}"
        assert wanted in result.stderr
        assert "make PYTHON=python3.12" in result.stderr


def test_old_python_makes_no_venv(tmp_path):
    python, venv = fake_python(tmp_path, "3.10.12"), tmp_path / "venv"
    result = make("book", f"PYTHON={python}", f"VENV={venv}")
    assert result.returncode != 0
    assert "this book needs Python 3.11 or newer" in result.stderr
    assert not venv.exists(), "no venv is made with a Python that is too old"


def test_missing_python_is_named(tmp_path):
    python, venv = tmp_path / "no-such-python", tmp_path / "venv"
    result = make("venv", f"PYTHON={python}", f"VENV={venv}")
    assert result.returncode != 0
    assert "not found. Install Python 3.11 or newer" in result.stderr
