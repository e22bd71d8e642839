"""Write the .ipynb twin (no outputs) of every chapter .md, or with --check report twins that drifted.

Colab and Binder open notebooks, not MyST Markdown, so each chapters/NN_name.md has a
chapters/NN_name.ipynb generated from it. The .md is the only source that is edited.

A notebook must run alone (Colab has no copy of this repository), so every generated notebook, twin or
student edition, starts with a hidden cell that writes the book's helper module `dlbook` next to it
(`helper_cell`): the chapter's own `from dlbook import ...` then finds it. And a question's one-line
self-check, `self_check("<question>")`, which in the book reads the question's public cases from
grading/<stem>/tests/<question>.py, becomes a hidden cell holding those cases (`inlined_check`).
"""

import argparse
import ast
import sys
import tomllib
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
HELPER = ROOT / "dlbook" / "__init__.py"
LINE_LENGTH = tomllib.loads((ROOT / "ruff.toml").read_text())["line-length"]
sys.path.insert(0, str(ROOT))
from dlbook import _public_case_nodes  # noqa: E402


def helper_cell():
    """A hidden code cell that writes dlbook/__init__.py, unchanged, to dlbook.py next to the notebook.

    Hidden in Jupyter (source_hidden, hide-input) and in Colab (a form with a title)."""
    source = HELPER.read_text(encoding="utf-8")
    if "'''" in source or source.endswith("\\"):
        raise ValueError(
            f"{HELPER}: must not contain ''' (it is inlined in a r'''...''' string)"
        )
    cell = nbformat.v4.new_code_cell(
        "# @title The book's helper module, dlbook (the book's appendix shows it)\n"
        "from pathlib import Path\n\n"
        f"Path(\"dlbook.py\").write_text(\n    r'''{source}''',\n    encoding=\"utf-8\",\n)"
    )
    cell.metadata = {
        "cellView": "form",
        "jupyter": {"source_hidden": True},
        "tags": ["hide-input"],
    }
    return cell


def inlined_check(question, imported=False):
    """A self-check cell's source in a generated notebook: the question's public cases, copied
    from its file without their decorator (never a hidden case), then the call that runs them."""
    path, cases = _public_case_nodes(question)
    source = path.read_text(encoding="utf-8")
    arguments = [f'"{question}"', *(node.name for node in cases)]
    call = f"self_check({', '.join(arguments)})"  # imported by the setup cell
    if len(call) > LINE_LENGTH:  # as ruff formats it
        inner = "    " + ", ".join(arguments)
        if len(inner) > LINE_LENGTH:
            inner = ",\n".join("    " + a for a in arguments) + ","
        call = f"self_check(\n{inner}\n)"
    code = [ast.get_source_segment(source, node) for node in cases]
    title = f"# @title Self-check: {question}'s public cases"
    if not imported and any("dlbook." in text for text in code):  # the cases use it
        title += "\nimport dlbook"
    return "\n\n\n".join([title, *code, call])


def with_helper(notebook):
    """The notebook, changed in place and returned, to run alone: helper_cell() first, and each
    cell marked `check` holding its question's public cases (inlined_check), hidden. A cell marked
    `timing` (it only times or draws) or `derivation` (the book checks its own claim) gets otter's
    `otter_ignore` tag, as the source gives it to demonstrations: grading skips them, unless an answer
    needs what they define (tools/grade.py, run_what_answers_need)."""
    imported = False
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        skip = cell.metadata.get("timing") or "derivation" in cell.metadata
        if skip and "otter_ignore" not in tags:
            cell.metadata["tags"] = tags + ["otter_ignore"]
        if "check" in cell.metadata:  # `import dlbook` in the first cell that needs it
            cell.source = inlined_check(cell.metadata["check"], imported)
            imported = imported or "import dlbook" in cell.source
            cell.metadata["cellView"] = "form"
            cell.metadata["jupyter"] = {"source_hidden": True}
    notebook.cells.insert(0, helper_cell())
    return notebook


def ipynb_text(notebook) -> str:
    """The .ipynb text of a generated notebook (changed in place): with_helper, no jupytext
    metadata (Colab has none), numbered cell ids (jupytext's are random)."""
    notebook.metadata.pop("jupytext", None)
    with_helper(notebook)
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index:03d}"
    return jupytext.writes(notebook, fmt="ipynb")


def twin_text(md_path: Path) -> str:
    return ipynb_text(jupytext.read(md_path))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    help = "exit 1 if any twin is missing or differs"
    parser.add_argument("--check", action="store_true", help=help)
    args = parser.parse_args()
    drifted = []
    for md_path in sorted(CHAPTERS.glob("*.md")):
        twin = md_path.with_suffix(".ipynb")
        expected = twin_text(md_path)
        if twin.exists() and twin.read_text(encoding="utf-8") == expected:
            continue
        if args.check:
            drifted.append(twin.relative_to(ROOT))
        else:
            twin.write_text(expected, encoding="utf-8")
            print(f"wrote {twin.relative_to(ROOT)}")
    if drifted:
        print(
            "These .ipynb twins differ from their .md source; run `make sync`:",
            *(f"  {path}" for path in drifted),
            sep="\n",
            file=sys.stderr,
        )
    return 1 if drifted else 0


if __name__ == "__main__":
    sys.exit(main())
