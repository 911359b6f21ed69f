"""Import benchmark (not part of the test run): python bench/import_bench.py [--rows N].

A CSV of N contacts (default 100,000) made with Faker (names, addresses, UK
phone numbers, schools, job titles, notes; 1% with a bad email, 1% the same
email as an earlier row) is imported with ``services.imports.run_import``
(read, validated, deduplicated, applied in one transaction) into a fresh
database, and against the floor: the ``sqlite3`` shell's ``.import --csv``
of the same file into a fresh database (no validation at all). The ratio is
printed; the target is at most 5x.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from faker import Faker

from crm_desktop.persistence import open_database
from crm_desktop.services import Context
from crm_desktop.services.imports import ImportOptions, run_import

HEADERS = ["First name", "Last name", "Email", "Phone", "School", "Job title", "Notes"]


def make_csv(path: Path, rows: int, seed: int = 1) -> None:
    fake = Faker("en_GB")
    Faker.seed(seed)
    rng = random.Random(seed)
    schools = [
        f"{fake.city()} {rng.choice(['Primary', 'Academy', 'High School'])}" for _ in range(2_000)
    ]
    roles = ["Headteacher", "SENCo", "Data manager", "IT lead", "Teacher", "Office manager"]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for i in range(rows):
            first, last = fake.first_name(), fake.last_name()
            email = f"{first}.{last}.{i}@{rng.choice(['example.sch.uk', 'example.org'])}".lower()
            if rng.random() < 0.01:
                email = email.replace("@", "")  # not an address: rejected
            elif i and rng.random() < 0.01:
                email = f"{i - 1}@dup.example.org"  # the next row repeats it
            if rng.random() < 0.01:
                email = f"{i}@dup.example.org"
            phone = f"01632 {rng.randrange(960000, 961000)}" if rng.random() < 0.6 else ""
            note = fake.sentence() if rng.random() < 0.2 else ""
            writer.writerow(
                [first, last, email, phone, rng.choice(schools), rng.choice(roles), note]
            )


def floor_import(csv_path: Path, db_path: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        ["sqlite3", str(db_path), ".import --csv " + str(csv_path) + " contacts"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    if shutil.which("sqlite3") is None:
        raise SystemExit("The sqlite3 shell is needed for the floor (apt install sqlite3).")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = folder / "contacts.csv"
        make_csv(src, args.rows)
        floor = floor_import(src, folder / "floor.db")
        ctx = Context(open_database(folder / "crm.db", create=True), "bench")
        start = time.perf_counter()
        report = run_import(ctx, src, ImportOptions(source="Benchmark"))
        took = time.perf_counter() - start
        ctx.db.dispose()
    print(f"rows: {report.total_rows:,}  created: {report.created:,}  merged: {report.merged:,}  "
          f"rejected: {report.rejected:,}")  # fmt: skip
    print(f"sqlite3 .import --csv (floor): {floor:6.2f} s")
    print(
        f"run_import:                    {took:6.2f} s  ({took / floor:.1f}x the floor; target <= 5x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
