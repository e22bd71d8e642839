"""The benchmark's own logic (tools/bench.py), on small made-up inputs: fast, no build."""

import json
import sys
from pathlib import Path

import pytest
from conftest import BUILD_FLAGS, ROOT, book_build_command, make_dry_run

sys.path.insert(0, str(ROOT / "tools"))
import bench  # noqa: E402

# A jupyter-book log as it is printed (colours included), trimmed.
LOG = """\x1b[01mreading sources... \x1b[39;49;00m[ 14%] \x1b[35mchapters/01_logsumexp\x1b[39;49;00m
/tmp/book/chapters/01_logsumexp.md: Executing notebook using local CWD [mystnb]
/tmp/book/chapters/01_logsumexp.md: Executed notebook in 7.00 seconds [mystnb]
/tmp/book/chapters/01_logsumexp.md: Cached executed notebook: ID=1 [mystnb]
\x1b[01mreading sources... \x1b[39;49;00m[ 29%] \x1b[35mchapters/02_alexnet_counting\x1b[39;49;00m
/tmp/book/chapters/02_alexnet_counting.md: Using cached notebook: ID=2 [mystnb]
\x1b[01mwriting output... \x1b[39;49;00m[ 50%] \x1b[32mchapters/01_logsumexp\x1b[39;49;00m
\x1b[01mwriting output... \x1b[39;49;00m[100%] \x1b[32mintro\x1b[39;49;00m
"""


def test_parse_build_log_tells_executed_cached_read_and_written_documents():
    summary = bench.parse_build_log(LOG, Path("/tmp/book"))
    assert summary == {
        "executed": {"chapters/01_logsumexp": 7.0},
        "from_cache": ["chapters/02_alexnet_counting"],
        "read": ["chapters/01_logsumexp", "chapters/02_alexnet_counting"],
        "written": ["chapters/01_logsumexp", "intro"],
    }


def test_parse_build_log_of_a_build_that_did_nothing():
    log = "updating environment: 0 added, 0 changed, 0 removed\n"
    nothing = {"executed": {}, "from_cache": [], "read": [], "written": []}
    assert bench.parse_build_log(log, Path("/x")) == nothing


TIMINGS = ["ch3_measured_fold_ms", "ch2_speedup_measured", "ch3_measured"]


@pytest.mark.parametrize("name", [*TIMINGS, "ch2_total_params", "ch5_time_budget"])
def test_only_names_containing_measured_are_timings(name):
    assert bench.is_measured(name) is (name in TIMINGS)


def test_glue_differences_ignore_timings_and_report_everything_else():
    first = {"ch1_n": 3, "ch1_measured_ms": 1.5, "ch1_gone": "x", "ch1_word": "faster"}
    second = {"ch1_n": 4, "ch1_measured_ms": 9.9, "ch1_new": 1, "ch1_word": "faster"}
    assert bench.glue_differences(first, second) == {
        "ch1_gone": ("x", "<missing>"),
        "ch1_n": (3, 4),
        "ch1_new": ("<missing>", 1),
    }
    assert bench.glue_differences(first, dict(first, ch1_measured_ms=0.1)) == {}


def test_built_glue_reads_the_glue_files_myst_nb_writes(tmp_path):
    executed = tmp_path / "_build" / "jupyter_execute" / "chapters"
    executed.mkdir(parents=True)
    (executed / "01_a.ipynb").write_text("{}")
    (executed / "02_b.ipynb").write_text("{}")  # it glues nothing: no .glue.json
    values = {"ch1_n": "61100840", "ch1_x": "0.25", "ch1_word": "'faster'",
              "ch1_odd": "tensor(3.)"}  # fmt: skip
    (executed / "01_a.glue.json").write_text(json.dumps({
        name: {"output_type": "display_data", "data": {"text/plain": text}}
        for name, text in values.items()
    }))  # fmt: skip
    assert bench.built_glue(tmp_path) == {
        "chapters/01_a": {"ch1_n": 61100840, "ch1_x": 0.25, "ch1_word": "faster",
                          "ch1_odd": "tensor(3.)"},
        "chapters/02_b": {},
    }  # fmt: skip


