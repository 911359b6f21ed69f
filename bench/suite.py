"""The benchmark suite of issue 14: each operation against its floor, same run, same data.

    python -m bench.suite [--quick] [--sizes 10k,100k,1m] [--only NAME[,NAME]]
                          [--reps N] [--cache DIR] [--json FILE] [--markdown FILE]

``--quick`` is the 10k dataset only, with fewer repetitions (about two
minutes once the dataset is cached). Operations (``--only``): cold, cli,
search, sort, jump, open, log, sar, export, import, backup, memory. The
stall rows come with export, import and backup.

The datasets come from ``bench.datasets`` (made once, cached, copied for
each run). Every timed operation is repeated and interleaved with its floor
(A B A B); the table gives the app's median and 95th percentile, the
floor's median, their ratio, the goal from the issue, and whether it is met.
The GUI figures come from the real main window on Qt's offscreen platform
(``bench.gui``), cold start from the app's ``main`` started as a process
(``bench/launch.py``). Not part of the unit tests.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import datasets, floors

BENCH = Path(__file__).resolve().parent
OPERATIONS = (
    "cold", "cli", "search", "sort", "jump", "open", "log", "sar", "export", "import", "backup",
    "memory",
)  # fmt: skip
GUI_OPS = ("search", "sort", "jump", "open")
WORK_OPS = ("log", "sar", "export", "backup", "import")


# ------------------------------------------------------------------ figures


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100), linear between the closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * p / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


@dataclass
class Goal:
    text: str
    test: Callable[[Row], bool | None]


@dataclass
class Row:
    """One line of the table."""

    operation: str
    size: str
    app: list[float] = field(default_factory=list)  # seconds (None: timed out, dropped)
    floor: list[float] = field(default_factory=list)
    floor_label: str = ""
    value: float | None = None  # a single figure: MB of RSS, seconds of stall
    unit: str = "s"
    goal: str = ""
    met: bool | None = None
    note: str = ""
    timed_out: int = 0

    @property
    def app_median(self) -> float:
        return (
            median(self.app) if self.app else (self.value if self.value is not None else math.nan)
        )

    @property
    def app_p95(self) -> float:
        return percentile(self.app, 95) if self.app else math.nan

    @property
    def floor_median(self) -> float:
        return median(self.floor)

    @property
    def ratio(self) -> float:
        f = self.floor_median
        return self.app_median / f if f and not math.isnan(f) else math.nan


def ratio_at_most(limit: float) -> Goal:
    return Goal(f"<= {limit:g}x floor", lambda r: r.ratio <= limit)


def p95_at_most(ms: float) -> Goal:
    return Goal(f"p95 <= {ms:g} ms", lambda r: r.app_p95 <= ms / 1000)


def above_floor_at_most(s: float) -> Goal:
    return Goal(f"<= {s:g} s above floor", lambda r: r.app_median - r.floor_median <= s)


def value_at_most(limit: float, unit: str) -> Goal:
    return Goal(f"<= {limit:g} {unit}", lambda r: r.value <= limit)


def goal_for(operation: str) -> Goal:
    """The issue's goal for an operation (by the start of its name)."""
    table = (
        ("cold start", ratio_at_most(3)),
        ("crm ", above_floor_at_most(0.3)),
        ("search", p95_at_most(50)),
        ("sort", p95_at_most(100)),
        ("jump", p95_at_most(50)),
        ("open a prospect", p95_at_most(50)),
        ("log a correspondence", p95_at_most(50)),
        ("import", ratio_at_most(5)),
        (
            "consent-filtered",
            Goal(
                "<= 2.5x floor, identical rows",
                lambda r: r.ratio <= 2.5 and "rows differ" not in r.note,
            ),
        ),  # fmt: skip
        ("subject access", Goal("p95 <= 1 s", lambda r: r.app_p95 <= 1.0)),
        ("peak RSS", value_at_most(400, "MB")),
        ("GUI stall", Goal("no stall > 100 ms", lambda r: r.value <= 0.1)),
    )
    for start, goal in table:
        if operation.startswith(start):
            return goal
    return Goal("-", lambda r: None)


def judge(row: Row) -> Row:
    goal = goal_for(row.operation)
    row.goal = goal.text
    if row.timed_out:
        row.met = False
        row.note = (row.note + "; " if row.note else "") + f"{row.timed_out} run(s) timed out"
        return row
    try:
        met = goal.test(row)
    except TypeError:
        met = None
    row.met = None if met is None or (isinstance(met, float) and math.isnan(met)) else bool(met)
    return row


