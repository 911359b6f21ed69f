"""Screenshot the desktop app offscreen, for the README and for looking at changes.

    python scripts/screenshot.py [OUT.png] [--prospects 300] [--seed 7] [--extra DIR]

Builds a temporary database with demo data, opens the main window at
1400x850 with a prospect selected and saves it to OUT.png (default
docs/screenshot.png). With ``--extra DIR`` it also saves the prospect form
showing a validation error, the log-contact dialog, the Follow-ups and
Schools tabs and the empty state of a new database into DIR.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen:size=1920x1200")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from crm_desktop.domain.validation import ContactInput, ProspectInput  # noqa: E402
from crm_desktop.persistence import open_database  # noqa: E402
from crm_desktop.services import correspondence, prospects  # noqa: E402
from crm_desktop.services.context import Context  # noqa: E402
from crm_desktop.services.demo import generate_demo  # noqa: E402
from crm_desktop.ui.common import messages  # noqa: E402
from crm_desktop.ui.prospects.prospect_model import ProspectIdRole  # noqa: E402
from crm_desktop.ui.shell.app import configure_application  # noqa: E402
from crm_desktop.ui.shell.main_window import MainWindow  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1400, 850


class _NoQuestions(messages.Prompter):
    """Declines every question, so nothing waits for a click."""

    def question(self, parent, title, text) -> bool:
        return False


def _settle(app: QApplication, seconds: float = 0.5) -> None:
    # Let reads on worker threads arrive, and layouts and deferred paints
    # finish, before grabbing (a script, not the app).
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)


def _save(widget: QWidget, path: Path, app: QApplication) -> None:
    _settle(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not widget.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(f"saved {path}")


def _busiest_prospect(window: MainWindow) -> int:
    """A prospect on the first screen with the most correspondence (a full timeline)."""
    model = window.prospects.model
    ids = [model.index(r, 0).data(ProspectIdRole) for r in range(min(25, model.rowCount()))]
    return max(ids, key=lambda pid: len(correspondence.list_correspondence(window.ctx, pid)))


def _window(ctx: Context, tmp: Path, app: QApplication) -> MainWindow:
    settings = QSettings(str(tmp / f"settings-{id(ctx)}.ini"), QSettings.Format.IniFormat)
    window = MainWindow(ctx, settings)
    window.resize(WIDTH, HEIGHT)
    window.show()
    _settle(app)
    return window


def _long_name(window: MainWindow, ctx: Context) -> None:
    """A prospect whose name and notes would break a careless layout."""
    long_word = "Wolfeschlegelsteinhausenbergerdorff" * 2
    saved = prospects.create_prospect(
        ctx,
        ProspectInput(
            first_name="Hubert Blaine Maximilian Alexander",
            last_name=long_word,
            email=f"hubert@{'x' * 50}.sch.uk",
            school="The Very Long Named Church of England Voluntary Aided Primary School",
            role="Assistant head (curriculum, assessment and professional development)",
        ),
    )
    pid = saved.record.id
    correspondence.log_contact(ctx, pid, ContactInput(kind="note", summary=long_word * 3))
    window.prospects.reload(select_id=pid)


def _extras(window: MainWindow, ctx: Context, tmp: Path, out: Path, app: QApplication) -> None:
    dialog = window.new_prospect()
    dialog.first_name.setText("Bartholomew")
    dialog.last_name.setText("Featherstonehaugh-Cholmondeley")
    dialog.email.setText("b.featherstonehaugh@@greenfield")
    dialog.accept()
    _save(dialog, out / "prospect-dialog-error.png", app)
    dialog.reject()

    edit = window.edit_prospect()
    _save(edit, out / "prospect-dialog-edit.png", app)
    edit.reject()

    log = window.log_contact()
    _save(log, out / "log-contact-empty.png", app)
    log.subject.setText("Trial follow-up")
    log.summary.setPlainText("Spoke to the head about the trial; she wants a demo for the SLT.")
    log.follow_up_set.setChecked(True)
    _save(log, out / "log-contact.png", app)
    log.reject()

    window.show_page("followups")
    _save(window, out / "followups.png", app)
    window.show_page("schools")
    _save(window, out / "schools.png", app)
    window.show_page("prospects")

    _long_name(window, ctx)
    _save(window, out / "long-name.png", app)

    window.prospects.search.setText("zzzz")
    window.prospects.apply_query()
    _save(window, out / "no-matches.png", app)

    empty = Context(open_database(tmp / "empty.db", create=True), user=ctx.user)
    empty_window = _window(empty, tmp, app)
    _save(empty_window, out / "empty.png", app)
    empty_window.close()
    empty.db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(REPO / "docs" / "screenshot.png"))
    parser.add_argument("--prospects", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--extra", metavar="DIR", help="also save dialogs and empty states here")
    args = parser.parse_args(argv)

    app = QApplication.instance() or QApplication([sys.argv[0]])
    configure_application(app)
    messages.set_prompter(_NoQuestions())
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        ctx = Context(open_database(tmp / "demo.db", create=True), user="sam.taylor")
        generate_demo(ctx, args.prospects, seed=args.seed)
        window = _window(ctx, tmp, app)
        window.prospects.select_prospect(_busiest_prospect(window))
        window.prospects.table.setFocus()
        _save(window, Path(args.out), app)
        if args.extra:
            _extras(window, ctx, tmp, Path(args.extra), app)
        window.close()
        ctx.db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
