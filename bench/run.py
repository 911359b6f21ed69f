"""Benchmarks (not part of the test run): python bench/run.py [--prospects N].

Timings on shared machines are noisy, so every figure is also given as a
ratio to a floor measured in the same run on the same database:
- bulk load: demo generation vs a raw sqlite3 executemany of the same number
  of minimal rows into a plain table (the least any loader could cost);
- queries: each query vs a primary-key lookup through the same session stack.
Each query figure is the median of several runs.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from crm_desktop.persistence import open_database
from crm_desktop.services import Context
from crm_desktop.services import correspondence as C
from crm_desktop.services import prospects as P
from crm_desktop.services.demo import generate_demo


def timed(func, repeat: int = 1) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prospects", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    n = args.prospects
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        ctx = Context(open_database(path, create=True), "bench")

        load = timed(lambda: generate_demo(ctx, n, seed=1))
        floor_db = sqlite3.connect(Path(tmp) / "floor.db")
        floor_db.execute("PRAGMA journal_mode=WAL")
        floor_db.execute("CREATE TABLE t (a TEXT, b TEXT, c TEXT)")

        def floor_load():
            with floor_db:
                floor_db.executemany(
                    "INSERT INTO t VALUES (?, ?, ?)", (("x", "y", str(i)) for i in range(n))
                )

        load_floor = timed(floor_load)
        print(
            f"bulk load of {n:,} demo prospects: {load:.2f} s "
            f"({load / load_floor:.0f}x a raw insert of {n:,} minimal rows, {load_floor:.3f} s)"
        )

        some_id = P.list_prospects(ctx, limit=1)[0].id

        def pk_lookup():
            with ctx.db.read() as s:
                s.execute(text("SELECT * FROM prospect WHERE id = :i"), {"i": some_id}).all()

        floor = timed(pk_lookup, args.repeat * 3)
        cases = {
            "count all": lambda: P.count_prospects(ctx),
            "search 'smi' (count)": lambda: P.count_prospects(ctx, P.ProspectQuery(search="smi")),
            "search 'smi' (first page)": lambda: P.list_prospects(
                ctx, P.ProspectQuery(search="smi"), limit=200
            ),
            "search 'oak prim' (first page)": lambda: P.list_prospects(
                ctx, P.ProspectQuery(search="oak prim"), limit=200
            ),
            "first page by name": lambda: P.list_prospects(ctx, limit=200),
            "middle page by name": lambda: P.list_prospects(ctx, offset=n // 2, limit=200),
            "last page by name": lambda: P.list_prospects(ctx, offset=n - 200, limit=200),
            "middle page by last contact": lambda: P.list_prospects(
                ctx, P.ProspectQuery(sort="last_contact", descending=True), offset=n // 2, limit=200
            ),
            "middle page by school": lambda: P.list_prospects(
                ctx, P.ProspectQuery(sort="school"), offset=n // 2, limit=200
            ),
            "filter stage=trial (count)": lambda: P.count_prospects(
                ctx, P.ProspectQuery(stage="trial")
            ),
            "open follow-ups (all)": lambda: C.list_followups(ctx),
            "one prospect's timeline": lambda: C.list_correspondence(ctx, some_id),
        }
        from crm_desktop.services import exports as E

        out = Path(tmp) / "campaign.csv"
        export = timed(lambda: E.run_export(ctx, E.ExportRequest("email", "Bench"), out))
        per_row = export / n
        print(
            f"email export over {n:,} prospects (decide, write, record): {export:.2f} s "
            f"({per_row * 1e6:.0f} us a prospect; {per_row / (load_floor / n):.0f}x the raw "
            "insert floor per row)"
        )

        print(f"\nfloor: primary-key lookup {floor * 1e3:.2f} ms (median of {args.repeat * 3})")
        print(f"{'query':34} {'median ms':>10} {'x floor':>9}")
        for name, func in cases.items():
            t = timed(func, args.repeat)
            print(f"{name:34} {t * 1e3:10.2f} {t / floor:9.0f}")
        ctx.db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
