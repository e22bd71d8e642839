"""The reader's edition shows answers without the homework edition's markers.

A solution region in a chapter's code is `# TODO: ...` (what the student implements), `### BEGIN SOLUTION`,
the answer, `### END SOLUTION` (tools/make_student.py turns it into a stub). Those lines are for the tools,
not for a reader: this extension removes them from the code cells of the HTML and PDF pages."""

import re

from docutils import nodes

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"


def without_markers(code: str) -> str:
    """The code without the marker lines and the `# TODO:` comment block right above each BEGIN."""
    lines = code.split("\n")
    drop = set()
    for index, line in enumerate(lines):
        if line.strip() in (BEGIN, END):
            drop.add(index)
        if line.strip() != BEGIN:
            continue
        indent = line[: len(line) - len(line.lstrip())]
        above = index - 1
        block = []
        while above >= 0 and lines[above].startswith(indent + "#"):
            block.insert(0, above)
            above -= 1
        todo = [i for i in block if re.match(r"#\s*TODO\b", lines[i].strip(), re.I)]
        if todo:
            drop.update(i for i in block if i >= todo[0])
    return "\n".join(line for i, line in enumerate(lines) if i not in drop)


def strip_markers(app, doctree):
    for block in doctree.findall(nodes.literal_block):
        text = block.astext()
        if BEGIN not in text:
            continue
        new = without_markers(text)
        block.children = [nodes.Text(new)]
        block.rawsource = new


def setup(app):
    app.connect("doctree-read", strip_markers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
