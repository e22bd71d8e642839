"""The .ipynb twins that Colab and Binder open are generated from the .md sources, must not drift, and
run alone: chapter 1's twin (the cheapest) runs to the end in an empty folder with only pip packages."""

import importlib.util
import sys

import nbformat
from conftest import ALONE, CHAPTER_STEMS, CHAPTERS, ROOT, run, toc_files
from test_student_edition import make_student, sync_twins


def test_every_chapter_is_in_the_toc_in_order():
    assert len(CHAPTER_STEMS) == 5
    in_toc = [name for name in toc_files() if name.startswith("chapters/")]
    assert in_toc == [f"chapters/{stem}" for stem in CHAPTER_STEMS]


def test_twins_match_their_sources():
    result = run([sys.executable, "tools/sync_twins.py", "--check"])
    assert result.returncode == 0, result.stderr


def test_a_twin_runs_alone_to_the_end(twin_alone):
    """Chapter 1's twin, alone in an empty folder: every cell runs (a failing self-check would raise),
    it writes only the helper module its first cell inlines, and it imports nothing from the repo."""
    written = sorted(p.name for p in twin_alone.workdir.iterdir())
    assert written == [f"{ALONE}.ipynb", "dlbook.py"]
    module = (ROOT / "dlbook" / "__init__.py").read_text()
    assert (twin_alone.workdir / "dlbook.py").read_text() == module


def test_twins_import_only_pip_packages_and_their_inlined_helper():
    """Every module a twin imports is installed from pip (or the standard library), never a folder of
    this repository; the one exception is `dlbook`, which the twin's first cell writes next to it."""
    from_repo = {}
    for stem in CHAPTER_STEMS:
        cells = nbformat.read(CHAPTERS / f"{stem}.ipynb", as_version=4).cells
        code = [cell.source for cell in cells if cell.cell_type == "code"]
        for module in make_student.imported_modules(code) - {"dlbook"}:
            spec = importlib.util.find_spec(module)
            places = [getattr(spec, "origin", None)]
            places += list(getattr(spec, "submodule_search_locations", None) or [])
            origin = " ".join(str(place) for place in places if place)
            in_repo = origin.startswith(str(ROOT)) and ".venv" not in origin
            if spec is None or in_repo:
                from_repo.setdefault(stem, set()).add(module)
    assert not from_repo, f"twins import modules that pip does not install: {from_repo}"


def test_drift_is_detected(tmp_path, monkeypatch):
    """The check itself must fail when a twin differs (a check that cannot fail is no check);
    a twin with outputs differs too: the twin text sync_twins writes has none."""
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    source = CHAPTERS / f"{CHAPTER_STEMS[0]}.md"
    (chapters / source.name).write_text(source.read_text())
    (chapters / f"{source.stem}.ipynb").write_text(
        sync_twins.twin_text(source).replace("nu(", "nu_edited(", 1)
    )
    monkeypatch.setattr(sync_twins, "ROOT", tmp_path)
    monkeypatch.setattr(sync_twins, "CHAPTERS", chapters)
    for args, code in ((["--check"], 1), ([], 0), (["--check"], 0)):
        monkeypatch.setattr(sys, "argv", ["sync_twins.py", *args])
        assert sync_twins.main() == code, args
