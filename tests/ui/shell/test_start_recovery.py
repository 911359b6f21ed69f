"""On start, the window finishes in the background what an earlier run left unfinished."""

from __future__ import annotations

from crm_desktop.services import recovery
from crm_desktop.ui.shell import housekeeping


def test_the_window_runs_the_recovery_steps_and_says_what_it_finished(
    make_window, qtbot, monkeypatch
):
    ran = []
    monkeypatch.setattr(recovery, "STEP_MODULES", ())
    monkeypatch.setattr(
        recovery,
        "_STEPS",
        [("test", lambda c: ran.append(c.user) or ["Finished an interrupted export."])],
    )
    window = make_window()
    task = housekeeping.finish_unfinished_work(window)
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    assert ran == [window.ctx.user]
    assert window.statusBar().currentMessage() == "Finished an interrupted export."
