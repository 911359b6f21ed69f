"""Two app processes writing at once: nothing lost, nothing locked, nothing corrupt."""

import sqlite3
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import func, select

from crm_desktop.domain.models import Correspondence
from crm_desktop.domain.validation import ProspectInput
from crm_desktop.services import prospects as P

WRITER = textwrap.dedent(
    """
    import sys
    from crm_desktop.persistence import open_database
    from crm_desktop.services import Context, correspondence as C
    from crm_desktop.domain.validation import ContactInput
    url, who, pid, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    ctx = Context(open_database(url), who)
    print("ready", flush=True)
    sys.stdin.readline()  # both start together
    for i in range(n):
        C.log_contact(ctx, pid, ContactInput(kind="note", summary=f"{who} {i}"))
    print("done", flush=True)
    """
)


def run_two_writers(url: str, pid: int, n: int) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, who, str(pid), str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("alice", "bob")
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        assert "locked" not in err.lower() and out.strip() == "done"


@pytest.mark.slow
def test_two_processes_each_write_1000_entries(ctx):
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Busy", last_name="Person", email="busy@x.org")
    ).record.id
    run_two_writers(ctx.db.url, pid, 1000)
    with ctx.db.read() as session:
        total = session.scalar(select(func.count()).select_from(Correspondence))
        by = dict(
            session.execute(
                select(Correspondence.logged_by, func.count()).group_by(Correspondence.logged_by)
            ).all()
        )
    assert total == 2000 and by == {"alice": 1000, "bob": 1000}
    if ctx.db.is_sqlite:
        ctx.db.dispose()
        con = sqlite3.connect(ctx.db.path)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()
