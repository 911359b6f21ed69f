"""Benchmark (not part of the test run): python bench/duplicates.py [--prospects N].

Times services.duplicates.probable_duplicates over N demo prospects (default
1,000,000), with a few planted duplicates (a misspelt name at the same
school, a shared mobile number, an extra address that is another's email),
and checks they are found. Also times the search limited to the planted
ids, as an import's review does. The floor is one streaming pass over the
same rows with no comparison at all (after one pass to warm the cache),
measured on the same database, so the ratio says what the comparing costs
beyond reading.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

from crm_desktop.domain.models import ContactPoint, Prospect
from crm_desktop.domain.types import utcnow
from crm_desktop.persistence import open_database
from crm_desktop.services import Context
from crm_desktop.services.demo import generate_demo
from crm_desktop.services.duplicates import probable_duplicates


def plant(ctx: Context) -> list[int]:
    """Add three duplicate pairs; returns the ids of the new halves."""
    now = utcnow()
    with ctx.db.transaction() as s:
        a = s.execute(select(Prospect).order_by(Prospect.id).limit(1)).scalar_one()
        rows = [
            dict(first_name=a.first_name, last_name=a.last_name + "e", school_id=a.school_id,
                 email="planted.one@example.org", email_key="planted.one@example.org"),
            dict(first_name="Zebedee", last_name="Quill", phone="+447911123456",
                 email="zq1@example.org", email_key="zq1@example.org"),
            dict(first_name="Zeb", last_name="Quill", phone="+447911123456",
                 email="zq2@example.org", email_key="zq2@example.org"),
            dict(first_name="Ottoline", last_name="Marsh",
                 email="o.marsh@example.org", email_key="o.marsh@example.org"),
        ]  # fmt: skip
        ids = []
        for row in rows:
            ids.append(
                s.execute(
                    insert(Prospect).values(created_at=now, updated_at=now, **row)
                ).inserted_primary_key[0]
            )
        s.execute(
            insert(ContactPoint).values(
                prospect_id=a.id, kind="email", value="O.Marsh@example.org",
                value_key="o.marsh@example.org", position=1, created_at=now,
            )
        )  # fmt: skip
    return ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prospects", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Context(open_database(Path(tmp) / "bench.db", create=True), "bench")
        start = time.perf_counter()
        generate_demo(ctx, args.prospects, seed=3)
        print(f"demo data: {args.prospects:,} prospects in {time.perf_counter() - start:.1f} s")
        planted = plant(ctx)

        def plain_pass() -> int:
            with ctx.db.read() as s:
                return sum(
                    1
                    for _ in s.execute(
                        select(
                            Prospect.id, Prospect.first_name, Prospect.last_name, Prospect.school_id
                        )
                        .where(Prospect.school_id.is_not(None))
                        .order_by(Prospect.school_id + 0)
                        .execution_options(yield_per=5_000)
                    )
                )

        plain_pass()  # warm the cache, so neither figure pays for reading the disk
        start = time.perf_counter()
        rows = plain_pass()
        floor = time.perf_counter() - start

        start = time.perf_counter()
        pairs = probable_duplicates(ctx)
        took = time.perf_counter() - start
        print(
            f"probable_duplicates over {args.prospects:,} prospects: {took:.2f} s, "
            f"{len(pairs):,} pairs ({took / floor:.1f}x one plain pass over {rows:,} rows, "
            f"{floor:.2f} s)"
        )
        start = time.perf_counter()
        mine = probable_duplicates(ctx, among=planted)
        print(f"  limited to the {len(planted)} planted prospects: "
              f"{time.perf_counter() - start:.2f} s, {len(mine)} pairs")  # fmt: skip
        expected = 3
        hits = [p for p in mine if p.first_id in planted or p.second_id in planted]
        reasons = sorted({p.reason for p in hits})
        print(f"  planted pairs found: {len(hits)} ({', '.join(reasons)})")
        return 0 if len(hits) >= expected else 1


if __name__ == "__main__":
    sys.exit(main())
