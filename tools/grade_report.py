"""The class report, <stem>/report.html, that tools/grade.py writes from the merged gradebook."""

import base64
import io
import re
from collections import Counter
from html import escape
from statistics import mean, median

from matplotlib.figure import Figure  # savefig: a PNG drawn by Agg (no pyplot)

Q = re.compile(r"\(`(\w+)`\)\n")  # a question's part of a feedback text: its name
FAIL = re.compile(r"^- `(.*)`$", re.M)  # a failing test's message
TIME = re.compile(r"^Graded in ([\d.]+) s", re.M)  # as grade.feedback_text writes them


def histogram(name: str, values: list, top: float) -> str:  # a bar per ½ point
    axes = Figure(figsize=(4, 2.5)).add_subplot()
    axes.hist(values, [i / 2 - 0.25 for i in range(round(2 * top) + 2)], ec="k")
    axes.set(title=name, xlabel="points", ylabel="submissions")
    axes.figure.savefig(png := io.BytesIO(), format="png", dpi=80, bbox_inches="tight")
    counts = ", ".join(f"{n} scored {v:g}" for v, n in sorted(Counter(values).items()))
    alt = escape(f"Histogram of the points on {name} (of {top:g}): {counts}")
    data = base64.b64encode(png.getvalue()).decode()
    return f'<p><img src="data:image/png;base64,{data}" alt="{alt}"></p>'


def table(title: str, head: list, rows: list) -> str:
    cells = [[f"<th scope='col'>{h}</th>" for h in head]]
    cells += [[f"<td>{escape(str(c))}</td>" for c in r] for r in rows]
    text = "\n".join(f"<tr>{''.join(r)}</tr>" for r in cells)
    return f"<h2>{title}</h2>\n" + (f"<table>\n{text}\n</table>" if rows else "<p>None.</p>")  # fmt: skip


def page(stem: str, questions: list, rows: dict, feedback: dict) -> str:
    """rows: the gradebook's {key: row}, totals included; feedback: {key: text} (messages, seconds)."""
    graded = [r for r in rows.values() if any(r[q["name"]] for q in questions)]
    names = [q["name"] for q in questions] + ["total"]
    scores = {n: [float(r[n]) for r in graded if r[n]] for n in names}
    stats = [[n, len(v), *(f"{f(v):.2f}" if v else "-" for f in (mean, median))] for n, v in scores.items()]  # fmt: skip
    messages, slow = Counter(), []
    for key in sorted(feedback.keys() & rows.keys()):
        head, *parts = feedback[key].split("\n## ")  # one part per question
        messages.update({(Q.search(p)[1], m) for p in parts for m in FAIL.findall(p)})
        slow += [[key, rows[key]["submission"], float(s)] for s in TIME.findall(head)]
    body = [
        f'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Class report: '
        f"{stem}</title></head>\n<body>\n<h1>Class report: {stem}</h1>",
        table("Points", ["question", "graded", "mean", "median"], stats),  # then each histogram
        *(histogram(q["name"], v, q["points"]) for q in questions if q["points"] and (v := scores[q["name"]])),
        table("Most frequent failures", ["question", "message", "submissions"],
              [[*p, n] for p, n in sorted(messages.items(), key=lambda m: (-m[1], m[0]))[:10]]),
        table("Slowest submissions", ["row", "submission", "seconds"],
              sorted(slow, key=lambda r: -r[2])[:10]),
        table("Timeouts", ["row", "submission", "note"],  # TIMEOUT or CELL_TIMEOUT
              [[k, r["submission"], r["note"]] for k, r in rows.items() if "TIMEOUT" in r["note"]]),
    ]  # fmt: skip
    return "\n".join(body) + "\n</body>\n</html>\n"
