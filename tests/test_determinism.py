"""Determinism: the book's build and a fresh kernel (as in Colab) glue the same values, timings excepted.

A glued value whose name contains `_measured` is a timing (or is computed from one, like a word
"faster"/"slower"), and may change from run to run; every other glued value must be identical.
The suite compares the build with chapter 1's twin run alone (conftest's twin_alone, the one chapter
that runs twice); `make bench` compares every chapter across two cold builds and fresh kernels.
"""

import sys

import pytest
from conftest import ALONE, ROOT

sys.path.insert(0, str(ROOT / "tools"))
import bench  # noqa: E402

pytestmark = pytest.mark.slow


def test_build_and_fresh_kernel_glue_the_same_values(built_site, twin_alone):
    built = bench.built_glue(built_site.parent.parent).get(f"chapters/{ALONE}")
    assert built is not None, f"the build has no executed notebook for chapters/{ALONE}"
    fresh = twin_alone.glue
    assert bench.comparable_glue(fresh), (
        f"chapters/{ALONE} glues no value (timings aside): nothing to compare"
    )
    differences = bench.glue_differences(built, fresh)
    assert not differences, (
        f"chapters/{ALONE}: glued values differ between the book build and a fresh kernel "
        f"(build, fresh): {differences}. Fix the seed, or, if a value is a timing or depends on "
        "one, put `_measured` in its glue name"
    )
