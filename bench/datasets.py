"""Seeded benchmark datasets, made once into a cache folder and copied for each run.

``python -m bench.datasets --size 100k`` prints the path of a ready database:
a fresh copy (in a new temporary folder; delete it when done) of the cached
dataset of 100,000 demo prospects, made first if it is not cached yet.
``--master`` prints the cached file itself instead (open it read-only, or
copy it: the app writes to what it opens), ``--copy PATH`` copies it there.

What a dataset holds: the app's own demo data (``services.demo``: UK
schools, their staff, about two correspondence entries each, a realistic
consent mix with opt-outs, objections and a suppression list) written through
a database the app's own migrations created, plus one prospect with 1,000
timeline entries (for the open-a-prospect and access-pack figures), whose
id is in the sidecar ``<file>.json``.

The cache folder is the user's cache folder (``platformdirs``) unless
``--cache DIR`` or ``CRM_BENCH_CACHE``. A file is keyed by size, seed, the
schema's head revision and this generator's version, so a new migration (or
a change here) makes a new one; older ones are left for ``--prune``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
DEFAULT_SEED = 14
# Bump when what a dataset holds changes (the cache key includes it).
GENERATOR_VERSION = 1
HEAVY_EVENTS = 1_000
CACHE_ENV = "CRM_BENCH_CACHE"


@dataclass(frozen=True)
class Dataset:
    """A ready database and what the benchmarks need to know about it."""

    path: Path
    prospects: int
    heavy_prospect_id: int  # the prospect with HEAVY_EVENTS timeline entries
    seed: int
    revision: str
    generated_seconds: float


def parse_size(text: str) -> int:
    """'10k', '100k', '1m', '250000' or '2.5k' -> a number of prospects."""
    t = text.strip().lower().replace("_", "").replace(",", "")
    if t in SIZES:
        return SIZES[t]
    scale = 1
    if t.endswith("k"):
        t, scale = t[:-1], 1_000
    elif t.endswith("m"):
        t, scale = t[:-1], 1_000_000
    try:
        n = round(float(t) * scale)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (say 10k, 100k, 1m or a number)") from None
    if n < 1:
        raise ValueError(f"not a size: {text!r} (at least one prospect)")
    return n


def size_label(n: int) -> str:
    """10000 -> '10k', 1000000 -> '1m', 2500 -> '2500'."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def cache_key(prospects: int, seed: int, revision: str, fingerprint: str = "") -> str:
    """The file stem of one dataset: changes with size, seed, schema and generator."""
    schema = f"rev{revision}" + (f"-{fingerprint}" if fingerprint else "")
    return f"prospects-{size_label(prospects)}-seed{seed}-{schema}-gen{GENERATOR_VERSION}"


def migrations_fingerprint() -> str:
    """A short hash of every migration's text: a migration edited in place counts too."""
    import hashlib

    from crm_desktop.persistence.db import MIGRATIONS_DIR

    digest = hashlib.sha256()
    for f in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:8]


def default_cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    import platformdirs

    return platformdirs.user_cache_path("crm-desktop-bench", appauthor=False)


def schema_revision() -> str:
    from crm_desktop.persistence.db import head_revision

    return head_revision()


