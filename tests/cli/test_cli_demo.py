"""crm demo."""

from __future__ import annotations

import json

import pytest
from cli_support import assert_error


def test_the_same_seed_makes_the_same_prospects(run_crm, tmp_path):
    listings = []
    for name in ("one.db", "two.db"):
        db = str(tmp_path / name)
        assert run_crm("--db", db, "init").code == 0
        result = run_crm("--db", db, "demo", "--prospects", "50", "--seed", "3")
        assert result.code == 0, result
        assert "Added 50 prospects" in result.out
        assert result.err == ""  # progress only on a terminal
        listing = run_crm("--db", db, "prospect", "list", "--json")
        assert listing.code == 0
        listings.append(listing.out)
    assert listings[0] == listings[1]
    assert len({row["email"] for row in json.loads(listings[0])}) == 50

    assert run_crm("--db", str(tmp_path / "three.db"), "init").code == 0
    other = run_crm("--db", str(tmp_path / "three.db"), "demo", "--prospects=50", "--seed=4")
    assert other.code == 0
    third = run_crm("--db", str(tmp_path / "three.db"), "prospect", "list", "--json")
    assert third.out != listings[0]


def test_demo_json_summary_matches_the_database(crm):
    result = crm("demo", "--prospects", "30", "--seed", "1", "--json")
    assert result.code == 0, result
    summary = result.json()
    assert summary["prospects"] == 30
    assert summary["schools"] >= 1 and summary["contacts"] >= 0
    assert len(crm("prospect", "list", "--json").json()) == 30


@pytest.mark.parametrize("count", ["0", "-5", "2000001"])
def test_demo_refuses_a_count_out_of_range(run_crm, db_path, count):
    result = run_crm("--db", str(db_path), "demo", f"--prospects={count}")
    assert_error(result, 1, "--prospects must be between 1 and 2,000,000")
    assert not db_path.exists()  # refused before touching the database


def test_demo_needs_a_whole_number(crm):
    assert_error(crm("demo", "--prospects=lots"), 2, "'lots' is not a whole number")


def test_demo_without_a_count_adds_as_many_as_the_gui(crm):
    from crm_desktop.services.demo import DEFAULT_PROSPECTS
    from crm_desktop.ui.shell.housekeeping import DEMO_PROSPECTS

    assert DEMO_PROSPECTS == DEFAULT_PROSPECTS == 200
    result = crm("demo", "--json")
    assert result.code == 0, result
    assert result.json()["prospects"] == DEFAULT_PROSPECTS
    assert len(crm("prospect", "list", "--json").json()) == DEFAULT_PROSPECTS
    assert "default: 200" in crm("demo", "--help").out


def test_demo_shows_progress_on_a_terminal(crm, monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    result = crm("demo", "--prospects", "20", "--seed", "2")
    assert result.code == 0, result
    assert result.err.startswith("\rGenerating demo data: ")
    assert result.err.endswith("(100%)\n")
