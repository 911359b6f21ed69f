"""Many app processes writing at once: the audit chain never forks, nothing deadlocks.

Real processes (not threads), started together, each logging contacts
(closing its earlier follow-ups, which writes audit entries and then updates
the prospect) or editing prospects (which updates the prospect and then
writes audit entries), on the same prospects: the lock order that once
deadlocked on PostgreSQL. Afterwards ``audit.verify`` must find the chain
intact and hold exactly the entries the writers made.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from sqlalchemy import func, select

from crm_desktop.domain.models import AuditEntry
from crm_desktop.domain.validation import ProspectInput
from crm_desktop.services import audit
from crm_desktop.services import prospects as P

WRITER = textwrap.dedent(
    """
    import dataclasses, sys
    from crm_desktop.persistence import open_database
    from crm_desktop.services import Context, correspondence as C, prospects as P
    from crm_desktop.domain.validation import ContactInput
    url, who, kind, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    pids = [int(p) for p in sys.argv[5].split(",")]
    ctx = Context(open_database(url), who)
    print("ready", flush=True)
    sys.stdin.readline()  # all start together
    written = 0
    open_followup = None
    stages = ["contacted", "trial"]
    for i in range(n):
        pid = pids[(i // 2) % len(pids)]
        if kind == "log":
            # Every other contact closes the follow-up the one before opened.
            close = [open_followup] if open_followup else []
            entry = C.log_contact(
                ctx, pid,
                ContactInput(kind="call", summary=f"{who} {i}", follow_up_on="2030-01-01"),
                close_followups=close,
            )
            open_followup = None if close else entry.id
            written += 1 + len(close)
        elif kind == "stage":
            # Each stage writer has a prospect of its own, so every call changes it.
            P.set_stage(ctx, pid, stages[i % 2])
            written += 1
        else:
            view = P.get_prospect(ctx, pid)
            data = P.as_input(view)
            data = dataclasses.replace(data, role=f"{who} {i}")
            P.update_prospect(ctx, pid, data, reason=f"{who} edit {i}")
            written += 1
    print("done", written, flush=True)
    """
)

KINDS = ("log", "log", "log", "stage", "stage", "edit", "edit")  # seven writers at once
ROUNDS = 2
WRITES = 6  # per writer and round


def _run_round(url: str, pids: list[int], round_no: int) -> dict[str, int]:
    procs = {}
    for i, kind in enumerate(KINDS):
        who = f"w{round_no}-{i}-{kind}"
        mine = [pids[2 + i % 2]] if kind == "stage" else pids[:2]
        procs[who] = subprocess.Popen(
            [sys.executable, "-c", WRITER, url, who, kind, str(WRITES), ",".join(map(str, mine))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    for p in procs.values():
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    for p in procs.values():
        p.stdin.write("go\n")
        p.stdin.flush()
    written = {}
    for who, p in procs.items():
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, f"{who} failed:\n{err}"
        word, count = out.split()
        assert word == "done"
        written[who] = int(count)
    return written


def test_many_writer_processes_keep_one_unbroken_chain(ctx):
    pids = [
        P.create_prospect(
            ctx, ProspectInput(first_name=f"Busy{i}", last_name="Person", email=f"b{i}@x.org")
        ).record.id
        for i in range(4)
    ]
    before = audit.verify(ctx).entries
    expected: dict[str, int] = {}
    for round_no in range(ROUNDS):
        expected |= _run_round(ctx.db.url, pids, round_no)
        result = audit.verify(ctx)
        assert (result.ok, result.problem, result.first_bad_id) == (True, None, None), (
            f"round {round_no}: {result}"
        )
    with ctx.db.read() as session:
        by_actor = dict(
            session.execute(select(AuditEntry.actor, func.count()).group_by(AuditEntry.actor)).all()
        )
        total = session.scalar(select(func.count()).select_from(AuditEntry))
    assert {who: by_actor.get(who, 0) for who in expected} == expected
    assert total == before + sum(expected.values()) == result.entries
