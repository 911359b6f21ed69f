"""Start the desktop app: ``crm-desktop [--db PATH|URL]`` or ``python main.py``.

The database is ``--db``, else ``CRM_DATABASE_URL``, else the default file
in the user's data folder (created on first start; any other database
that is not there is created only if the user says so). On Linux, missing
X11 libraries are named with the command that installs them, instead of
Qt's abort. A database that cannot be opened (a newer
version's, not a CRM database, unreadable) is explained in a message box,
never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import resources

# First, before PySide6 (see the module's docstring).
import crm_desktop.ui.shell.preload  # noqa: F401

# isort: split
from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from crm_desktop import APP_ID, APP_NAME, ORG_NAME, __version__
from crm_desktop.errors import CrmError
from crm_desktop.ui.common import appearance, messages
from crm_desktop.ui.shell import platform_check
from crm_desktop.ui.shell.main_window import MainWindow
from crm_desktop.ui.shell.opening import Stopped, open_and_sign_in

RESOURCES = "crm_desktop.resources"


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="crm-desktop", description=f"{APP_NAME} desktop app")
    parser.add_argument(
        "--db",
        metavar="PATH|URL",
        help="database file or SQLAlchemy URL (default: $CRM_DATABASE_URL, "
        "else the file in your user data folder)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # Qt's own options (-style, -platform, ...) pass through to QApplication.
    return parser.parse_known_args(list(argv))


def configure_application(app: QApplication, settings: QSettings | None = None) -> None:
    """Names (for QSettings), icon, colour scheme and style sheet; safe to call more than once.

    The scheme (View > Appearance) comes from ``settings`` (default: the
    application's QSettings); in System mode the app follows the desktop.
    """
    app.setOrganizationName(ORG_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    icon = resource_path("icons/app.svg")
    if icon:
        app.setWindowIcon(QIcon(icon))
    chosen = appearance.saved_scheme(settings if settings is not None else QSettings())
    appearance.apply_scheme(app, chosen)
    appearance.follow_system(app)


def resource_path(name: str) -> str | None:
    """A file from ``resources/`` as a path Qt can read, or None if it is missing."""
    item = resources.files(RESOURCES).joinpath(name)
    return str(item) if item.is_file() else None


def load_style_sheet() -> str:
    """The style sheet with the current palette's colours filled in."""
    return appearance.style_sheet()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app; returns the exit code."""
    argv = list(sys.argv if argv is None else argv)
    args, qt_args = parse_args(argv[1:])
    if QApplication.instance() is None:
        problem = platform_check.check_platform(qt_args)
        if problem:  # instead of Qt's abort, the packages to install
            print(problem, file=sys.stderr)
            return 1
    app = QApplication.instance() or QApplication([argv[0] if argv else APP_ID, *qt_args])
    configure_application(app)
    try:
        # A named database that is not there is a question, not a new empty file.
        ctx = open_and_sign_in(None, args.db, offer_create=True)
    except CrmError as exc:
        messages.show_error(None, exc, f"{APP_NAME} cannot open the database")
        return 1
    if ctx is Stopped.AT_OPENING:  # not created, or no password given
        return 1
    if ctx is Stopped.AT_SIGN_IN:  # signing in was cancelled
        return 0
    window = MainWindow(ctx)
    window.show()
    # Ask once the window is on screen, so the question has a parent to sit on.
    window.start()
    try:
        return app.exec()
    finally:
        database = window.ctx.db
        database.dispose()


if __name__ == "__main__":
    sys.exit(main())
