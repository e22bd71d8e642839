"""The build's performance budget: `make bench` measures, prints, and writes _build/bench.json.

Everything runs in a scratch copy of the repo under /tmp, so the working tree is never modified:

1. cold build: no `_build` (so no execution cache) and no chapter `data/` folders, then the full strict build;
2. warm build: the same again with nothing changed (must execute and rewrite nothing);
3. one chapter edited: a markdown line appended to one chapter (re-reads that chapter only and re-executes
   nothing: the execution cache hashes code, not prose), then a code line appended (re-executes that
   chapter only); the rebuild time of each;
4. a second cold build, whose glued values must equal the first's (determinism);
5. each chapter's .ipynb twin executed alone in a fresh kernel from an empty folder, as Colab would;
6. the size of the built site and of its largest page.

Budgets (on a 2-core machine): cold < 300 s, warm < 15 s, a one-chapter edit < that chapter's execution
time + 15 s. Exit status 1 when a budget is exceeded, a determinism check fails or a rebuild does more
than it should (with --no-enforce, only report).

Timing values are the only glued values allowed to differ between builds: a glued value is a timing when
its name contains `_measured` (e.g. `ch3_measured_fold_ms`, `ch3_measured_verdict`); see CONTRIBUTING.md.
"""

import argparse
import ast
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import execute_notebook  # noqa: E402  (the tests' own Colab-like runner)

BUDGET_COLD_SECONDS = 300.0
BUDGET_WARM_SECONDS = 15.0
BUDGET_EDIT_EXTRA_SECONDS = 15.0
DEFAULT_BUILD_FLAGS = "-W -n --keep-going"
# Not copied into the scratch book: build products, environments, data, caches.
SKIP_NAMES = set(
    ".git .venv _build data __pycache__ .pytest_cache .ipynb_checkpoints".split()
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
EXECUTED = re.compile(
    r"^(?P<path>\S+?\.(?:md|ipynb)): Executed notebook in (?P<seconds>[0-9.]+) seconds",
    re.M,
)
FROM_CACHE = re.compile(r"^(?P<path>\S+?\.(?:md|ipynb)): Using cached notebook", re.M)
READING = re.compile(r"^reading sources\.\.\. \[\s*\d+%\] (?P<doc>\S+)", re.M)
WRITING = re.compile(r"^writing output\.\.\. \[\s*\d+%\] (?P<doc>\S+)", re.M)


def is_measured(name):
    """The naming rule for glued timings: the only values that may change from one build to the next."""
    return "_measured" in name


def parse_build_log(text, book_dir):
    """What a jupyter-book build did, from its log: executed / cached notebooks, re-read and re-written docs."""
    text = ANSI.sub("", text)
    prefix = str(book_dir).rstrip("/") + "/"

    def docname(path):
        path = path[len(prefix) :] if path.startswith(prefix) else path
        return re.sub(r"\.(md|ipynb)$", "", path)

    return {
        "executed": {
            docname(m["path"]): float(m["seconds"]) for m in EXECUTED.finditer(text)
        },
        "from_cache": sorted({docname(m["path"]) for m in FROM_CACHE.finditer(text)}),
        "read": sorted(set(READING.findall(text))),
        "written": sorted(set(WRITING.findall(text))),
    }


def comparable_glue(glue):
    """Glued values without the timings (names containing `_measured`)."""
    return {name: value for name, value in glue.items() if not is_measured(name)}


def glue_differences(first, second):
    """Names whose non-timing glued value differs between two runs, with both values."""
    a, b = comparable_glue(first), comparable_glue(second)
    pairs = {n: (a.get(n, "<missing>"), b.get(n, "<missing>")) for n in {*a, *b}}
    return {n: pair for n, pair in sorted(pairs.items()) if pair[0] != pair[1]}


def built_glue(book_dir):
    """{chapter docname: {glue name: value}} from a build: myst-nb moves each executed notebook's glued
    outputs into _build/jupyter_execute/<doc>.glue.json (text/plain parsed as a Python literal)."""
    executed = book_dir / "_build" / "jupyter_execute"
    result = {}
    for path in sorted(executed.rglob("*.ipynb")):
        docname = path.relative_to(executed).with_suffix("").as_posix()
        glue = path.with_suffix(".glue.json")
        outputs = json.loads(glue.read_text("utf-8")) if glue.exists() else {}
        result[docname] = {
            name: literal(output.get("data", {}).get("text/plain", ""))
            for name, output in outputs.items()
        }
    return result


def literal(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def site_sizes(html_dir):
    files = [p for p in html_dir.rglob("*") if p.is_file()]
    pages = [p for p in files if p.suffix == ".html"]
    largest = max(pages, key=lambda p: p.stat().st_size)

    def page_weight(page):
        """The page plus the local images it shows."""
        html = page.read_text(encoding="utf-8", errors="replace")
        images = {
            (page.parent / src).resolve()
            for src in re.findall(r'<img[^>]+src="([^"#?]+)"', html)
            if "://" not in src
        }
        return page.stat().st_size + sum(
            p.stat().st_size for p in images if p.is_file()
        )

    heaviest = max(pages, key=page_weight)
    return {
        "site_bytes": sum(p.stat().st_size for p in files),
        "site_bytes_without_mathjax": sum(
            p.stat().st_size
            for p in files
            if p.relative_to(html_dir).parts[0] != "mathjax"
        ),
        "site_files": len(files),
        "pages": len(pages),
        "largest_page": largest.relative_to(html_dir).as_posix(),
        "largest_page_bytes": largest.stat().st_size,
        "heaviest_page_with_images": heaviest.relative_to(html_dir).as_posix(),
        "heaviest_page_with_images_bytes": page_weight(heaviest),
    }


def machine():
    cpu, memory_gib = "unknown", None
    with suppress(OSError, TypeError):
        info = Path("/proc/cpuinfo").read_text()
        cpu = re.search(r"^model name[^:]*:(.*)$", info, re.M)[1].strip()
    with suppress(OSError, TypeError):
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1])
        memory_gib = round(kib / 2**20, 1)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