def ensure(
    prospects: int,
    seed: int = DEFAULT_SEED,
    cache: Path | None = None,
    *,
    log=print,
) -> Dataset:
    """The cached dataset, made now if it is missing (a half-made one never counts)."""
    cache = Path(cache) if cache else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    revision, fingerprint = schema_revision(), migrations_fingerprint()
    path = cache / f"{cache_key(prospects, seed, revision, fingerprint)}.db"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return Dataset(path, prospects, meta["heavy_prospect_id"], seed, revision,
                       meta["generated_seconds"])  # fmt: skip
    older = _older_dataset(cache, prospects, seed, revision)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".making-") as tmp:
        work = Path(tmp) / "bench.db"
        start = time.perf_counter()
        if older is not None:
            # The same data at an earlier schema: the app's own migrations bring
            # it up to date (much quicker than generating it again at 1m).
            old_path, old_meta = older
            log(f"upgrading {old_path.name} to schema {revision} with the app's migrations")
            shutil.copyfile(old_path, work)
            _upgrade(work)
            heavy = old_meta["heavy_prospect_id"]
        else:
            log(f"making the {size_label(prospects)} dataset (seed {seed}, schema {revision}) "
                f"in {cache}")  # fmt: skip
            heavy = _generate(work, prospects, seed, log)
        took = time.perf_counter() - start
        # One self-contained file: WAL folded in, nothing left beside it.
        con = sqlite3.connect(work)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("PRAGMA journal_mode=DELETE")
        con.close()
        meta = {
            "prospects": prospects,
            "seed": seed,
            "revision": revision,
            "migrations": fingerprint,
            "upgraded_from": older[0].name if older else None,
            "generator": GENERATOR_VERSION,
            "heavy_prospect_id": heavy,
            "generated_seconds": round(took, 1),
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.replace(work, path)
        meta_path.write_text(json.dumps(meta, indent=1), encoding="utf-8")
    log(f"made in {took:.0f} s: {path}")
    return Dataset(path, prospects, heavy, seed, revision, round(took, 1))


def _older_dataset(cache: Path, prospects: int, seed: int, revision: str):
    """(path, meta) of the newest cached dataset of this size and seed at an earlier schema."""
    found = []
    for meta_path in cache.glob(f"prospects-{size_label(prospects)}-seed{seed}-rev*.json"):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        db = meta_path.with_suffix(".db")
        if (
            db.exists()
            and meta.get("generator") == GENERATOR_VERSION
            and meta.get("prospects") == prospects
            and str(meta.get("revision", "")) < revision
            and not meta.get("upgraded_from")
        ):
            found.append((str(meta["revision"]), db, meta))
    if not found:
        return None
    _, db, meta = max(found, key=lambda f: f[0])
    return db, meta


def _upgrade(path: Path) -> None:
    from crm_desktop.persistence import open_database

    open_database(path).dispose()


def _generate(path: Path, prospects: int, seed: int, log) -> int:
    """Demo data through the app's services; returns the heavy prospect's id."""
    from sqlalchemy import func, insert, select, update

    from crm_desktop.domain.enums import ContactKind
    from crm_desktop.domain.models import Correspondence, Prospect
    from crm_desktop.persistence import open_database
    from crm_desktop.services import Context
    from crm_desktop.services.demo import generate_demo

    db = open_database(path, create=True)
    try:
        ctx = Context(db, "bench")
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] > 30:
                last[0] = now
                log(f"  {done:,} of {total:,} rows")

        generate_demo(ctx, prospects, seed=seed, progress=progress)
        rng = random.Random(seed)
        with db.transaction() as s:
            top = s.scalar(select(func.max(Prospect.id)))
            heavy = s.scalar(
                select(Prospect.id).where(Prospect.id >= (top + 1) // 2).order_by(Prospect.id)
            )
            owner = s.scalar(select(Prospect.owner).where(Prospect.id == heavy))
            start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1_000)
            kinds = list(ContactKind)
            blank = {c.name: None for c in Correspondence.__table__.columns if c.name != "id"}
            rows = []
            for i in range(HEAVY_EVENTS):
                when = start + timedelta(minutes=i * 1_440 + rng.randrange(480, 1_020))
                rows.append({
                    **blank, "prospect_id": heavy, "kind": rng.choice(kinds).value,
                    "occurred_at": when, "subject": f"Contact {i + 1} of {HEAVY_EVENTS}",
                    "summary": "Benchmark timeline entry: discussed next steps.",
                    "logged_by": owner, "created_at": when,
                })  # fmt: skip
            s.connection().execute(insert(Correspondence.__table__), rows)
            s.execute(
                update(Prospect)
                .where(Prospect.id == heavy)
                .values(last_contact_at=max(r["occurred_at"] for r in rows))
            )
    finally:
        db.dispose()
    return heavy


def copy_to(dataset: Dataset, dest: Path) -> Path:
    """A private copy of the dataset at ``dest`` (a file path), replacing one there."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{dest}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(dataset.path, dest)
    return dest


def prune(cache: Path, keep: set[Path]) -> list[Path]:
    """Delete cached datasets not in ``keep`` (other schema revisions, sizes, seeds)."""
    gone = []
    for db in sorted(cache.glob("prospects-*.db")):
        if db not in keep:
            db.unlink()
            db.with_suffix(".json").unlink(missing_ok=True)
            gone.append(db)
    return gone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.datasets", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--size", default="10k", help="10k, 100k, 1m or a number (default 10k)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--cache", type=Path, help=f"cache folder (default: ${CACHE_ENV} or "
                        "the user cache folder)")  # fmt: skip
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--master", action="store_true",
                       help="print the cached file itself (do not open it read-write)")  # fmt: skip
    where.add_argument("--copy", type=Path, metavar="PATH", help="copy it to PATH")
    parser.add_argument("--info", action="store_true", help="also print what it holds (JSON)")
    parser.add_argument("--prune", action="store_true",
                        help="delete cached datasets other than this one")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        n = parse_size(args.size)
    except ValueError as exc:
        parser.error(str(exc))

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    ds = ensure(n, args.seed, args.cache, log=log)
    if args.prune:
        for gone in prune(ds.path.parent, {ds.path}):
            log(f"deleted {gone}")
    if args.master:
        out = ds.path
    elif args.copy:
        out = copy_to(ds, args.copy)
    else:
        out = copy_to(ds, Path(tempfile.mkdtemp(prefix="crm-bench-")) / "crm.db")
    if args.info:
        log(json.dumps({"path": str(out), "prospects": ds.prospects,
                        "heavy_prospect_id": ds.heavy_prospect_id, "seed": ds.seed,
                        "revision": ds.revision}))  # fmt: skip
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
