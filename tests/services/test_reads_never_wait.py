"""Reads never wait for writers: `crm` commands that only read finish while another
process holds a write transaction (real processes, SQLite and PostgreSQL).

Every command signs in first; in team mode that used to write (the sign-in's
audit entry) and so queued behind the writer, up to the busy timeout and
then failing. Now the password is checked in a read transaction and the
record of the sign-in is kept outside the database until it can be written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from sqlalchemy import func, select

from crm_desktop.domain.models import AuditEntry
from crm_desktop.domain.validation import ContactInput, ProspectInput
from crm_desktop.services import correspondence, pending, users
from crm_desktop.services import prospects as P

OWNER_PASSWORD = "Owner-password-1"

HOLDER = textwrap.dedent(
    """
    import sys
    from crm_desktop.domain.models import Prospect
    from crm_desktop.persistence import open_database
    from crm_desktop.services import Context, audit
    url, pid = sys.argv[1], int(sys.argv[2])
    ctx = Context(open_database(url), "writer")
    with ctx.db.transaction() as session:
        audit.record(session, "writer", "test.holding", "prospect", pid, {"n": 1})
        session.get(Prospect, pid).version += 1
        session.flush()
        print("holding", flush=True)
        sys.stdin.readline()
    print("committed", flush=True)
    """
)


def _team_database(ctx):
    """A team database (sign-in required) with one prospect and a contact."""
    owner = users.single_user_context(ctx.db)
    users.change_password(owner, OWNER_PASSWORD)
    users.add_user(owner, "sam", "sales", "Sales-password-1")
    pid = P.create_prospect(
        owner,
        ProspectInput(first_name="Ada", last_name="Lovelace", email="ada@example.org"),
    ).record.id
    correspondence.log_contact(owner, pid, ContactInput(kind="call", summary="Asked for a demo"))
    return owner.user, pid


def _crm(url: str, user: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "CRM_USER": user, "CRM_PASSWORD": OWNER_PASSWORD}
    return subprocess.Popen(
        [sys.executable, "-m", "crm_desktop.cli", *args, "--db", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def _sign_ins(db) -> int:
    with db.read() as session:
        return session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "sign-in")
        )


def test_read_commands_finish_while_another_process_holds_a_write(ctx):
    owner, pid = _team_database(ctx)
    url = ctx.db.url
    before = _sign_ins(ctx.db)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, str(pid)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding", holder.stderr.read()
        reads = {
            "search": (("prospect", "list", "--search", "Lovelace"), "ada@example.org"),
            "show": (("prospect", "show", str(pid)), "Asked for a demo"),
            "history": (("history", str(pid)), "Asked for a demo"),
        }
        # All at once, as several people reading while an import runs.
        running = {name: _crm(url, owner, *args) for name, (args, _) in reads.items()}
        for name, (_, expected) in reads.items():
            out, err = running[name].communicate(timeout=90)
            assert running[name].returncode == 0, (name, err)
            assert expected in out, (name, out)
            assert "busy" not in err.lower(), (name, err)
        # Every read finished while the writer still held its transaction.
        assert holder.poll() is None
    finally:
        if holder.poll() is None:
            holder.stdin.write("go\n")
            holder.stdin.flush()
        out, err = holder.communicate(timeout=60)
    assert holder.returncode == 0 and "committed" in out, err
    # The sign-ins could not be written then; they were kept, not lost...
    assert pending.count(ctx.db) == len(reads)
    assert _sign_ins(ctx.db) == before
    # ...and the next command writes them (and its own sign-in).
    after = _crm(url, owner, "prospect", "list")
    out, err = after.communicate(timeout=60)
    assert after.returncode == 0, err
    assert pending.count(ctx.db) == 0
    assert _sign_ins(ctx.db) == before + len(reads) + 1
    with ctx.db.read() as session:
        late = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "sign-in", AuditEntry.values.contains("signed_in_at")
            )
        ).all()
    assert len(late) == len(reads) and {e.actor for e in late} == {owner}