def fmt_time(seconds: float) -> str:
    if seconds is None or math.isnan(seconds):
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def fmt_value(row: Row, which: str) -> str:
    if which == "median" and row.value is not None and not row.app:
        return f"{row.value:.0f} MB" if row.unit == "MB" else fmt_time(row.value)
    return fmt_time(row.app_median if which == "median" else row.app_p95)


HEADERS = ("operation", "size", "app median", "app p95", "floor median", "ratio", "goal", "met")


def table_cells(row: Row) -> list[str]:
    ratio = row.ratio
    return [
        row.operation,
        row.size,
        fmt_value(row, "median"),
        fmt_value(row, "p95"),
        fmt_time(row.floor_median) if row.floor else "-",
        "-" if math.isnan(ratio) else f"{ratio:.1f}x",
        row.goal,
        {True: "met", False: "NOT met", None: "-"}[row.met],
    ]


def format_table(rows: Sequence[Row]) -> str:
    """Plain-text table, columns padded to their widest cell."""
    cells = [list(HEADERS)] + [table_cells(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADERS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
             for line in cells]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_markdown(rows: Sequence[Row]) -> str:
    out = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in table_cells(r)) + " |" for r in rows]
    return "\n".join(out)


def in_words(row: Row) -> str:
    """One sentence: what was measured, against what goal, met or not."""
    if row.value is not None and not row.app:
        figure = f"{row.value:.0f} MB" if row.unit == "MB" else fmt_time(row.value)
    else:
        figure = f"median {fmt_time(row.app_median)}, p95 {fmt_time(row.app_p95)}"
    if row.floor:
        figure += f" ({row.ratio:.1f}x the floor, {row.floor_label or 'floor'}: "
        figure += f"{fmt_time(row.floor_median)})"
    verdict = {True: "met", False: "not met", None: "no goal"}[row.met]
    text = f"{row.operation} at {row.size}: {figure}; goal {row.goal}: **{verdict}**."
    return text + (f" {row.note}." if row.note else "")


# ------------------------------------------------------------------ running


def crm_command() -> list[str]:
    script = Path(sys.executable).with_name("crm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "crm_desktop.cli"]


def timed_run(args: list[str], env: dict | None = None, timeout: float = 300) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-800:]}")
    return took


def gui_env() -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH.parent), env.get("PYTHONPATH")]))
    return env


def launch(mode: str, db: Path | None, out: Path, scroll: bool = False) -> list[str]:
    """Wall seconds from starting the process to its first painted list (and RSS lines)."""
    out.unlink(missing_ok=True)
    args = [sys.executable, str(BENCH / "launch.py"), mode, str(out)]
    if scroll:
        args.append("--scroll")
    if db is not None:
        args += ["--", "--db", str(db)]
    start = time.time()
    done = subprocess.run(args, capture_output=True, text=True, env=gui_env(), timeout=600)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"{mode} start failed ({done.returncode}): {done.stderr[-800:]}")
    lines = out.read_text().split()
    return [str(float(lines[0]) - start), *lines[1:]]


def run_cold(db: Path, size: str, reps: int, tmp: Path) -> list[Row]:
    row = Row("cold start to a painted prospect list", size,
              floor_label="bare PySide6 window, empty QTableView, to first paint")  # fmt: skip
    out = tmp / "painted.txt"
    for _ in range(reps):
        row.app.append(float(launch("app", db, out)[0]))
        row.floor.append(float(launch("bare", None, out)[0]))
    return [row]


def run_cli(db: Path, size: str, reps: int, first_id: int) -> list[Row]:
    crm = crm_command()
    version = Row("crm --version", size, floor_label="python -c pass")
    show = Row("crm prospect show (one row)", size, floor_label="python -c pass")
    bare = [sys.executable, "-c", "pass"]
    for _ in range(reps):
        version.app.append(timed_run([*crm, "--version"]))
        version.floor.append(timed_run(bare))
        show.app.append(timed_run([*crm, "--db", str(db), "prospect", "show", str(first_id)]))
        show.floor.append(timed_run(bare))
    return [version, show]


def run_memory(db: Path, size: str, tmp: Path) -> list[Row]:
    _, rss = launch("app", db, tmp / "rss.txt", scroll=True)
    return [Row("peak RSS, list open and scrolled end to end", size, value=float(rss), unit="MB")]


