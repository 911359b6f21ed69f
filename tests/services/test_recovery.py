"""Start-up recovery: registered steps run in order, and not on a read-only database."""

from __future__ import annotations

import pytest

from crm_desktop.cli import main
from crm_desktop.persistence import open_database
from crm_desktop.services import Context, recovery


@pytest.fixture
def steps(monkeypatch):
    """An empty registry for this test (the real steps are not run)."""
    monkeypatch.setattr(recovery, "_STEPS", [])
    monkeypatch.setattr(recovery, "STEP_MODULES", ())
    return recovery


def test_steps_run_in_order_and_their_sentences_are_returned(steps, ctx):
    seen = []

    @steps.register("first")
    def first(c):
        seen.append(("first", c.user))
        return ["Finished the first thing."]

    @steps.register("second")
    def second(c):
        seen.append(("second", c.user))
        return []

    assert steps.recover(ctx) == ["Finished the first thing."]
    assert seen == [("first", "alice"), ("second", "alice")]
    assert steps.steps() == ["first", "second"]


def test_a_step_is_registered_once_under_its_name(steps, ctx):
    calls = []
    for _ in range(2):
        steps.register("once")(lambda c: calls.append(1) or [])
    steps.recover(ctx)
    assert calls == [1]


@pytest.mark.sqlite_only
def test_nothing_runs_on_a_read_only_database(steps, tmp_path):
    path = tmp_path / "crm.db"
    open_database(path, create=True).dispose()
    db = open_database(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        assert db.read_only
        steps.register("must-not-run")(lambda c: pytest.fail("ran on a read-only database"))
        assert steps.recover(Context(db, user="alice")) == []
    finally:
        db.dispose()


@pytest.mark.sqlite_only
def test_the_crm_command_runs_the_steps_and_prints_what_they_finished(steps, tmp_path, capsys):
    path = tmp_path / "crm.db"
    open_database(path, create=True).dispose()
    steps.register("told")(lambda c: ["Finished an export an earlier run left unfinished."])
    assert main(["--db", str(path), "prospect", "list"]) == 0
    assert "crm: Finished an export an earlier run left unfinished." in capsys.readouterr().err
