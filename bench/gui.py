"""In-process measurements on the real main window (Qt offscreen), run by ``bench.suite``.

``python -m bench.gui --db PATH --heavy ID --group gui|work --reps N --size LABEL``
prints one JSON list of results on its last line of output. Each result:
``{"op", "app": [seconds...], "floor": [seconds...], "floor_label", "extra": {...}}``.

``gui``: search as you type, sort by each column, jump to the end and back,
open the prospect with 1,000 timeline entries. Each is timed from the key
press or click (``QTest``) to the end of the first repaint of the view that
shows the result (debounce included): a Paint event on the view's viewport
after which the view's model holds what the service says the answer is (the
first row's id, the match count, the query asked for). Each app run is
followed by its floor (``bench.floors``, the sqlite3 shell on a copy of
the same data): A B A B.

``work``: log a correspondence entry, the subject access pack, the email
export (against the shell's eligibility query, rows compared), the import
(``bench/import_bench.py``'s CSV and floor), and a backup; the export,
import and backup run on a worker thread while a 10 ms QTimer ticks on the
GUI thread, and the longest gap between ticks is the stall.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QEventLoop, QObject, QPoint, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QTableView, QTextBrowser  # noqa: E402

from bench import floors  # noqa: E402

TIMEOUT_S = 30.0


def now() -> float:
    return time.perf_counter()


def spin(ms: int) -> None:
    """Run the event loop for ``ms`` (reads settle, timers fire)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def spin_until(pred, timeout_s: float = TIMEOUT_S, step_ms: int = 5) -> bool:
    end = now() + timeout_s
    while now() < end:
        if pred():
            return True
        spin(step_ms)
    return pred()


class PaintWaiter(QObject):
    """Times an action to the end of the first repaint of ``widget`` after which ``check()``."""

    def __init__(self, widget) -> None:
        super().__init__()
        self.widget = widget
        self.check = None
        self.done_at: float | None = None
        self.failures = 0
        self.loop = QEventLoop()
        self.guard = QTimer()
        self.guard.setSingleShot(True)
        self.guard.timeout.connect(self.loop.quit)
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
        if obj is self.widget and self.check is not None and event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, self._after_paint)  # runs once this paint has ended
        return False

    def _after_paint(self) -> None:
        if self.check is not None and self.check():
            self.done_at = now()
            self.check = None
            self.loop.quit()

    def measure(self, action, check, timeout_s: float = TIMEOUT_S) -> float | None:
        """Seconds from ``action()`` to the end of the paint that satisfies ``check``.

        None if that did not come within ``timeout_s``; after three such, the
        wait is cut to two seconds so a broken check cannot stall the suite.
        """
        self.check, self.done_at = check, None
        start = now()
        action()
        if self.check is not None:
            self.guard.start(int((timeout_s if self.failures < 3 else 2.0) * 1000))
            self.loop.exec()
            self.guard.stop()
        self.check = None
        if self.done_at is None:
            self.failures += 1
            print(f"timed out waiting for a repaint on {self.widget.objectName() or 'a view'}",
                  file=sys.stderr)  # fmt: skip
            return None
        return self.done_at - start


class Window:
    """The real main window over a copy of the dataset."""

    def __init__(self, db_path: Path, tmp: Path) -> None:
        from crm_desktop.persistence import open_database
        from crm_desktop.services import Context
        from crm_desktop.ui.shell.app import configure_application
        from crm_desktop.ui.shell.main_window import MainWindow

        self.app = QApplication.instance() or QApplication([sys.argv[0]])
        configure_application(self.app)
        self.ctx = Context(open_database(db_path), "bench")
        settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
        self.window = MainWindow(self.ctx, settings)
        self.window.resize(1280, 800)
        self.window.show()
        self.window.start()
        self.page = self.window.page("prospects")
        self.table: QTableView = self.page.findChild(QTableView, "prospectTable")
        self.model = self.table.model()
        self.viewport = PaintWaiter(self.table.viewport())
        if not spin_until(lambda: self.model.rowCount() > 0 and self.first_id() is not None):
            raise RuntimeError("the prospect list never showed a row")
        spin(300)

    def first_id(self):
        from crm_desktop.ui.prospects.prospect_model import ProspectIdRole

        if self.model.rowCount() == 0:
            return None
        return self.model.index(0, 0).data(ProspectIdRole)

    def model_query(self):
        return getattr(self.model, "query", None)

    def close(self) -> None:
        from crm_desktop.ui.common import workers

        workers.cancel_all_and_wait(30_000)
        self.window.close()
        self.ctx.db.dispose()


