"""The window's own chores: demo data, backups, finishing earlier work, About.

Each takes the window (it parents the progress dialogs and shows the
outcome in its status bar) and returns the task it started, so callers
and tests can follow it.
"""

from __future__ import annotations

from pathlib import Path

from crm_desktop import APP_NAME, __version__
from crm_desktop.services import backups, recovery
from crm_desktop.services import prospects as prospect_service
from crm_desktop.services.demo import DEFAULT_PROSPECTS as DEMO_PROSPECTS
from crm_desktop.services.demo import generate_demo
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.common.workers import BackgroundTask, run_with_progress

BACKUP_FILTERS = "CRM Desktop backup (*.db);;All files (*)"


def offer_demo_data(window) -> BackgroundTask | None:
    """On an empty database, offer to fill it with demo data."""
    if prospect_service.has_prospects(window.ctx):
        return None
    question = (
        "This database has no prospects yet.\n\n"
        f"Load {DEMO_PROSPECTS} made-up prospects, with schools and correspondence, "
        "to try the app? You can delete them later or start a new database."
    )
    if not messages.ask(window, "Load demo data?", question):
        return None
    return start_demo(window)


def load_demo_data(window) -> BackgroundTask | None:
    question = (
        f"Add {DEMO_PROSPECTS} made-up prospects, with schools and correspondence, "
        f"to {window.ctx.db.display_name}?"
    )
    if not messages.ask(window, "Load demo data", question):
        return None
    return start_demo(window)


def start_demo(window) -> BackgroundTask:
    ctx = window.ctx

    def work(progress, should_cancel):
        return generate_demo(ctx, DEMO_PROSPECTS, progress=progress, should_cancel=should_cancel)

    def loaded(result) -> None:
        window.bus.publish(Change.of(Kind.DATABASE))
        window.status(
            f"Added {result.prospects:,} demo prospects at {result.schools:,} schools "
            f"with {result.contacts:,} contacts."
        )

    task = run_with_progress(window, "Load demo data", "Creating demo prospects…", work)
    task.succeeded.connect(loaded)
    task.failed.connect(lambda text: messages.show_error(window, text, "Demo data not loaded"))
    task.cancelled.connect(lambda: window.status("Demo data cancelled; nothing was added."))
    return task


def back_up(window) -> BackgroundTask | None:
    """File > Back up: a checked copy, made in the background (Cancel leaves none)."""
    chosen = messages.save_file(window, "Back up database", BACKUP_FILTERS)
    if not chosen:
        return None
    target = Path(chosen)
    if target.exists():
        messages.show_error(
            window, f"{target} already exists; choose a new name.", "Backup not made"
        )
        return None
    ctx = window.ctx

    def work(progress, should_cancel):
        return backups.back_up(ctx, target, progress, should_cancel)

    task = run_with_progress(window, "Back up database", "Copying and checking…", work)
    task.succeeded.connect(lambda path: window.status(f"Backed up to {path} (checked)."))
    task.failed.connect(lambda text: messages.show_error(window, text, "Backup not made"))
    task.cancelled.connect(lambda: window.status("Backup cancelled; no file was written."))
    return task


def daily_backup(window) -> BackgroundTask | None:
    """On the first start of a day, copy the local database (7 daily, 4 weekly kept)."""
    ctx = window.ctx
    if ctx.db.path is None or ctx.db.read_only:
        return None  # nothing changes in a read-only database
    task = run_with_progress(
        window, "Daily backup", "Making today's backup…",
        lambda progress, should_cancel: backups.daily_backup(ctx),
    )  # fmt: skip
    task.succeeded.connect(
        lambda result: result.made and window.status(f"Daily backup made: {result.made[0]}")
    )
    task.failed.connect(
        lambda text: messages.show_error(window, text, "The daily backup could not be made")
    )
    return task


def finish_unfinished_work(window) -> BackgroundTask | None:
    """On start, finish what a killed or failed run left (see services.recovery)."""
    ctx = window.ctx
    if ctx.db.read_only:
        return None
    task = run_with_progress(
        window, "Finishing earlier work", "Finishing work an earlier run left unfinished…",
        lambda progress, should_cancel: recovery.recover(ctx),
    )  # fmt: skip
    task.succeeded.connect(lambda done: done and window.status(" ".join(done)))
    task.failed.connect(
        lambda text: messages.show_error(window, text, "Earlier work could not be finished")
    )
    return task


def show_about(window) -> None:
    messages.inform(
        window,
        f"About {APP_NAME}",
        f"{APP_NAME} {__version__}\n\n"
        "A lightweight marketing CRM for selling to schools: prospects, "
        "correspondence and follow-ups.\n\n"
        f"Database: {window.ctx.db.display_name}",
    )
