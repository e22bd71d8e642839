"""Nothing typed that can be computed: every number in a chapter's prose is glued, or is a literal of the
problem statement (or a plain count the prose itself defines) listed in tests/prose_numbers/<chapter>.txt.

"Prose" is what a reader reads outside code and math: code cells, fenced blocks, $...$ and $$...$$ math,
inline code, MyST roles ({glue:text}`...`, {cite:p}`...`, {ref}`...`), link targets, directive options,
labels and comments are removed first. Names with digits in them (CIFAR-10, float64, Conv2d, VGG-11) are
not numbers; "Chapter 2" and "problem 4" name places, not quantities."""

import re
from pathlib import Path

import pytest
from conftest import CHAPTER_STEMS, CHAPTERS

ALLOWED = Path(__file__).resolve().parent / "prose_numbers"

DIRECTIVE_START = re.compile(r"^(`{3,}|:{3,})\{([\w:-]+)\}(.*)$")
FENCE = re.compile(r"^(`{3,})(\w*)\s*$")
STRIPPED_DIRECTIVES = {"code-cell", "math", "code", "code-block", "glue:figure", "glue:math",
                       "raw", "figure"}  # fmt: skip
DISPLAY_MATH = re.compile(r"\$\$.*?\$\$(\s*\([\w:-]+\))?", re.S)
# may wrap, not across paragraphs
INLINE_MATH = re.compile(r"(?<!\\)\$(?:(?!\n\s*\n)[^$])+?(?<!\\)\$")
AMSMATH = re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S)
ROLE = re.compile(r"\{[\w:-]+\}`[^`]*`")
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
URL = re.compile(r"https?://\S+")
OPTION_LINE = re.compile(r"^\s*:[\w-]+:.*$", re.M)
LABEL_LINE = re.compile(r"^\([\w:-]+\)=\s*$", re.M)
COMMENT = re.compile(r"<!--.*?-->|^%.*$", re.S | re.M)
NUMBER = re.compile(r"(?<![\w.\-])(?<!\w-)\d+(?:[.,]\d+)*(?:e[-+]?\d+)?(?![\w])")
# A question's points: tools/make_autograder.py checks them (hidden-test file, questions.yml).
QUESTION_POINTS = re.compile(r"\((?:autograded|written), \d+(?:\.\d+)? points?[,)]")
PLACE_NAMES = re.compile(
    r"\b(?:[Cc]hapters?|[Pp]roblems?|[Ss]ections?|[Ee]xercises?|[Tt]heorems?|[Ee]quations?|"
    r"[Ll]emmas?|[Ff]igures?|[Ll]ines?)\s+(?:\d+(?:\.\d+)?(?:\s*(?:,|and|or|to|–)\s*)?)+"
)


def prose(markdown: str) -> str:
    """The chapter's text as a reader reads it, without code, math, roles, links or markup."""
    markdown = re.sub(r"\A---\n.*?\n---\n", "", markdown, flags=re.S)
    kept, lines, i = [], markdown.split("\n"), 0
    while i < len(lines):
        start = DIRECTIVE_START.match(lines[i]) or FENCE.match(lines[i])
        if start:
            fence, name = start.group(1), start.group(2)
            end = next(
                (j for j in range(i + 1, len(lines)) if lines[j].strip() == fence),
                len(lines) - 1,
            )
            if name not in STRIPPED_DIRECTIVES and name.strip():
                # a prose directive (theorem, proof, exercise, note): its title and body, no fences
                kept.append(start.group(3) if start.re is DIRECTIVE_START else "")
                kept.extend(lines[i + 1 : end])
            i = end + 1
        else:
            kept.append(lines[i])
            i += 1
    text = "\n".join(kept)
    for pattern in (COMMENT, DISPLAY_MATH, AMSMATH, INLINE_MATH, ROLE, INLINE_CODE, LINK_TARGET,
                    URL, OPTION_LINE, LABEL_LINE, QUESTION_POINTS, PLACE_NAMES):  # fmt: skip
        text = pattern.sub(" ", text)
    return text


def allowed_literals(stem):
    """The chapter's allow-list: one literal a line, then `#` and why it may be typed."""
    path = ALLOWED / f"{stem}.txt"
    literals = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                literal, _, reason = line.partition("#")
                assert reason.strip(), f"{path}: '{line}' needs a '# reason'"
                literals[literal.strip()] = reason.strip()
    return literals


def typed_numbers(stem):
    text = prose((CHAPTERS / f"{stem}.md").read_text())
    return [
        (m.group(), text[max(0, m.start() - 50) : m.end() + 30].replace("\n", " "))
        for m in NUMBER.finditer(text)
    ]


@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_every_number_in_the_prose_is_glued_or_allowed(stem):
    allowed = allowed_literals(stem)
    offending = [(n, context) for n, context in typed_numbers(stem) if n not in allowed]
    assert not offending, (
        f"{stem}: typed numbers in the prose (glue them, or list a literal of the problem "
        f"statement in tests/prose_numbers/{stem}.txt):\n"
        + "\n".join(f"  {n!r} in …{c}…" for n, c in offending)
    )


@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_allow_list_has_no_stale_entries(stem):
    used = {number for number, _ in typed_numbers(stem)}
    stale = sorted(set(allowed_literals(stem)) - used)
    assert not stale, (
        f"tests/prose_numbers/{stem}.txt lists literals the prose no longer has: {stale}"
    )


def test_the_detector_finds_typed_numbers_and_skips_code_math_and_names():
    sample = """---
jupytext: {}
---
(ch9)=
# A title

The copy needs 1.36 GB and runs 2.5× faster on CIFAR-10 in float64 with Conv2d, see Chapter 2.
**Question `q9_x` (autograded, 3 points).** Worth 4 more.
Inline math $x^2 + 3$ and a role {glue:text}`ch9_value:.3f` and code `n = 7` are not prose.

$$
y = 42
$$ (eq-label)

```{code-cell} ipython3
z = 99
```

```{prf:theorem} A claim with 5 words
:label: ch9-thm

Exactly 17 things.
```
"""
    numbers = [m.group() for m in NUMBER.finditer(prose(sample))]
    assert numbers == ["1.36", "2.5", "4", "5", "17"]


def test_every_glued_value_is_shown_or_tested():
    """A glued value that neither the page shows nor a test reads checks nothing (ch1_limit_ordered)."""
    tests = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    unused = {}
    for stem in CHAPTER_STEMS:
        source = (CHAPTERS / f"{stem}.md").read_text()
        glued = set(re.findall(r"""\bglue\(\s*["'](\w+)["']""", source))
        shown = set(re.findall(r"\{glue(?::\w+)?\}`(\w+)", source))
        shown |= set(re.findall(r"\{glue:\w+\}\s+(\w+)", source))
        missing = sorted(name for name in glued - shown if f'"{name}"' not in tests)
        if missing:
            unused[stem] = missing
    assert not unused, (
        f"glued but never shown on the page (show them in the prose, assert them in a test, or stop gluing): {unused}"
    )