# ------------------------------------------------------------------ gui group


def expected(ctx, **query) -> tuple[int, int | None]:
    from crm_desktop.services import prospects as P

    q = P.ProspectQuery(**query)
    rows = P.list_prospects(ctx, q, limit=1)
    return P.count_prospects(ctx, q), (rows[0].id if rows else None)


def search_words(ctx) -> list[str]:
    """A common surname and a school word, typed one key at a time."""
    from sqlalchemy import text

    with ctx.db.read() as s:
        surname = s.execute(
            text("SELECT last_name FROM prospect GROUP BY last_name ORDER BY count(*) DESC LIMIT 1")
        ).scalar_one()
    return [surname.lower(), "oakfield prim"]


def measure_search(w: Window, db: Path, reps: int) -> dict:
    app_times, floor_times, counts = [], [], []
    counted: list[int] = []
    w.page.countChanged.connect(counted.append)
    words = search_words(w.ctx)
    answers = {}
    for word in words:
        for i in range(1, len(word) + 1):
            answers[word[:i]] = expected(w.ctx, search=word[:i])
    for _ in range(reps):
        for word in words:
            w.page.search.setFocus()
            for i, key in enumerate(word, start=1):
                prefix = word[:i]
                count, first = answers[prefix]

                def shown(prefix=prefix, count=count, first=first) -> bool:
                    q = w.model_query()
                    if q is not None and hasattr(q, "search"):
                        if q.search != prefix:
                            return False
                    elif counted and counted[-1] != count:
                        return False  # no query to ask: the count must be the new one
                    return (w.model.rowCount() == 0) if first is None else w.first_id() == first

                took = w.viewport.measure(lambda key=key: QTest.keyClick(w.page.search, key), shown)
                app_times.append(took)
                counts.append(count)
                floor_times.append(floors.run_sql(db, floors.search_sql(prefix)))
            w.page.clear_filters()
            spin_until(lambda: w.model.rowCount() > 1000 or w.model.rowCount() == len(counted))
            spin(300)
    return {"op": "search as you type (each keystroke)", "app": app_times, "floor": floor_times,
            "extra": {"words": words, "keystrokes": len(app_times)}}  # fmt: skip


