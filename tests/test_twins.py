"""The .ipynb twins that Colab and Binder open are generated from the .md sources and must not drift."""

import subprocess
import sys

import nbformat
import pytest
from conftest import CHAPTER_STEMS, CHAPTERS, ROOT


def test_every_chapter_has_a_twin_and_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    assert len(CHAPTER_STEMS) == 5
    for stem in CHAPTER_STEMS:
        assert (CHAPTERS / f"{stem}.ipynb").exists(), (
            f"{stem}.ipynb missing: run `make sync`"
        )
        assert f"chapters/{stem}" in toc, f"{stem} is not in _toc.yml"


def test_twins_match_their_sources():
    result = subprocess.run(
        [sys.executable, "tools/sync_twins.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_twin_has_no_outputs_and_no_repo_imports(stem):
    notebook = nbformat.read(CHAPTERS / f"{stem}.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    for cell in code:
        for line in cell.source.splitlines():
            assert not line.lstrip().startswith(
                ("from tools", "import tools", "from tests", "import tests")
            ), line
            assert "../" not in line or "http" in line, (
                f"{stem}: a path outside the notebook's folder: {line}"
            )


def test_drift_is_detected(tmp_path, monkeypatch):
    """The check itself must fail when a twin differs (a check that cannot fail is no check)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "sync_twins", ROOT / "tools" / "sync_twins.py"
    )
    sync = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sync)
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    source = CHAPTERS / f"{CHAPTER_STEMS[0]}.md"
    (chapters / source.name).write_text(source.read_text())
    (chapters / f"{source.stem}.ipynb").write_text(
        sync.twin_text(source).replace("nu(", "nu_edited(", 1)
    )
    monkeypatch.setattr(sync, "ROOT", tmp_path)
    monkeypatch.setattr(sync, "CHAPTERS", chapters)
    monkeypatch.setattr(sys, "argv", ["sync_twins.py", "--check"])
    assert sync.main() == 1
    monkeypatch.setattr(sys, "argv", ["sync_twins.py"])
    assert sync.main() == 0
    monkeypatch.setattr(sys, "argv", ["sync_twins.py", "--check"])
    assert sync.main() == 0
