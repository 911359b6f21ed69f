"""Many app processes writing at once: the audit chain never forks, nothing deadlocks.

Real processes (not threads), started together, each logging contacts
(closing its earlier follow-ups, which writes audit entries and then updates
the prospect) or editing prospects (which updates the prospect and then
writes audit entries), on the same prospects: the lock order that once
deadlocked on PostgreSQL. Afterwards ``audit.verify`` must find the chain
intact and hold exactly the entries the writers made.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import func, select

from crm_desktop.domain.models import AuditEntry
from crm_desktop.domain.validation import ProspectInput
from crm_desktop.persistence import audit_head
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
    open_followup = None
    stages = ["contacted", "trial"]
    i = 0
    while sys.stdin.readline().strip() == "go":  # all start each round together
        written = 0
        for _ in range(n):
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
                data = dataclasses.replace(P.as_input(view), role=f"{who} {i}")
                P.update_prospect(ctx, pid, data, reason=f"{who} edit {i}")
                written += 1
            i += 1
        print("done", written, flush=True)
    """
)

KINDS = ("log", "log", "log", "stage", "stage", "edit", "edit")  # seven writers at once
ROUNDS = 3
WRITES = 5  # per writer and round
KILLS = 5


def _start_writers(url: str, pids: list[int]) -> dict[str, subprocess.Popen]:
    procs = {}
    for i, kind in enumerate(KINDS):
        who = f"w{i}-{kind}"
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
    return procs


def _run_round(procs: dict[str, subprocess.Popen]) -> dict[str, int]:
    """Start every writer at once; what each wrote."""
    for p in procs.values():
        p.stdin.write("go\n")
        p.stdin.flush()
    written = {}
    for who, p in procs.items():
        line = p.stdout.readline().split()
        if line[:1] != ["done"]:
            p.kill()
            raise AssertionError(f"{who} failed:\n{p.communicate(timeout=30)[1]}")
        written[who] = int(line[1])
    return written


def test_many_writer_processes_keep_one_unbroken_chain(ctx):
    pids = [
        P.create_prospect(
            ctx, ProspectInput(first_name=f"Busy{i}", last_name="Person", email=f"b{i}@x.org")
        ).record.id
        for i in range(4)
    ]
    before = audit.verify(ctx).entries
    expected = dict.fromkeys((f"w{i}-{kind}" for i, kind in enumerate(KINDS)), 0)
    procs = _start_writers(ctx.db.url, pids)
    try:
        for round_no in range(ROUNDS):
            for who, count in _run_round(procs).items():
                expected[who] += count
            result = audit.verify(ctx)
            assert (result.ok, result.problem, result.first_bad_id) == (True, None, None), (
                f"round {round_no}: {result}"
            )
    finally:
        for p in procs.values():
            p.stdin.close()
            p.wait(timeout=30)
    with ctx.db.read() as session:
        by_actor = dict(
            session.execute(select(AuditEntry.actor, func.count()).group_by(AuditEntry.actor)).all()
        )
        total = session.scalar(select(func.count()).select_from(AuditEntry))
    assert {who: by_actor.get(who, 0) for who in expected} == expected
    assert total == before + sum(expected.values()) == result.entries
    if ctx.db.is_sqlite:
        # Every writer moved the head file after its commit, and none moved it back.
        head = json.loads(audit_head.sidecar_path(ctx.db.path).read_text())
        assert (head["length"], head["hash"]) == (total, result.last_hash)


KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from crm_desktop.persistence import audit_head, open_database
    from crm_desktop.services import Context, correspondence as C
    from crm_desktop.domain.validation import ContactInput
    url, pid, where = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if where == "before-head-file":
        # Committed, the head file not yet moved: the moment a kill can leave it behind.
        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        audit_head.write_sidecar = die
    ctx = Context(open_database(url), "killed")
    print("ready", flush=True)
    i = 0
    while True:
        C.log_contact(ctx, pid, ContactInput(kind="note", summary=f"entry {i}"))
        i += 1
    """
)


def _spawn_killed(url: str, pid: int, where: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, url, str(pid), where],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    return proc


def test_a_writer_killed_at_any_moment_never_leaves_a_false_verdict(ctx):
    """kill -9 mid-write, at random moments, then verify: intact, never "truncated"."""
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Kill", last_name="Target", email="k@x.org")
    ).record.id
    rng = random.Random(11)
    held = 0
    for _ in range(KILLS):
        proc = _spawn_killed(ctx.db.url, pid, "anywhere")
        time.sleep(rng.uniform(0.05, 0.6))
        proc.kill()
        proc.wait(timeout=30)
        result = audit.verify(ctx)
        assert (result.ok, result.problem) == (True, None), result
        held += 1
    assert held == KILLS


@pytest.mark.sqlite_only
def test_a_kill_between_the_commit_and_the_head_file_is_not_truncation(ctx):
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Kill", last_name="Target", email="k@x.org")
    ).record.id
    before = audit.verify(ctx).entries
    side = audit_head.sidecar_path(ctx.db.path)
    noted = json.loads(side.read_text())
    proc = _spawn_killed(ctx.db.url, pid, "before-head-file")
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert json.loads(side.read_text()) == noted  # left behind by the kill
    result = audit.verify(ctx)
    assert (result.ok, result.entries, result.head_note) == (True, before + 1, None)
    assert json.loads(side.read_text())["length"] == before + 1  # caught up