def measure_sort(w: Window, db: Path, reps: int) -> dict:
    from crm_desktop.ui.prospects.prospect_model import COLUMNS

    header = w.table.horizontalHeader()
    answers = {
        (key, d): expected(w.ctx, sort=key, descending=d)[1]
        for _, key in COLUMNS
        for d in (False, True)
    }
    per_column: dict[str, list] = {}
    app_times, floor_times = [], []
    for _ in range(reps):
        for column, (title, key) in enumerate(COLUMNS):
            for _click in range(2):
                x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2

                def click(x=x) -> None:
                    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                                     Qt.KeyboardModifier.NoModifier, QPoint(x, header.height() // 2))  # fmt: skip

                def shown(key=key) -> bool:
                    d = header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
                    q = w.model_query()
                    if q is not None and (getattr(q, "sort", key), getattr(q, "descending", d)) != (
                        key,
                        d,
                    ):
                        return False
                    return w.first_id() == answers[(key, d)]

                took = w.viewport.measure(click, shown)
                descending = header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
                per_column.setdefault(f"{title} {'desc' if descending else 'asc'}", []).append(took)
                app_times.append(took)
                floor_times.append(floors.run_sql(db, floors.sort_sql(key, descending)))
                spin(50)
    # Back to the name order for whatever runs next.
    while not (
        header.sortIndicatorSection() == 0
        and header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    ):
        x = header.sectionViewportPosition(0) + header.sectionSize(0) // 2
        QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier, QPoint(x, header.height() // 2))  # fmt: skip
        spin(200)
    return {"op": "sort by a column (every column, both ways)", "app": app_times,
            "floor": floor_times, "extra": {"per_column": per_column}}  # fmt: skip


def measure_jump(w: Window, db: Path, reps: int) -> dict:
    app_times, floor_times = [], []
    w.table.setFocus()
    w.table.setCurrentIndex(w.model.index(0, 0))
    spin(300)
    ctrl = Qt.KeyboardModifier.ControlModifier
    for _ in range(reps):
        last = w.model.rowCount() - 1

        def at_end(last=last) -> bool:
            return (
                w.table.currentIndex().row() == last
                and w.model.index(last, 0).data() is not None
                and w.table.rowAt(w.table.viewport().height() - 2) in (last, -1)
            )

        app_times.append(
            w.viewport.measure(lambda: QTest.keyClick(w.table, Qt.Key.Key_End, ctrl), at_end)
        )
        floor_times.append(floors.run_sql(db, floors.last_page_sql()))

        def at_top() -> bool:
            return w.table.currentIndex().row() == 0 and w.table.rowAt(0) == 0

        app_times.append(
            w.viewport.measure(lambda: QTest.keyClick(w.table, Qt.Key.Key_Home, ctrl), at_top)
        )
        floor_times.append(floors.run_sql(db, floors.sort_sql("name", False)))
        spin(50)
    return {"op": "jump to the last row and back (each way)", "app": app_times,
            "floor": floor_times}  # fmt: skip


def measure_open(w: Window, db: Path, heavy: int, reps: int) -> dict:
    from crm_desktop.services import prospects as P
    from crm_desktop.ui.prospects.prospect_model import ProspectIdRole

    person = P.get_prospect(w.ctx, heavy)
    detail = w.page.detail
    browser = w.page.findChild(QTextBrowser, "prospectDetailText")
    pane = PaintWaiter(browser.viewport())
    # Their namesakes are the other rows to click between.
    rows: dict = {}
    for text in (person.last_name, f"{person.first_name} {person.last_name}"):
        w.page.search.setText(text)
        w.page.apply_query()
        spin_until(lambda: w.model.rowCount() > 0)
        spin(300)
        count = min(w.model.rowCount(), 200)
        rows = {w.model.index(r, 0).data(ProspectIdRole): r for r in range(count)}
        if heavy in rows:
            break
    if heavy not in rows or len(rows) < 2:
        raise RuntimeError("no list with the 1,000-entry prospect and another to click between")
    other = next(pid for pid in rows if pid != heavy)

    def click(row: int) -> None:
        rect = w.table.visualRect(w.model.index(row, 0))
        QTest.mouseClick(w.table.viewport(), Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier, rect.center())  # fmt: skip

    app_times, floor_times = [], []
    for _ in range(reps):
        w.table.scrollTo(w.model.index(rows[other], 0))
        spin(50)
        click(rows[other])
        spin_until(lambda: detail.prospect is not None and detail.prospect.id == other)
        w.table.scrollTo(w.model.index(rows[heavy], 0))
        spin(150)

        def shown() -> bool:
            return detail.prospect is not None and detail.prospect.id == heavy

        app_times.append(pane.measure(lambda: click(rows[heavy]), shown))
        floor_times.append(floors.run_sql(db, floors.timeline_sql(heavy)))
    w.page.clear_filters()
    spin(300)
    return {"op": "open a prospect with 1,000 timeline entries", "app": app_times,
            "floor": floor_times}  # fmt: skip


# ----------------------------------------------------------------- work group


class Heartbeat:
    """A 10 ms QTimer on this (GUI) thread while ``work`` runs on a worker thread."""

    def __init__(self) -> None:
        self.app = QApplication.instance() or QApplication([sys.argv[0]])

    def run(self, work) -> tuple[object, float, float]:
        """(result, seconds, longest gap between ticks in seconds)."""
        ticks: list[float] = []
        outcome: dict = {}
        done = threading.Event()
        loop = QEventLoop()
        timer = QTimer()
        timer.setInterval(10)

        def tick() -> None:
            ticks.append(now())
            if done.is_set():
                loop.quit()

        def worker() -> None:
            try:
                outcome["result"] = work()
            except BaseException as exc:  # noqa: BLE001 - raised below
                outcome["error"] = exc
            finally:
                outcome["end"] = now()
                done.set()

        timer.timeout.connect(tick)
        timer.start()
        start = now()
        thread = threading.Thread(target=worker, name="bench-work")
        thread.start()
        loop.exec()
        timer.stop()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        return outcome["result"], outcome["end"] - start, max(gaps, default=0.0)


def measure_log(ctx, db: Path, heavy: int, reps: int, tmp: Path) -> dict:
    import sqlite3

    from crm_desktop.domain.validation import ContactInput
    from crm_desktop.services import correspondence as C

    floor_db = tmp / "insert-floor.db"
    shutil.copyfile(db, floor_db)
    con = sqlite3.connect(floor_db, isolation_level=None)
    for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=FULL", "busy_timeout=10000"):
        con.execute(f"PRAGMA {pragma}")
    app_times, floor_times = [], []
    for i in range(reps * 3):
        start = now()
        C.log_contact(ctx, heavy, ContactInput(kind="call", summary=f"Bench call {i}"))
        app_times.append(now() - start)
        start = now()
        con.execute("BEGIN IMMEDIATE")
        con.execute(
            "INSERT INTO correspondence (prospect_id, kind, occurred_at, subject, summary, "
            "logged_by, created_at) VALUES (?, 'call', datetime('now'), NULL, ?, 'bench', "
            "datetime('now'))",
            (heavy, f"Bench call {i}"),
        )
        con.execute("COMMIT")
        floor_times.append(now() - start)
    con.close()
    return {"op": "log a correspondence entry (save)", "app": app_times, "floor": floor_times,
            "floor_label": "one INSERT + COMMIT, same pragmas (Python sqlite3)"}  # fmt: skip


def measure_sar(ctx, heavy: int, reps: int, tmp: Path) -> list[dict]:
    from crm_desktop.reports.sar_pdf import write_pdf
    from crm_desktop.services import sar, settings

    if settings.get_controller(ctx).missing():  # a pack must name the controller
        settings.set_controller(ctx, name="Bench Learning Ltd", address="1 Bench Street\nLeeds",
                                email="privacy@bench.example.org", dpo_name="Dana Bench")  # fmt: skip
    out = []
    for fmt, write in (("PDF", write_pdf), ("JSON", sar.write_json)):
        times = []
        for i in range(reps):
            dest = tmp / f"pack-{i}.{fmt.lower()}"
            start = now()
            write(ctx, heavy, dest)
            times.append(now() - start)
            dest.unlink()
        out.append({"op": f"subject access pack, 1,000 entries ({fmt})", "app": times})
    return out


def measure_export(ctx, db: Path, reps: int, tmp: Path, beat: Heartbeat) -> list[dict]:
    from crm_desktop.domain.subscribers import PERSONAL_MAIL_DOMAINS
    from crm_desktop.services import exports as E

    floor_db = tmp / "export-floor.db"
    shutil.copyfile(db, floor_db)
    floors.add_email_digests(floor_db)
    app_times, floor_times, stalls = [], [], []
    same = True
    rows = 0
    for i in range(reps):
        out = tmp / f"campaign-{i}.csv"
        record, took, stall = beat.run(
            lambda out=out: E.run_export(ctx, E.ExportRequest("email", "Bench"), out)
        )
        app_times.append(took)
        stalls.append(stall)
        floor_out = tmp / f"floor-{i}.csv"
        floor_times.append(
            floors.run_sql(floor_db, floors.eligible_email_sql(PERSONAL_MAIL_DOMAINS, floor_out))
        )
        app_ids = _csv_ids(out)
        floor_ids = _csv_ids(floor_out)
        rows = len(app_ids)
        same = same and app_ids == floor_ids and record.included == len(app_ids)
        if app_ids != floor_ids:
            only_app, only_floor = app_ids - floor_ids, floor_ids - app_ids
            print(f"export rows differ: {len(only_app)} only in the app's file "
                  f"{sorted(only_app)[:5]}, {len(only_floor)} only in the shell's "
                  f"{sorted(only_floor)[:5]}", file=sys.stderr)  # fmt: skip
        out.unlink()
        floor_out.unlink()
    return [
        {"op": "consent-filtered email export", "app": app_times, "floor": floor_times,
         "floor_label": "sqlite3 shell: eligibility query to CSV (keyed hashes precomputed)",
         "extra": {"rows": rows, "identical": same}},
        {"op": "GUI stall during export", "stall": max(stalls)},
    ]  # fmt: skip


def _csv_ids(path: Path) -> set[int]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        return {int(r["Prospect ID"].lstrip("'")) for r in reader}


def measure_import(rows: int, reps: int, tmp: Path, beat: Heartbeat) -> list[dict]:
    from bench import import_bench as I  # engineer I's: its CSV and its floor
    from crm_desktop.persistence import open_database
    from crm_desktop.services import Context
    from crm_desktop.services.imports import ImportOptions, run_import

    src = tmp / "contacts.csv"
    I.make_csv(src, rows)
    app_times, floor_times, stalls = [], [], []
    for i in range(reps):
        ctx = Context(open_database(tmp / f"import-{i}.db", create=True), "bench")
        _, took, stall = beat.run(
            lambda ctx=ctx: run_import(ctx, src, ImportOptions(source="Benchmark"))
        )
        ctx.db.dispose()
        app_times.append(took)
        stalls.append(stall)
        floor_times.append(I.floor_import(src, tmp / f"import-floor-{i}.db"))
    return [
        {"op": f"import a {rows:,}-row CSV, validated", "app": app_times, "floor": floor_times,
         "floor_label": "sqlite3 shell .import --csv (fresh database)"},
        {"op": "GUI stall during import", "stall": max(stalls)},
    ]  # fmt: skip


def measure_backup(ctx, reps: int, tmp: Path, beat: Heartbeat) -> dict:
    from crm_desktop.services.backups import back_up

    stalls, times = [], []
    for i in range(reps):
        dest = tmp / f"backup-{i}.db"
        _, took, stall = beat.run(lambda dest=dest: back_up(ctx, dest))
        stalls.append(stall)
        times.append(took)
        dest.unlink(missing_ok=True)
    return {"op": "GUI stall during backup", "stall": max(stalls), "extra": {"seconds": times}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gui")
    parser.add_argument("--db", type=Path, required=True, help="a copy of a dataset (changed)")
    parser.add_argument("--heavy", type=int, required=True)
    parser.add_argument("--group", choices=("gui", "work"), required=True)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--only", default="", help="comma-separated op names")
    args = parser.parse_args(argv)
    only = {o for o in args.only.split(",") if o}

    def wanted(name: str) -> bool:
        return not only or name in only

    results: list[dict] = []

    def attempt(name: str, measure) -> None:
        """Run one measurement; a failure is reported as its result, the others still run."""
        if not wanted(name):
            return
        try:
            got = measure()
        except Exception as exc:  # noqa: BLE001 - reported in the table
            import traceback

            traceback.print_exc()
            results.append({"op": name, "error": f"{type(exc).__name__}: {exc}"})
            return
        results.extend(got if isinstance(got, list) else [got])

    QApplication.instance() or QApplication([sys.argv[0]])
    with tempfile.TemporaryDirectory(prefix="crm-bench-gui-") as tmp_name:
        tmp = Path(tmp_name)
        if args.group == "gui":
            w = Window(args.db, tmp)
            try:
                attempt("search", lambda: measure_search(w, args.db, args.reps))
                attempt("sort", lambda: measure_sort(w, args.db, max(1, args.reps // 2)))
                attempt("jump", lambda: measure_jump(w, args.db, args.reps * 2))
                attempt("open", lambda: measure_open(w, args.db, args.heavy, args.reps * 2))
            finally:
                w.close()
        else:
            from crm_desktop.persistence import open_database
            from crm_desktop.services import Context

            beat = Heartbeat()
            ctx = Context(open_database(args.db), "bench")
            few = max(1, args.reps // 3)
            try:
                attempt("log", lambda: measure_log(ctx, args.db, args.heavy, args.reps, tmp))
                attempt("sar", lambda: measure_sar(ctx, args.heavy, args.reps, tmp))
                attempt("export", lambda: measure_export(ctx, args.db, few, tmp, beat))
                attempt("backup", lambda: measure_backup(ctx, 1, tmp, beat))
            finally:
                ctx.db.dispose()
            attempt("import", lambda: measure_import(args.import_rows, few, tmp, beat))
    print(json.dumps(results), flush=True)
    # Qt's teardown can abort on a reader thread still winding down; the
    # results are out, so leave without it.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