def run_inprocess(group: str, db: Path, size: str, heavy: int, reps: int, ops: Sequence[str],
                  import_rows: int) -> list[Row]:  # fmt: skip
    args = [sys.executable, "-m", "bench.gui", "--db", str(db), "--heavy", str(heavy),
            "--group", group, "--reps", str(reps), "--only", ",".join(ops),
            "--import-rows", str(import_rows)]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, env=gui_env(), cwd=BENCH.parent,
                          timeout=6 * 3600)  # fmt: skip
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not lines[-1].startswith("["):
        raise RuntimeError(f"bench.gui --group {group} failed: {done.stderr[-2000:]}")
    notes = [ln for ln in done.stderr.splitlines() if ln.startswith("export rows differ")]
    rows = []
    for r in json.loads(lines[-1]):
        if "error" in r:
            rows.append(Row(f"{r['op']}: FAILED", size, note=r["error"], met=False))
            continue
        app = r.get("app", [])
        row = Row(r["op"], size, app=[t for t in app if t is not None],
                  floor=r.get("floor", []), floor_label=r.get("floor_label", floors.floor_label()),
                  timed_out=sum(t is None for t in app))  # fmt: skip
        if "stall" in r:
            row.value = r["stall"]
        extra = r.get("extra", {})
        if "rows" in extra:
            row.note = f"{extra['rows']:,} rows, " + (
                "identical to the shell's" if extra["identical"] else "rows differ"
            )
            if notes:
                row.note += ": " + notes[0]
        if "per_column" in extra:
            worst = max(
                extra["per_column"].items(),
                key=lambda kv: percentile([t for t in kv[1] if t is not None] or [0], 95),
            )
            row.note = f"slowest: {worst[0]}, p95 {fmt_time(percentile(worst[1], 95))}"
        if "words" in extra:
            row.note = f"{extra['keystrokes']} keystrokes typing {', '.join(extra['words'])}"
        rows.append(row)
    return rows


def first_prospect_id(db: Path) -> int:
    import sqlite3

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT min(id) FROM prospect").fetchone()[0]
    finally:
        con.close()


def given_dataset(path: Path) -> datasets.Dataset:
    """A database file made by ``bench.datasets`` earlier (its ``.json`` beside it), as it is."""
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    return datasets.Dataset(path, meta["prospects"], meta["heavy_prospect_id"], meta["seed"],
                            str(meta["revision"]), meta["generated_seconds"])  # fmt: skip


def run_size(n: int, ops: Sequence[str], reps: int, cache: Path | None, done_imports: set[int],
             log: Callable[[str], None], cold_reps: int = 5,
             given: datasets.Dataset | None = None) -> list[Row]:  # fmt: skip
    label = datasets.size_label(n)
    ds = given or datasets.ensure(n, cache=cache, log=log)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix=f"crm-bench-{label}-") as tmp_name:
        tmp = Path(tmp_name)

        def copy(name: str) -> Path:
            return datasets.copy_to(ds, tmp / name / "crm.db")

        if "cold" in ops:
            log(f"[{label}] cold start")
            rows += guarded("cold start", label,
                            lambda: run_cold(copy("cold"), label, min(reps, cold_reps), tmp), log)  # fmt: skip
        if "cli" in ops:
            log(f"[{label}] crm command")
            db = copy("cli")
            rows += guarded("crm command", label,
                            lambda: run_cli(db, label, reps, first_prospect_id(db)), log)  # fmt: skip
        if "memory" in ops:
            log(f"[{label}] peak memory")
            rows += guarded("peak RSS", label, lambda: run_memory(copy("memory"), label, tmp), log)
        gui_ops = [o for o in GUI_OPS if o in ops]
        if gui_ops:
            log(f"[{label}] main window: {', '.join(gui_ops)}")
            rows += guarded("main window", label, lambda: run_inprocess(
                "gui", copy("gui"), label, ds.heavy_prospect_id, reps, gui_ops, 0), log)  # fmt: skip
        work_ops = [o for o in WORK_OPS if o in ops]
        import_rows = min(n, 100_000)
        if "import" in work_ops and import_rows in done_imports:
            work_ops.remove("import")  # the same file into a fresh database: done already
        if work_ops:
            log(f"[{label}] {', '.join(work_ops)}")
            rows += guarded(", ".join(work_ops), label, lambda: run_inprocess(
                "work", copy("work"), label, ds.heavy_prospect_id, reps, work_ops, import_rows),
                log)  # fmt: skip
            if "import" in work_ops:
                done_imports.add(import_rows)
    return [r if r.operation.endswith("FAILED") else judge(r) for r in rows]


