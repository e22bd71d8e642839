"""Determinism: the book's build and a fresh kernel (as in Colab) glue the same values, timings excepted.

A glued value whose name contains `_measured` is a timing (or is computed from one, like a word
"faster"/"slower"), and may change from run to run; every other glued value must be identical.
`make bench` checks the same rule across two cold builds.
"""

import sys
from pathlib import Path

import pytest
from conftest import CHAPTER_STEMS

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import bench  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def build_glue(built_site):
    return bench.built_glue(built_site.parent.parent)


@pytest.mark.parametrize("stem", CHAPTER_STEMS)
def test_build_and_fresh_kernel_glue_the_same_values(stem, build_glue, run_chapter):
    built = build_glue.get(f"chapters/{stem}")
    assert built is not None, f"the build has no executed notebook for chapters/{stem}"
    fresh = run_chapter(stem).glue
    assert bench.comparable_glue(fresh), (
        f"chapters/{stem} glues no value (timings aside): nothing to compare"
    )
    differences = bench.glue_differences(built, fresh)
    assert not differences, (
        f"chapters/{stem}: glued values differ between the book build and a fresh kernel "
        f"(build, fresh): {differences}. Fix the seed, or, if a value is a timing or depends on one, "
        f"put `_measured` in its glue name"
    )