class Book:
    """A scratch copy of the repo, built with the venv's jupyter-book and the Makefile's flags."""

    def __init__(self, scratch, flags, log_dir):
        self.dir, self.flags, self.log_dir = scratch, flags, log_dir
        self.jupyter_book = Path(sys.executable).parent / "jupyter-book"

    def build(self, label):
        start = time.perf_counter()
        result = subprocess.run(
            [str(self.jupyter_book), "build", ".", *self.flags],
            cwd=self.dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        seconds = time.perf_counter() - start
        (self.log_dir / f"{label}.log").write_text(result.stdout, encoding="utf-8")
        if result.returncode != 0:
            sys.exit(
                f"bench: the {label} build failed (exit {result.returncode}); its log is "
                f"{self.log_dir / f'{label}.log'}:\n{result.stdout[-4000:]}"
            )
        summary = parse_build_log(result.stdout, self.dir)
        print(
            f"  {label:<12} {seconds:8.1f} s   executed {sorted(summary['executed']) or 'nothing'}",
            flush=True,
        )
        return {"seconds": round(seconds, 2), **summary}

    def clean(self):
        """Cold: no _build (so no execution cache) and no `data/` folder a chapter may cache things in
        (downloaded data sets, trained weights); the scratch copy starts without them too."""
        shutil.rmtree(self.dir / "_build", ignore_errors=True)
        for data in [p for p in self.dir.rglob("data") if p.is_dir()]:
            shutil.rmtree(data, ignore_errors=True)


def run(args):
    source = Path(args.source).resolve()
    if not (source / "vendor" / "mathjax" / "tex-chtml.js").exists():
        sys.exit(
            f"bench: {source}/vendor/mathjax is missing: run `make bench` (it fetches it)"
        )
    out = Path(args.out)
    shutil.rmtree(log_dir := out.parent / "bench-logs", ignore_errors=True)
    log_dir.mkdir(parents=True)
    scratch_root = Path(tempfile.mkdtemp(prefix="book-bench-"))
    scratch = scratch_root / "book"
    shutil.copytree(source, scratch, ignore=lambda _, names: set(names) & SKIP_NAMES)
    book = Book(scratch, shlex.split(args.build_flags), log_dir)
    chapters = sorted(
        f"chapters/{p.stem}" for p in scratch.glob("chapters/[0-9][0-9]_*.md")
    )
    if not chapters:
        sys.exit("bench: no chapters/NN_*.md to build")
    edited = f"chapters/{args.edit_chapter}" if args.edit_chapter else chapters[0]
    if edited not in chapters:
        sys.exit(
            f"bench: --edit-chapter {args.edit_chapter!r} is not one of {chapters}"
        )
    edited_path = scratch / f"{edited}.md"
    original_text = edited_path.read_text(encoding="utf-8")

    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "build_flags": args.build_flags,
        "scratch": str(scratch),
        "budgets_seconds": dict(
            cold=BUDGET_COLD_SECONDS,
            warm=BUDGET_WARM_SECONDS,
            edit_extra=BUDGET_EDIT_EXTRA_SECONDS,
        ),
    }
    print(
        f"bench: building a scratch copy in {scratch} with `jupyter-book build . {args.build_flags}`"
    )

    book.clean()
    report["cold"] = book.build("cold")
    glue_first = built_glue(scratch)
    report["site"] = site_sizes(scratch / "_build" / "html")

    report["warm"] = book.build("warm")

    code = "\n```{code-cell} ipython3\nbenchmark_edit = 1\n```\n"
    for key, name, added in [
        ("edit_markdown", "edit-prose", "\nA line of prose added by the benchmark.\n"),
        ("edit_code", "edit-code", code),
    ]:
        edited_path.write_text(original_text + added, encoding="utf-8")
        report[key] = {"chapter": edited, **book.build(name)}
    edited_path.write_text(original_text, encoding="utf-8")

    differences = {}
    if not args.skip_second_cold:
        book.clean()
        report["cold_again"] = book.build("cold-again")
        glue_second = built_glue(scratch)
        for doc in sorted(set(glue_first) | set(glue_second)):
            diff = glue_differences(glue_first.get(doc, {}), glue_second.get(doc, {}))
            if diff:
                differences[doc] = {n: list(map(repr, p)) for n, p in diff.items()}
    report["determinism"] = {
        "rule": "glued values whose name contains '_measured' are timings and may differ; all others must not",
        "checked": not args.skip_second_cold,
        "glued_values_compared": sum(
            map(len, map(comparable_glue, glue_first.values()))
        ),
        "timings_excepted": sorted(
            filter(is_measured, (n for g in glue_first.values() for n in g))
        ),
        "differences_between_cold_builds": differences,
    }

    fresh = {}
    if not args.skip_fresh_kernels:
        print("  fresh kernels (each twin alone, from an empty folder):", flush=True)
        for doc in chapters:
            twin = scratch / f"{doc}.ipynb"
            if not twin.exists():
                fresh[doc] = {"error": f"{twin.name} is missing: run `make sync`"}
                continue
            try:
                run_ = execute_notebook(twin, scratch_root / "fresh" / Path(doc).name)
            except Exception as error:  # noqa: BLE001 - recorded and reported
                fresh[doc] = {"error": f"{type(error).__name__}: {str(error)[-500:]}"}
                print(f"    {doc:<40} FAILED: {type(error).__name__}", flush=True)
                continue
            diff = glue_differences(glue_first.get(doc, {}), run_.glue)
            diff = {n: list(map(repr, p)) for n, p in diff.items()}
            fresh[doc] = {
                "seconds": round(run_.seconds, 2),
                "glue_differs_from_build": diff,
            }
            print(f"    {doc:<40} {run_.seconds:8.1f} s", flush=True)
    report["fresh_kernel"] = fresh

    report["chapter_execution_seconds_in_build"] = report["cold"]["executed"]
    report["problems"] = problems = check(report, chapters, edited)
    report["within_budget"] = not problems
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_summary(report, out)
    if not args.keep:
        shutil.rmtree(scratch_root, ignore_errors=True)
    return 1 if problems and not args.no_enforce else 0


