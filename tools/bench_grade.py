"""Grading cost: `make grade` on N copies of a chapter's solution with JOBS=1 and JOBS=2, against
executing the chapter once on its own (what the issue's budget compares with). Writes
_build/bench_grade.json and prints the ratios.

Usage: python tools/bench_grade.py [--chapter 01_logsumexp] [--copies 10]
"""

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests")]
import grade as grade_tool  # noqa: E402
from conftest import execute_notebook  # noqa: E402  (as Colab would: alone, a fresh kernel)


def grade(stem, submissions, out, jobs):
    start = time.monotonic()
    command = grade_tool.command(stem, submissions, out=out, jobs=jobs)
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    seconds = time.monotonic() - start
    with open(out / f"{stem}.csv") as table:
        rows = list(csv.DictReader(table))
    assert all(row["total"] == row["possible"] for row in rows), (
        f"not all full marks: {rows}"
    )
    return seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--chapter", default="01_logsumexp")
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    autograder = ROOT / "_build" / "autograder" / args.chapter / "autograder.zip"
    assert autograder.exists(), "run `make assign` first"
    work = Path(tempfile.mkdtemp(prefix="bench_grade_"))
    try:
        submissions = work / "submissions"
        submissions.mkdir()
        twin = ROOT / "chapters" / f"{args.chapter}.ipynb"
        text = twin.read_text()  # the solution as handed in (no outputs)
        for i in range(args.copies):
            (submissions / f"copy{i:02d}.ipynb").write_text(text)
        alone = execute_notebook(twin, work / "alone").seconds
        one = grade(args.chapter, submissions, work / "jobs1", 1)
        two = grade(args.chapter, submissions, work / "jobs2", 2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "chapter": args.chapter,
        "copies": args.copies,
        "execute_alone_s": round(alone, 1),
        "jobs1_s": round(one, 1),
        "jobs2_s": round(two, 1),
        "jobs2_over_jobs1": round(two / one, 3),
        "per_submission_jobs1_s": round(one / args.copies, 1),
        "per_submission_over_alone": round(one / args.copies / alone, 3),
    }
    (ROOT / "_build").mkdir(exist_ok=True)
    text = json.dumps(result, indent=1)
    (ROOT / "_build" / "bench_grade.json").write_text(text + "\n")
    print(text)
    print(
        f"JOBS=2 takes {result['jobs2_over_jobs1']:.2f} x JOBS=1 (target < 0.7); one submission "
        f"costs {result['per_submission_over_alone']:.2f} x executing the chapter (target < 1.5)"
    )


if __name__ == "__main__":
    main()
