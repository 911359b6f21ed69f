"""The unsubscribe import in bulk: the same result as the per-line rule, in short
batches that each leave the database consistent, cancellable and resumable, and an
opt-out made meanwhile by another process is never refused (real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter

import pytest
from sqlalchemy import select

from crm_desktop.domain.eligibility import ALL
from crm_desktop.domain.enums import Channel, OptOutSource
from crm_desktop.domain.models import (
    AuditEntry,
    ChannelPermission,
    ConsentEvent,
    Prospect,
    Suppression,
)
from crm_desktop.domain.suppression import canonical_address
from crm_desktop.domain.validation import ProspectInput, normalise_email
from crm_desktop.persistence import open_database
from crm_desktop.services import Context, email_sync, marketing, suppression, users
from crm_desktop.services import prospects as P

# ---------------------------------------------------------------- the old rule


def _per_line_import(ctx: Context, path) -> email_sync.SyncReport:
    """The import as it was (one transaction, one address at a time): the reference."""
    report = email_sync.SyncReport(file=path.name)
    reason = f"Unsubscribed or bounced in the email tool ({path.name})"
    seen: set[str] = set()
    with ctx.db.transaction() as session:
        for raw in email_sync.read_addresses(path):
            report.rows += 1
            try:
                email = normalise_email(raw)
                if not email:
                    raise ValueError("blank")
                key = canonical_address(email)
            except ValueError:
                report.invalid += 1
                report.invalid_examples.append(raw[:100])
                continue
            if key in seen:
                report.duplicates += 1
                continue
            seen.add(key)
            p = session.scalars(select(Prospect).where(Prospect.email_key == key)).first()
            if p is None:
                if suppression.channels_suppressed(session, email) & {ALL, Channel.EMAIL.value}:
                    report.already_suppressed += 1
                else:
                    suppression.add_entry(
                        session, ctx, email, Channel.EMAIL.value, "email-tool", reason
                    )
                    report.new += 1
                continue
            perm = session.get(ChannelPermission, (p.id, Channel.EMAIL.value))
            if perm is not None and perm.opted_out_at is not None:
                report.already_opted_out += 1
                continue
            marketing.apply_opt_out(
                session, ctx, p, [Channel.EMAIL], OptOutSource.EMAIL_TOOL, reason
            )
            report.matched += 1
    report.applied = report.rows
    return report


# ------------------------------------------------------------------ fixtures

PEOPLE = {
    # email: (phone, channels opted out of before, consent on email)
    "plain@school.sch.uk": (None, [], False),
    "consented@school.sch.uk": (None, [], True),
    "already@school.sch.uk": (None, ["email"], False),
    "nearly@school.sch.uk": ("+441632960001", ["sms", "phone", "online"], False),
    "online@school.sch.uk": (None, ["online"], False),
    "texts@school.sch.uk": ("+441632960002", ["sms"], False),
    "untouched@school.sch.uk": (None, [], False),
}
UNKNOWN_NEW = "stranger@elsewhere.org"
UNKNOWN_SUPPRESSED = "blocked@elsewhere.org"
UNKNOWN_SMS_ONLY = "smsonly@elsewhere.org"
FILE_LINES = [
    "Email Address,First Name",
    "plain@school.sch.uk,P",
    "Consented@School.sch.uk,C",
    "already@school.sch.uk,A",
    f"{UNKNOWN_NEW},S",
    "nearly@school.sch.uk,N",
    "not-an-email,X",
    f"{UNKNOWN_SUPPRESSED},B",
    "PLAIN@school.sch.uk,dup",
    "online@school.sch.uk,O",
    f"{UNKNOWN_SMS_ONLY},M",
    "texts@school.sch.uk,T",
]


def _populate(ctx: Context) -> None:
    for email, (phone, opted, consent) in PEOPLE.items():
        pid = P.create_prospect(
            ctx, ProspectInput(first_name="Test", last_name=email[:4], email=email, phone=phone)
        ).record.id
        if consent:
            marketing.grant_consent(
                ctx,
                pid,
                "email",
                marketing.ConsentEvidence(
                    "web-form", "Tick box: news", given_at="2026-01-05T10:00:00+00:00"
                ),
            )
        if opted:
            marketing.opt_out(ctx, pid, opted, source="phone", reason="Asked on the phone")
    suppression.suppress(ctx, UNKNOWN_SUPPRESSED, channel="all")
    suppression.suppress(ctx, UNKNOWN_SMS_ONLY, channel="sms")


def _snapshot(db) -> dict:
    """Everything the import may change, by address (digests differ per database)."""
    addresses = [*PEOPLE, UNKNOWN_NEW, UNKNOWN_SUPPRESSED, UNKNOWN_SMS_ONLY]
    addresses += [p for p, *_ in PEOPLE.values() if p]
    with db.read() as session:
        hasher = suppression.Hasher(session)
        by_digest = {hasher(a): a for a in addresses}
        email_of = dict(session.execute(select(Prospect.id, Prospect.email)).all())
        perms = sorted(
            (email_of[r.prospect_id], r.channel, r.opted_out_at is not None, r.opt_out_source,
             r.opt_out_reason, r.consent)
            for r in session.scalars(select(ChannelPermission))
        )  # fmt: skip
        listed = sorted(
            (by_digest.get(r.digest, "?"), r.channel, r.reason, r.kind,
             (r.source or "").replace(f"#{_id(email_of, by_digest.get(r.digest))}", "#P"))
            for r in session.scalars(select(Suppression))
        )  # fmt: skip
        events = Counter(
            (email_of[e.prospect_id], e.action, e.channel, e.details)
            for e in session.scalars(select(ConsentEvent))
        )
        versions = {
            e: v for e, v in session.execute(select(Prospect.email, Prospect.version)).all()
        }
    return {"permissions": perms, "suppression": listed, "events": events, "versions": versions}


def _id(email_of: dict, email: str | None) -> int | None:
    return next((pid for pid, e in email_of.items() if e == email), None)


def _counts(report: email_sync.SyncReport) -> tuple:
    return (report.rows, report.matched, report.already_opted_out, report.new,
            report.already_suppressed, report.duplicates, report.invalid)  # fmt: skip


# --------------------------------------------------------------------- tests


def test_bulk_import_gives_exactly_what_the_per_line_rule_gave(tmp_path):
    path = tmp_path / "unsubscribed.csv"
    path.write_text("\n".join(FILE_LINES) + "\n", encoding="utf-8")
    results = {}
    for name in ("per-line", "bulk"):
        db = open_database(tmp_path / f"{name}.db", create=True)
        ctx = Context(db, user="alice")
        _populate(ctx)
        if name == "per-line":
            report = _per_line_import(ctx, path)
        else:
            # Batches of 3: the rule must hold across batch boundaries too.
            report = email_sync.import_unsubscribes(ctx, path, batch_size=3)
        results[name] = (_counts(report), _snapshot(db))
        db.dispose()
    old, new = results["per-line"], results["bulk"]
    assert new[0] == old[0] == (11, 5, 1, 2, 1, 1, 1)
    for part in ("permissions", "suppression", "events", "versions"):
        assert new[1][part] == old[1][part], part
    # The person who is now opted out of everything is suppressed for all channels.
    assert ("nearly@school.sch.uk", ALL, "opt-out", "email", "prospect #P") in new[1]["suppression"]


def _file(tmp_path, emails: list[str]):
    path = tmp_path / "unsubscribed.txt"
    path.write_text("\n".join(emails) + "\n", encoding="utf-8")
    return path


def _opted_out_of_email(db) -> dict[str, int]:
    """Email -> how many 'opted-out' ledger events for email it has."""
    with db.read() as session:
        rows = session.execute(
            select(Prospect.email, ConsentEvent.id)
            .join(ConsentEvent, ConsentEvent.prospect_id == Prospect.id)
            .where(ConsentEvent.action == "opted-out", ConsentEvent.channel == "email")
        ).all()
        perms = {
            e
            for (e,) in session.execute(
                select(Prospect.email)
                .join(ChannelPermission, ChannelPermission.prospect_id == Prospect.id)
                .where(ChannelPermission.channel == "email")
                .where(ChannelPermission.opted_out_at.is_not(None))
            )
        }
    counted = Counter(e for e, _ in rows)
    assert set(counted) == perms  # state and ledger agree
    return dict(counted)


def test_a_cancel_keeps_whole_batches_and_the_rerun_finishes(ctx, tmp_path):
    people = [f"p{i}@school.sch.uk" for i in range(12)]
    for email in people:
        P.create_prospect(ctx, ProspectInput(first_name="P", last_name=email[:3], email=email))
    strangers = [f"s{i}@elsewhere.org" for i in range(13)]
    lines = [x for pair in zip(people, strangers, strict=False) for x in pair] + strangers[12:]
    path = _file(tmp_path, lines)
    checks = []

    def cancel_after_two_batches() -> bool:
        checks.append(1)
        return len(checks) >= 2

    first = email_sync.import_unsubscribes(
        ctx, path, batch_size=5, should_cancel=cancel_after_two_batches
    )
    assert first.cancelled and first.rows == 25 and first.applied == 10
    assert first.matched == 5 and first.new == 5 and first.remaining == 15
    done = _opted_out_of_email(ctx.db)
    assert sorted(done) == sorted(people[:5]) and set(done.values()) == {1}
    with ctx.db.read() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "unsubscribes.imported")
        ).all()
    assert [json.loads(e.values)["batch"] for e in entries] == [1, 2]
    assert sum(len(json.loads(e.values)["prospects"]) for e in entries) == 5
    assert not suppression.lookup(ctx, strangers[6])
    assert suppression.lookup(ctx, strangers[4])

    second = email_sync.import_unsubscribes(ctx, path, batch_size=5)
    assert not second.cancelled and second.applied == second.rows == 25
    assert (second.matched, second.already_opted_out) == (7, 5)
    assert (second.new, second.already_suppressed) == (8, 5)
    # Everyone once: nothing applied twice, nothing missed.
    assert _opted_out_of_email(ctx.db) == {e: 1 for e in people}
    assert all(suppression.lookup(ctx, s) for s in strangers)


IMPORTER = textwrap.dedent(
    """
    import inspect, os, sys, time
    from crm_desktop.persistence import open_database
    from crm_desktop.services import Context, audit, email_sync
    url, path, stop = sys.argv[1], sys.argv[2], sys.argv[3]
    record = audit.record

    def slow_record(session, actor, action, *args, **kwargs):
        entry = record(session, actor, action, *args, **kwargs)
        if action == "unsubscribes.imported":
            time.sleep(0.8)  # a batch that holds the write lock for most of a second
        return entry

    audit.record = slow_record
    ctx = Context(open_database(url), "importer")
    def progress(done, total):
        print(f"progress {done}", flush=True)
    options = {"progress": progress, "should_cancel": lambda: os.path.exists(stop)}
    if "batch_size" in inspect.signature(email_sync.import_unsubscribes).parameters:
        options["batch_size"] = 100
    report = email_sync.import_unsubscribes(ctx, path, **options)
    print("finished", report.applied, report.rows, flush=True)
    """
)


def _crm(url: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "crm_desktop.cli", *args, "--db", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ),
    )


def test_an_opt_out_succeeds_while_an_import_runs_in_another_process(ctx, tmp_path):
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Asks", last_name="Now", email="asks.now@school.sch.uk")
    ).record.id
    P.create_prospect(ctx, ProspectInput(first_name="In", last_name="File", email="in@file.org"))
    users.ensure_owner(ctx.db)
    path = _file(tmp_path, ["in@file.org"] + [f"u{i}@bulk.org" for i in range(4000)])
    stop = tmp_path / "stop"
    importer = subprocess.Popen(
        [sys.executable, "-c", IMPORTER, ctx.db.url, str(path), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = importer.stdout.readline()
        assert line.startswith("progress"), importer.stderr.read()
        opt = _crm(ctx.db.url, "opt-out", str(pid), "--reason", "Phoned to say stop")
        out, err = opt.communicate(timeout=120)
        running = importer.poll() is None
        assert opt.returncode == 0, err
        assert "Opted" in out and "every channel" in out
        assert running  # saved while the import was still going on
    finally:
        stop.touch()
        out, err = importer.communicate(timeout=120)
    assert importer.returncode == 0, err
    view = marketing.marketing_view(ctx, pid)
    assert all(c.opted_out for c in view.channels)
    assert suppression.lookup(ctx, "asks.now@school.sch.uk")
    finished = out.strip().splitlines()[-1].split()
    assert finished[0] == "finished" and int(finished[1]) < int(finished[2])  # cancelled
    assert _opted_out_of_email(ctx.db)["in@file.org"] == 1


HOLDER = textwrap.dedent(
    """
    import sys
    from crm_desktop.domain.models import Prospect
    from crm_desktop.persistence import open_database
    from crm_desktop.services import Context, audit
    url, pid = sys.argv[1], int(sys.argv[2])
    ctx = Context(open_database(url), "writer")
    with ctx.db.transaction() as session:
        session.get(Prospect, pid).version += 1
        audit.record(session, "writer", "test.holding", "prospect", pid, {"n": 1})
        session.flush()
        print("holding", flush=True)
        sys.stdin.readline()
    """
)


def test_an_opt_out_that_cannot_be_written_says_so_plainly(ctx):
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Kept", last_name="Waiting", email="kept@school.sch.uk")
    ).record.id
    users.ensure_owner(ctx.db)  # as every database opened once has its owner
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, ctx.db.url, str(pid)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding", holder.stderr.read()
        opt = _crm(ctx.db.url, "opt-out", str(pid), "--channel", "email")
        out, err = opt.communicate(timeout=120)
        assert holder.poll() is None
    finally:
        holder.stdin.write("done\n")
        holder.stdin.flush()
        holder.communicate(timeout=60)
    assert opt.returncode == 1 and out == ""
    assert "NOT SAVED: the opt-out of Kept Waiting <kept@school.sch.uk>" in err
    assert "busy" in err and "run the same command again" in err
    assert "Traceback" not in err
    assert not any(c.opted_out for c in marketing.marketing_view(ctx, pid).channels)


@pytest.mark.parametrize("lines", [0, 1])
def test_an_empty_or_tiny_file_still_records_the_import(ctx, tmp_path, lines):
    path = _file(tmp_path, [f"x{i}@y.org" for i in range(lines)])
    report = email_sync.import_unsubscribes(ctx, path)
    assert (report.rows, report.new, report.applied, report.cancelled) == (
        lines,
        lines,
        lines,
        False,
    )
    with ctx.db.read() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "unsubscribes.imported")
        ).one()
    assert json.loads(entry.values)["new"] == lines