def guarded(name: str, size: str, measure: Callable[[], list[Row]],
            log: Callable[[str], None]) -> list[Row]:  # fmt: skip
    """``measure()``, or one FAILED row saying why: one broken measurement never ends the run."""
    try:
        return measure()
    except Exception as exc:  # noqa: BLE001 - reported in the table
        log(f"[{size}] {name} failed: {exc}")
        text = str(exc).strip().splitlines()
        return [Row(f"{name}: FAILED", size, note=(text[-1] if text else type(exc).__name__),
                    met=False)]  # fmt: skip


def machine() -> dict:
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "os": platform.platform(),
        "python": platform.python_version(),
        "cores": os.cpu_count(),
    }
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        info["ram"] = f"{pages / 2**30:.1f} GB"
    except (ValueError, OSError, AttributeError):
        info["ram"] = "?"
    try:
        import PySide6
        from PySide6.QtCore import qVersion

        info["qt"] = f"Qt {qVersion()}, PySide6 {PySide6.__version__}"
    except ImportError:
        info["qt"] = "?"
    import sqlite3

    info["sqlite"] = f"Python's {sqlite3.sqlite_version}; shell: " + (
        subprocess.run([floors.shell(), "--version"], capture_output=True, text=True).stdout.split(
            " "
        )[0]
        if floors.shell()
        else "none (Python sqlite3 floors)"
    )
    if hasattr(os, "getloadavg"):
        info["load"] = "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.suite",
                                     description=__doc__.splitlines()[0])  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="10k only, fewer repetitions")
    parser.add_argument("--sizes", default=None, help="comma-separated: 10k,100k,1m")
    parser.add_argument("--only", default="", help=f"comma-separated: {', '.join(OPERATIONS)}")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 5; quick 3)")
    parser.add_argument("--cache", type=Path, help="dataset cache folder (see bench.datasets)")
    parser.add_argument("--dataset", type=Path, metavar="FILE",
                        help="run on this dataset file (made by bench.datasets, its .json beside "
                        "it) as it is, instead of --sizes")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    args = parser.parse_args(argv)
    only = [o.strip() for o in args.only.split(",") if o.strip()]
    unknown = [o for o in only if o not in OPERATIONS]
    if unknown:
        parser.error(f"unknown operation {', '.join(unknown)}; choose from {', '.join(OPERATIONS)}")
    ops = only or list(OPERATIONS)
    sizes_text = args.sizes or ("10k" if args.quick else "10k,100k")
    try:
        sizes = [datasets.parse_size(s) for s in sizes_text.split(",") if s.strip()]
    except ValueError as exc:
        parser.error(str(exc))
    if args.quick:
        sizes = [datasets.SIZES["10k"]]
    reps = args.reps or (3 if args.quick else 5)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    if not floors.shell():
        log("no sqlite3 shell found: floors use Python's sqlite3 module instead")
    rows: list[Row] = []
    done_imports: set[int] = set()
    started = time.perf_counter()
    given = given_dataset(args.dataset) if args.dataset else None
    for n in [given.prospects] if given else sizes:
        rows += run_size(n, ops, reps, args.cache, done_imports, log,
                         cold_reps=2 if args.quick else reps, given=given)  # fmt: skip
    info = machine()
    print(f"\n{info['date']}  {info['os']}, {info['cores']} cores, {info['ram']} RAM, "
          f"Python {info['python']}, {info['qt']}")  # fmt: skip
    print(f"floors: {floors.floor_label()}; {reps} repetitions; {info.get('load', '')}\n")
    print(format_table(rows))
    notes = [f"- {r.operation} ({r.size}): {r.note}" for r in rows if r.note]
    if notes:
        print("\n" + "\n".join(notes))
    print(f"\n(suite ran {time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "reps": reps,
                                         "rows": [asdict(r) for r in rows]}, indent=1))  # fmt: skip
    if args.markdown:
        words = "\n".join(f"- {in_words(r)}" for r in rows)
        args.markdown.write_text(format_markdown(rows) + "\n\n" + words + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
