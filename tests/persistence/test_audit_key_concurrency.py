"""Many processes writing the first keyed entries of a database at once.

The first audit entry of a database makes its identity and its key. Real
processes, started together on a database with no audit entry yet, must
end with one identity, one key on this computer, every entry signed with
it, and a trail that verifies completely.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from sqlalchemy import select

from crm_desktop.domain.models import AuditEntry
from crm_desktop.persistence import audit_keys
from crm_desktop.services import Context, audit

WRITER = textwrap.dedent(
    """
    import sys
    from crm_desktop.persistence import open_database
    from crm_desktop.services import Context, prospects as P
    from crm_desktop.domain.validation import ProspectInput
    url, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ctx = Context(open_database(url), who)
    print("ready", flush=True)
    sys.stdin.readline()  # all start together
    for i in range(n):
        P.create_prospect(
            ctx, ProspectInput(first_name=who, last_name=f"N{i}", email=f"{who}.{i}@oak.sch.uk")
        )
    print("done", flush=True)
    """
)
WRITERS = 5
EACH = 3


def test_writers_keying_a_database_at_once_agree_on_one_key(db):
    with db.read() as session:
        assert session.scalars(select(AuditEntry.id)).first() is None  # not keyed yet
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, db.url, f"w{i}", str(EACH)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i in range(WRITERS)
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    for p in procs:  # go
        p.stdin.write("\n")
        p.stdin.flush()
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0 and "done" in out, err
    ctx = Context(db, user="alice")
    with db.read() as session:
        key_ids = set(session.scalars(select(AuditEntry.key_id)))
        database_id, key_id = audit_keys.database_identity(session)
    assert key_ids == {key_id}
    [path] = list(audit_keys.key_folder().glob("*.key"))
    assert path.name == f"{database_id}.key"
    assert list(json.loads(path.read_text())["keys"]) == [key_id]
    result = audit.verify(ctx)
    assert result.complete and result.entries == WRITERS * EACH, result