def check(report, chapters, edited):
    problems = []
    add, cold, warm = problems.append, report["cold"], report["warm"]
    if cold["seconds"] > BUDGET_COLD_SECONDS:
        add(f"cold build {cold['seconds']:.1f} s > budget {BUDGET_COLD_SECONDS:.0f} s")
    missing = sorted(set(chapters) - set(cold["executed"]) - set(cold["from_cache"]))
    if missing:
        add(f"the cold build did not execute {missing}")
    if warm["seconds"] > BUDGET_WARM_SECONDS:
        add(f"warm build {warm['seconds']:.1f} s > budget {BUDGET_WARM_SECONDS:.0f} s")
    if warm["executed"] or warm["written"]:
        add(
            f"the warm build redid work: executed {sorted(warm['executed'])}, "
            f"rewrote {warm['written']}"
        )
    if (own := cold["executed"].get(edited)) is None:
        add(
            f"no execution time for {edited} in the cold build (served from the cache?)"
        )
        own = 0.0
    limit = own + BUDGET_EDIT_EXTRA_SECONDS
    for key in ("edit_markdown", "edit_code"):
        if (edit := report[key])["seconds"] > limit:
            add(
                f"{key}: rebuild {edit['seconds']:.1f} s > budget {limit:.1f} s "
                f"({edited} executes in {own:.1f} s, + {BUDGET_EDIT_EXTRA_SECONDS:.0f} s)"
            )
        if edit["read"] != [edited]:
            add(f"{key}: re-read {edit['read']}, expected only {edited}")
    prose, code = (
        sorted(report[k]["executed"]) for k in ("edit_markdown", "edit_code")
    )
    if prose:
        add(f"a prose edit re-executed {prose}, expected nothing")
    if code != [edited]:
        add(f"a code edit in {edited} re-executed {code}, expected only {edited}")
    for doc, diff in report["determinism"]["differences_between_cold_builds"].items():
        add(
            f"{doc}: glued values differ between two cold builds (name timings "
            f"'..._measured...'): {diff}"
        )
    for doc, fresh in report["fresh_kernel"].items():
        if "error" in fresh:
            add(f"{doc}: the twin fails in a fresh kernel: {fresh['error']}")
        elif fresh["glue_differs_from_build"]:
            add(
                f"{doc}: glued values differ between the build and a fresh kernel: "
                f"{fresh['glue_differs_from_build']}"
            )
    return problems


