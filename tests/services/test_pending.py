"""Opt-outs kept while the database was busy are written on the next start, once."""

from __future__ import annotations

import stat
from datetime import UTC, datetime

from sqlalchemy import select

from crm_desktop.domain.models import ConsentEvent
from crm_desktop.domain.validation import ProspectInput
from crm_desktop.services import marketing, pending, recovery, users
from crm_desktop.services import prospects as P

ASKED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _kept(ctx, pid: int, channels="all", kind=pending.OPT_OUT) -> pending.Pending:
    item = pending.Pending(
        kind=kind, user="alice", role="admin", asked_at=ASKED.isoformat(), prospect_id=pid,
        prospect_name="Ada Lovelace", channels=channels, source="phone", reason="Rang",
        error="The database is busy",
    )  # fmt: skip
    pending.keep(ctx.db, item)
    return item


def _events(ctx, pid: int) -> list[tuple[str, str | None]]:
    with ctx.db.read() as session:
        return [
            (e.action, e.channel)
            for e in session.scalars(select(ConsentEvent).where(ConsentEvent.prospect_id == pid))
        ]


def test_the_next_start_writes_a_kept_opt_out_dated_when_it_was_asked_for(ctx):
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Ada", last_name="Lovelace", email="ada@oak.sch.uk")
    ).record.id
    item = _kept(ctx, pid, ["email", "sms"])
    [path] = list(pending.folder(ctx.db).glob("*.json"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    [sentence] = recovery.recover(ctx)
    assert sentence.startswith(f"Saved the opt-out of Ada Lovelace (#{pid}) from email, sms")
    assert pending.count(ctx.db) == 0
    view = marketing.marketing_view(ctx, pid)
    chosen = {c.channel: c for c in view.channels}
    assert chosen["email"].opted_out and chosen["sms"].opted_out
    assert not chosen["phone"].opted_out
    assert chosen["email"].opted_out_at == ASKED and chosen["email"].opt_out_reason == "Rang"
    # Another program retrying the same kept opt-out writes nothing more.
    pending.keep(ctx.db, item)
    assert "Saved" in pending.write(ctx, item)
    assert _events(ctx, pid) == [("opted-out", "email"), ("opted-out", "sms")]
    # Nothing kept: the start-up step does nothing (and takes no write lock).
    assert recovery.recover(ctx) == []


def test_a_kept_objection_and_a_kept_sign_in_are_written_too(ctx):
    owner = users.single_user_context(ctx.db)
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Ada", last_name="Lovelace", email="ada@oak.sch.uk")
    ).record.id
    _kept(ctx, pid, kind=pending.OBJECTION)
    sign_in = pending.Pending(pending.SIGN_IN, owner.user, "admin", ASKED.isoformat())
    pending.keep(ctx.db, sign_in)
    done = recovery.recover(ctx)
    assert len(done) == 2 and pending.count(ctx.db) == 0
    assert ("objected", None) in _events(ctx, pid)
    assert all(c.opted_out for c in marketing.marketing_view(ctx, pid).channels)
    [user] = [u for u in users.list_users(owner) if u.username == owner.user]
    assert user.last_sign_in_at == ASKED


def test_a_kept_opt_out_of_someone_deleted_meanwhile_is_reported_not_retried(ctx):
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Gone", last_name="Away", email="gone@oak.sch.uk")
    ).record.id
    _kept(ctx, pid)
    P.delete_prospect(ctx, pid)
    [sentence] = recovery.recover(ctx)
    assert "could not be saved" in sentence and "deleted" in sentence
    assert pending.count(ctx.db) == 0
