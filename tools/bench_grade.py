"""Grading cost: tools/grade.py on COPIES copies of a chapter's solved twin (as a student hands it in,
every cell kept), JOBS at a time: each one's seconds, kernel peak memory and CPU time; the one-off seconds
(otter's import, the data folder); a class of 300's hours; the load average. To _build/bench_grade.json.

Usage: python tools/bench_grade.py [--chapter 01_logsumexp] [--copies 2] [--jobs 2]
"""

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import grade as grade_tool  # noqa: E402

LINE = re.compile(r"^  (\S+): ([\d.]+) s, kernel peak (\d+) MB, ([\d.]+) s CPU", re.M)


def bench(chapter, copies, jobs, out):
    """Grade `copies` copies of the chapter's twin under the folder `out`: the figures."""
    (submissions := out / "submissions").mkdir()
    for i in range(copies):
        twin = ROOT / "chapters" / f"{chapter}.ipynb"  # without outputs
        (submissions / f"copy{i:02d}.ipynb").write_text(twin.read_text())
    load, start = os.getloadavg()[0], time.monotonic()
    command = grade_tool.command(chapter, submissions, out=out / "grades", jobs=jobs)
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - start
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    rows = list(csv.DictReader((out / "grades" / f"{chapter}.csv").open()))
    built = ROOT / "_build" / "autograder" / chapter / "questions.json"
    # written questions count in `possible` and are graded by hand, later
    by_hand = sum(q["points"] for q in json.loads(built.read_text()) if q["written"])
    full = all(float(r["total"]) == float(r["possible"]) - by_hand for r in rows)
    assert full, f"not full marks on the autograded questions: {rows}"
    subs = LINE.findall(run.stdout)
    assert len(subs) == copies, f"no kernel figures in grade's output:\n{run.stdout}"
    seconds = {n: float(s) for n, s, _, _ in subs}  # each kernel's, JOBS at a time
    once = max(0.0, wall - sum(seconds.values()) / jobs)  # otter's import, data folder
    class_s = once + 300 * sum(seconds.values()) / copies / jobs
    return dict(
        chapter=chapter, copies=copies, jobs=jobs, load_average_1min=load,
        wall_s=round(wall, 1), once_s=round(once, 1), seconds=seconds,
        kernel_peak_mb={n: int(mb) for n, _, mb, _ in subs},
        kernel_cpu_s={n: float(cpu) for n, _, _, cpu in subs},
        class_of_300_h=round(class_s / 3600, 2),
    )  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--chapter", default="01_logsumexp")
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_grade_") as work:
        result = bench(args.chapter, args.copies, args.jobs, Path(work))
    path = ROOT / "_build" / "bench_grade.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    path.write_text(json.dumps(results | {args.chapter: result}, indent=1) + "\n")
    print(json.dumps(result, indent=1))