def print_summary(report, out):
    m, site, det = report["machine"], report["site"], report["determinism"]
    edited = report["edit_code"]["chapter"]
    edit_budget = f"< {report['cold']['executed'].get(edited, 0.0) + BUDGET_EDIT_EXTRA_SECONDS:.1f} s"
    print(
        f"\nBuild performance ({report['measured_at']}; {m['cores']} cores, {m['cpu']}, "
        f"{m['memory_gib']} GiB; load at start {m['load_average_at_start']})"
    )
    rows = [
        ("cold build (no _build, no cache)", "cold", f"< {BUDGET_COLD_SECONDS:.0f} s"),
        ("warm build (nothing changed)", "warm", f"< {BUDGET_WARM_SECONDS:.0f} s"),
        (f"prose edit in {edited}", "edit_markdown", edit_budget),
        (f"code edit in {edited}", "edit_code", edit_budget),
        ("second cold build", "cold_again", "(determinism check)"),
    ]
    for label, key, budget in rows:
        if key in report:
            print(f"  {label:<45} {report[key]['seconds']:8.1f} s   budget {budget}")
    print("  chapter execution (build | fresh kernel):")
    for doc in sorted(set(report["cold"]["executed"]) | set(report["fresh_kernel"])):
        times = (
            report["cold"]["executed"].get(doc),
            report["fresh_kernel"].get(doc, {}).get("seconds"),
        )
        shown = [f"{s:8.1f} s" if s is not None else "       - " for s in times]
        print(f"    {doc:<43} {' | '.join(shown)}")
    print(
        f"  site: {site['site_bytes'] / 2**20:.1f} MiB in {site['site_files']} files "
        f"({site['site_bytes_without_mathjax'] / 2**20:.1f} MiB without MathJax), {site['pages']} pages; "
        f"largest page {site['largest_page']} {site['largest_page_bytes'] / 1024:.0f} KiB, "
        f"heaviest with images {site['heaviest_page_with_images']} "
        f"{site['heaviest_page_with_images_bytes'] / 1024:.0f} KiB"
    )
    if det["checked"]:
        differences = det["differences_between_cold_builds"]
        print(
            f"  determinism: DIFFERENCES {differences}"
            if differences
            else f"  determinism: {det['glued_values_compared']} glued values identical across two cold builds"
        )
    print("OVER BUDGET OR WRONG:" if report["problems"] else "all within budget")
    print("".join(f"  - {problem}\n" for problem in report["problems"]), end="")
    print(f"written: {out}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add, flag = parser.add_argument, dict(action="store_true")
    add(
        "--source",
        default=str(ROOT),
        help="the book to copy and measure (default: this repo)",
    )
    add("--build-flags", default=DEFAULT_BUILD_FLAGS, help="flags of `make book`")
    add("--edit-chapter", help="chapter stem to edit (default: the first chapter)")
    add("--out", default=str(ROOT / "_build" / "bench.json"))
    add("--skip-second-cold", **flag, help="no determinism check (saves a build)")
    add("--skip-fresh-kernels", **flag, help="do not run the twins alone")
    add("--keep", **flag, help="keep the scratch copy")
    add("--no-enforce", **flag, help="exit 0 even when over budget")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
