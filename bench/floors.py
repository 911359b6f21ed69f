"""The floors: the same work done by the ``sqlite3`` shell, timed from outside.

Each floor is the shell started on the dataset, running the SQL, and
exiting: what the fastest possible program would pay, process start
included (a few milliseconds). Without the ``sqlite3`` binary the floor is
Python's sqlite3 module on a fresh connection, and is labelled so.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

PAGE = 200  # rows the prospect table reads per page


def shell() -> str | None:
    return shutil.which("sqlite3")


def floor_label() -> str:
    return "sqlite3 shell" if shell() else "Python sqlite3 (no sqlite3 shell found)"


def run_sql(db: Path, sql: str, *, readonly: bool = True) -> float:
    """Seconds for the shell to run ``sql`` on ``db`` (output discarded)."""
    binary = shell()
    start = time.perf_counter()
    if binary:
        args = [binary, "-batch", *(["-readonly"] if readonly else []), str(db)]
        done = subprocess.run(args, input=sql, capture_output=True, text=True, check=False)
        took = time.perf_counter() - start
        if done.returncode != 0 or "Error" in done.stderr:
            raise RuntimeError(f"sqlite3 failed: {done.stderr.strip()}\n{sql}")
        return took
    con = sqlite3.connect(db)
    try:
        for statement in _statements(sql):
            con.execute(statement).fetchall()
    finally:
        con.close()
    return time.perf_counter() - start


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip() and not s.strip().startswith(".")]


def fts_match(text: str) -> str:
    """The FTS5 expression for a search box's text (every word a prefix), SQL-quoted."""
    import re

    words = [w.lower() for w in re.findall(r"\w+", text)]
    expr = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
    return "'" + expr.replace("'", "''") + "'"


_COLUMNS = (
    "p.id, p.first_name, p.last_name, s.name, p.role, p.stage, p.owner, "
    "p.last_contact_at, p.next_follow_up"
)

# What ORDER BY the prospect table's columns mean (ties broken by id), written
# as the indexes on prospect serve them: a plain column order, no collation.
SORT_SQL = {
    "name": "p.last_name {d}, p.first_name {d}, p.id {d}",
    "school": "s.name {d}, p.id {d}",
    "role": "p.role {d}, p.id {d}",
    "stage": "p.stage {d}, p.id {d}",
    "owner": "p.owner {d}, p.id {d}",
    "last_contact": "p.last_contact_at {d}, p.id {d}",
    "next_follow_up": "p.next_follow_up {d}, p.id {d}",
}


def search_sql(text: str) -> str:
    """Count the matches and read the first page, name order: what one keystroke needs."""
    match = fts_match(text)
    ids = f"SELECT rowid FROM prospect_fts WHERE prospect_fts MATCH {match}"
    return (
        f"SELECT count(*) FROM prospect p WHERE p.id IN ({ids});\n"
        f"SELECT {_COLUMNS} FROM prospect p LEFT JOIN school s ON s.id = p.school_id "
        f"WHERE p.id IN ({ids}) ORDER BY {SORT_SQL['name'].format(d='')} LIMIT {PAGE};\n"
    )


def sort_sql(key: str, descending: bool) -> str:
    order = SORT_SQL[key].format(d="DESC" if descending else "")
    return (
        f"SELECT {_COLUMNS} FROM prospect p LEFT JOIN school s ON s.id = p.school_id "
        f"ORDER BY {order} LIMIT {PAGE};\n"
    )


def last_page_sql() -> str:
    """The last page of the name order, read through the index backwards."""
    order = SORT_SQL["name"].format(d="DESC")
    return (
        f"SELECT {_COLUMNS} FROM prospect p LEFT JOIN school s ON s.id = p.school_id "
        f"ORDER BY {order} LIMIT 50;\n"
    )


def timeline_sql(prospect_id: int) -> str:
    return (
        f"SELECT * FROM prospect WHERE id = {int(prospect_id)};\n"
        f"SELECT * FROM correspondence WHERE prospect_id = {int(prospect_id)} "
        "ORDER BY occurred_at DESC;\n"
    )


def eligible_email_sql(personal_domains: frozenset[str], out: Path) -> str:
    """The email export's eligibility rule (domain.eligibility) as one query, to CSV.

    Needs the ``bench_email_digest`` table (:func:`add_email_digests`): the
    suppression list holds keyed hashes, which the shell cannot compute.
    """
    domains = ", ".join("'" + d.replace("'", "''") + "'" for d in sorted(personal_domains))
    perm = "SELECT 1 FROM channel_permission c WHERE c.prospect_id = p.id AND c.channel = 'email'"
    return f"""
.headers on
.mode csv
.once '{str(out).replace("'", "''")}'
SELECT p.id AS "Prospect ID", p.first_name AS "First name", p.last_name AS "Last name",
       p.email AS "Email"
FROM prospect p
WHERE p.erased_at IS NULL AND p.restricted_at IS NULL
  AND p.email IS NOT NULL AND p.email LIKE '%_@_%'
  AND NOT EXISTS ({perm} AND c.opted_out_at IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM bench_email_digest d JOIN suppression x ON x.digest = d.digest
                  WHERE d.prospect_id = p.id AND x.channel IN ('email', 'all'))
  AND (EXISTS ({perm} AND c.consent)
       OR (p.lawful_basis = 'legitimate-interest'
           AND (p.li_assessment_id IS NOT NULL OR trim(coalesce(p.li_note, '')) <> '')
           AND coalesce(p.subscriber_type_override,
                        CASE WHEN lower(substr(p.email, instr(p.email, '@') + 1)) IN ({domains})
                             THEN 'individual' ELSE 'corporate' END) <> 'individual'))
ORDER BY p.id;
"""


def add_email_digests(db_path: Path) -> int:
    """Add ``bench_email_digest`` (prospect id, keyed hash of the email) to a floor's copy.

    Made with the app's own hasher, before any timing: the one part of the
    rule the shell cannot do itself.
    """
    from sqlalchemy import select

    from crm_desktop.domain.models import Prospect
    from crm_desktop.persistence import open_database
    from crm_desktop.services.suppression import Hasher

    db = open_database(db_path)
    try:
        with db.read() as s:
            hasher = Hasher(s)
            rows = [
                (pid, hasher(email))
                for pid, email in s.execute(
                    select(Prospect.id, Prospect.email).where(Prospect.email.is_not(None))
                )
            ]
    finally:
        db.dispose()
    con = sqlite3.connect(db_path)
    with con:
        con.execute("DROP TABLE IF EXISTS bench_email_digest")
        con.execute(
            "CREATE TABLE bench_email_digest (prospect_id INTEGER PRIMARY KEY, digest TEXT)"
        )
        con.executemany("INSERT INTO bench_email_digest VALUES (?, ?)", rows)
        con.execute("CREATE INDEX bench_email_digest_digest ON bench_email_digest (digest)")
    con.close()
    return len(rows)
