"""Start the desktop app (or a bare window) and write when its list is first painted.

Run by ``bench.suite`` as a subprocess; the parent times from the moment it
starts the process to the wall-clock time written here, so every import,
the database's opening and the first paint are inside the figure.

``python bench/launch.py app OUT -- --db PATH``: the app's own ``main``
(what ``crm-desktop`` runs) with an application-wide event filter that waits
for the first Paint of the prospect table's viewport with rows in the model
and at least one row's name read, then writes ``time.time()`` to OUT and
exits at once.

``python bench/launch.py bare OUT``: the floor, a bare PySide6 main window
holding an empty QTableView, to its first paint.

``--scroll`` (app only): after the first paint, scroll the list from top to
bottom in 200 steps, back to the top, and write the peak RSS (MB) as a
second line.
"""

from __future__ import annotations

import os
import sys
import time

SCROLL_STEPS = 200


def _rss_peak_mb() -> float:
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _finish(out: str, lines: list[str]) -> None:
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    os._exit(0)  # nothing after the first paint belongs to the figure


def bare(out: str) -> None:
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow, QTableView

    app = QApplication([sys.argv[0]])
    window = QMainWindow()
    table = QTableView(window)
    window.setCentralWidget(table)
    window.resize(1280, 800)

    class First(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
            if obj is table.viewport() and event.type() == QEvent.Type.Paint:
                QTimer.singleShot(0, lambda: _finish(out, [repr(time.time())]))
            return False

    watcher = First()
    table.viewport().installEventFilter(watcher)
    window.show()
    app.exec()


def app(out: str, app_args: list[str], scroll: bool) -> None:
    # The app's module first, as the crm-desktop command imports it: it loads
    # the data layer before PySide6 (see ui/shell/preload.py).
    from crm_desktop.ui.shell.app import main  # noqa: I001 - before PySide6, on purpose

    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QTableView

    qapp = QApplication([sys.argv[0]])

    class First(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.painted_at: float | None = None

        def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
            if self.painted_at is None and event.type() == QEvent.Type.Paint:
                table = obj.parent()
                if isinstance(table, QTableView) and table.objectName() == "prospectTable":
                    QTimer.singleShot(0, lambda: self.check(table))
            return False

        def check(self, table: QTableView) -> None:
            model = table.model()
            if self.painted_at is not None or model is None or model.rowCount() == 0:
                return
            if model.index(0, 0).data() is None:
                return
            self.painted_at = time.time()
            if not scroll:
                _finish(out, [repr(self.painted_at)])
            QTimer.singleShot(0, lambda: self.scroll(table, 0))

        def scroll(self, table: QTableView, step: int) -> None:
            bar = table.verticalScrollBar()
            if step <= SCROLL_STEPS:
                bar.setValue(bar.maximum() * step // SCROLL_STEPS)
                QTimer.singleShot(0, lambda: self.scroll(table, step + 1))
                return
            bar.setValue(0)
            QTimer.singleShot(
                50, lambda: _finish(out, [repr(self.painted_at), f"{_rss_peak_mb():.1f}"])
            )

    watcher = First()
    qapp.installEventFilter(watcher)
    main([sys.argv[0], *app_args])
    # main returned without a painted list (the database could not be opened...).
    sys.exit(3)


if __name__ == "__main__":
    mode, out_file, *rest = sys.argv[1:]
    scroll_wanted = "--scroll" in rest
    rest = [a for a in rest if a != "--scroll"]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if mode == "bare":
        bare(out_file)
    else:
        app(out_file, rest, scroll_wanted)
