"""File > Back up and the automatic daily backup, from the window."""

import sqlite3
import time

from crm_desktop.domain.roles import Role
from crm_desktop.persistence.backup import check_backup
from crm_desktop.services.context import Context
from crm_desktop.ui.shell import housekeeping

TIMEOUT = 30_000


def test_back_up_from_the_file_menu(window, add_prospect, tmp_path, qtbot, prompter):
    add_prospect("Ada", "Lovelace")
    target = tmp_path / "copy.db"
    prompter.files.append(str(target))
    task = window.back_up()
    with qtbot.waitSignal(task.finished, timeout=TIMEOUT):
        pass
    check_backup(target)
    con = sqlite3.connect(target)
    assert con.execute("SELECT count(*) FROM prospect").fetchone()[0] == 1
    con.close()
    # An existing file is never replaced.
    prompter.files.append(str(target))
    assert window.back_up() is None
    assert "already exists" in prompter.errors()[-1]


def test_cancelled_backup_leaves_no_file(window, tmp_path, qtbot, prompter, monkeypatch):
    from crm_desktop.persistence import backup as B

    real = B.backup_sqlite_file

    def slow_copy(source, dest, progress=None):
        # Report progress until the cancel arrives (then progress raises).
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            progress(1, 10)
            time.sleep(0.01)
        return real(source, dest, progress)

    monkeypatch.setattr(B, "backup_sqlite_file", slow_copy)
    target = tmp_path / "copy.db"
    prompter.files.append(str(target))
    task = window.back_up()
    cancelled = []
    task.cancelled.connect(lambda: cancelled.append(True))
    task.cancel()  # the copy above reports progress until it sees this
    with qtbot.waitSignal(task.finished, timeout=TIMEOUT):
        pass
    assert cancelled == [True]
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".copy.db")]


def test_daily_backup_runs_once_a_day(window, ctx, qtbot):
    task = housekeeping.daily_backup(window)
    with qtbot.waitSignal(task.finished, timeout=TIMEOUT):
        pass
    folder = ctx.db.path.parent / "backups"
    # Each copy has its audit head file beside it.
    assert len(list((folder / "daily").glob("*.db"))) == 1
    assert len(list((folder / "weekly").glob("*.db"))) == 1


def test_back_up_is_hidden_from_non_admins(make_window, ctx):
    window = make_window(Context(ctx.db, user="mo", role=Role.MANAGER))
    assert not window.commands.back_up.isVisible()
