"""The benchmark suite's pure helpers (the suite itself is not part of the test run)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/ sits beside the package

from bench import datasets, suite  # noqa: E402


def test_percentile_interpolates_between_ranks():
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert suite.percentile(values, 50) == 3.0
    assert suite.percentile(values, 0) == 1.0
    assert suite.percentile(values, 100) == 5.0
    assert suite.percentile(values, 95) == pytest.approx(4.8)
    assert suite.percentile([7.0], 95) == 7.0
    assert math.isnan(suite.percentile([], 50))


def test_sizes_parse_and_label_both_ways():
    assert datasets.parse_size("10k") == 10_000
    assert datasets.parse_size("1M") == 1_000_000
    assert datasets.parse_size("2.5k") == 2_500
    assert datasets.parse_size("250,000") == 250_000
    for bad in ("", "lots", "0", "-3k"):
        with pytest.raises(ValueError):
            datasets.parse_size(bad)
    assert [datasets.size_label(n) for n in (10_000, 1_000_000, 2_500)] == ["10k", "1m", "2500"]


def test_cache_key_changes_with_everything_that_changes_the_data():
    key = datasets.cache_key(100_000, 14, "0014", "abcd1234")
    others = {
        datasets.cache_key(10_000, 14, "0014", "abcd1234"),
        datasets.cache_key(100_000, 15, "0014", "abcd1234"),
        datasets.cache_key(100_000, 14, "0015", "abcd1234"),
        datasets.cache_key(100_000, 14, "0014", "ffff0000"),
    }
    assert key not in others and len(others) == 4
    assert key.startswith("prospects-100k-seed14-rev0014-")


def test_migrations_fingerprint_is_stable_and_short():
    first = datasets.migrations_fingerprint()
    assert first == datasets.migrations_fingerprint()
    assert len(first) == 8 and int(first, 16) >= 0


def test_goals_judge_each_kind_of_row():
    fast = suite.judge(suite.Row("search as you type (each keystroke)", "10k",
                                 app=[0.01] * 18 + [0.2, 0.2], floor=[0.005]))  # fmt: skip
    assert fast.goal == "p95 <= 50 ms" and fast.met is False  # p95 lands inside the slow tail
    ok = suite.judge(suite.Row("sort by a column", "10k", app=[0.05, 0.06], floor=[0.01]))
    assert ok.met is True and ok.ratio == pytest.approx(5.5)
    cold = suite.judge(suite.Row("cold start to a painted prospect list", "1m",
                                 app=[0.9, 1.0], floor=[0.3, 0.3]))  # fmt: skip
    assert cold.goal == "<= 3x floor" and cold.met is False
    memory = suite.judge(suite.Row("peak RSS, list open", "1m", value=380.0, unit="MB"))
    assert memory.met is True
    stall = suite.judge(suite.Row("GUI stall during import", "100k", value=0.131))
    assert stall.met is False
    timed_out = suite.judge(suite.Row("jump to the last row", "10k", app=[0.01], timed_out=1))
    assert timed_out.met is False and "timed out" in timed_out.note


def test_table_lines_up_and_says_met_or_not():
    rows = [
        suite.judge(suite.Row("crm --version", "10k", app=[0.35, 0.4], floor=[0.2, 0.2])),
        suite.judge(suite.Row("peak RSS, list open", "1m", value=512.0, unit="MB")),
    ]
    lines = suite.format_table(rows).splitlines()
    assert lines[0].split()[:3] == ["operation", "size", "app"]
    cells = lines[2].split()
    assert cells[3:10] == ["375", "ms", "398", "ms", "200", "ms", "1.9x"] and cells[-1] == "met"
    assert "512 MB" in lines[3] and lines[3].endswith("NOT met")
    column = lines[0].index("size")
    assert all(line[column : column + 3] in ("10k", "1m ", "---", "siz") for line in lines)
    markdown = suite.format_markdown(rows).splitlines()
    assert markdown[0].startswith("| operation |") and len(markdown) == 4