def test_site_sizes_finds_the_largest_page_and_counts_its_images(tmp_path):
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "big.png").write_bytes(b"x" * 5000)
    (tmp_path / "mathjax").mkdir()
    (tmp_path / "mathjax" / "tex.js").write_bytes(b"x" * 1000)
    (tmp_path / "long.html").write_text("<p>" + "y" * 3000 + "</p>")
    (tmp_path / "figure.html").write_text('<img alt="a" src="_images/big.png"/>')
    sizes = bench.site_sizes(tmp_path)
    assert sizes["largest_page"] == "long.html" and sizes["largest_page_bytes"] == 3007
    assert sizes["heaviest_page_with_images"] == "figure.html"
    page = '<img alt="a" src="_images/big.png"/>'
    assert sizes["heaviest_page_with_images_bytes"] == 5000 + len(page)
    assert sizes["site_bytes"] - sizes["site_bytes_without_mathjax"] == 1000
    assert sizes["pages"] == 2 and sizes["site_files"] == 4


def build(seconds, executed=None, read=None):
    """One build's record, as bench.py writes it."""
    record = dict(seconds=seconds, executed=executed or {}, read=read or [])
    return record | {"from_cache": [], "written": []}


def _report():
    edited = "chapters/01_a"
    report = {
        "cold": build(100.0, {edited: 20.0, "chapters/02_b": 30.0}),
        "warm": build(5.0),
        "edit_markdown": {"chapter": edited, **build(8.0, read=[edited])},
        "edit_code": {"chapter": edited, **build(30.0, {edited: 20.0}, read=[edited])},
        "determinism": {"differences_between_cold_builds": {}},
        "fresh_kernel": {edited: {"seconds": 19.0, "glue_differs_from_build": {}}},
    }
    return report, ["chapters/01_a", "chapters/02_b"], edited


def test_check_passes_a_build_within_budget():
    assert bench.check(*_report()) == []


def test_check_names_each_broken_budget_and_each_redone_piece_of_work():
    report, chapters, edited = _report()
    report["cold"]["seconds"] = 301.0
    report["warm"].update(seconds=16.0, executed={"chapters/02_b": 30.0})
    report["edit_code"].update(seconds=35.5, executed={edited: 20.0, chapters[1]: 30.0})
    report["edit_markdown"]["read"] = [edited, "intro"]
    report["determinism"]["differences_between_cold_builds"] = {
        edited: {"ch1_n": ["3", "4"]}
    }
    problems = "\n".join(bench.check(report, chapters, edited))
    for phrase in (
        "cold build 301.0 s > budget 300 s",
        "warm build 16.0 s > budget 15 s",
        "the warm build redid work",
        "edit_code: rebuild 35.5 s > budget 35.0 s",
        "re-executed ['chapters/01_a', 'chapters/02_b'], expected only chapters/01_a",
        "edit_markdown: re-read ['chapters/01_a', 'intro']",
        "glued values differ between two cold builds",
        "ch1_n",
    ):
        assert phrase in problems, phrase


def test_bench_pdf_and_the_pipeline_build_with_the_flags_of_make_book():
    # the site pipeline's PDF step passes BUILD_FLAGS
    assert book_build_command().split("jupyter-book build . ")[1] == BUILD_FLAGS
    for target, tool in (("bench", "bench.py"), ("pdf", "build_pdf.py")):
        assert f'tools/{tool} --build-flags "{BUILD_FLAGS}"' in make_dry_run(target)


def test_a_cold_build_starts_without_build_folder_and_chapter_caches(tmp_path):
    (tmp_path / "_build" / ".jupyter_cache").mkdir(parents=True)
    (tmp_path / "chapters" / "data").mkdir(parents=True)
    (tmp_path / "chapters" / "data" / "weights.pt").write_bytes(b"w")
    (tmp_path / "chapters" / "01_a.md").write_text("# A\n")
    bench.Book(tmp_path, [], tmp_path).clean()
    assert not (tmp_path / "_build").exists()
    assert not (tmp_path / "chapters" / "data").exists()
    assert (tmp_path / "chapters" / "01_a.md").exists()
