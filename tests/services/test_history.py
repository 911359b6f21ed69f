"""One prospect's merged history: every kind once, edits old -> new, filters, roles."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from history_support import build_full_history

from crm_desktop.domain.roles import Role
from crm_desktop.domain.validation import ValidationError
from crm_desktop.errors import NotFoundError, NotPermittedError
from crm_desktop.services import Context, audit
from crm_desktop.services import history as H


@pytest.fixture
def person(ctx, tmp_path):
    return build_full_history(ctx, tmp_path)


def test_every_kind_once_newest_first(ctx, person):
    events = H.history(ctx, person)
    assert {e.kind for e in events} == set(H.KINDS)
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
    titles = Counter(e.title for e in events)
    # The call appears once although the audit trail recorded it too.
    assert titles["Phone call: Intro call"] == 1
    assert not any("correspondence.logged" in e.title for e in events)
    # Consent ledger and consent.* audit entries: shown once each.
    consent = [e.title for e in events if e.kind == "consent"]
    assert consent.count("Consent given (Email)") == 1
    assert consent.count("Opted out (SMS)") == 1
    assert consent.count("Lawful basis set") == 1  # the one wording (domain.consent_wording)
    consent_audit = [
        e for e in audit.entries(ctx, entity="prospect", entity_id=person)
        if e.action.startswith("consent.")
    ]  # fmt: skip
    assert len(consent) == len(consent_audit)
    assert [e.title for e in events if e.kind == "export"] == [
        "In campaign export #1: Spring launch"
    ]
    requests = [e for e in events if e.kind == "request"]
    assert [e.title for e in requests] == ["Subject access request #1 received"]
    edits = [e for e in events if e.kind == "edit"]
    assert [e.title for e in edits] == [
        "Processing restricted", "Record edited", "Record created",
    ]  # fmt: skip
    assert "Reason: Accuracy contested" in edits[0].detail


def test_edit_shows_old_and_new_value(ctx, person):
    edit = next(e for e in H.history(ctx, person) if e.title == "Record edited")
    assert edit.detail == "Job role: Teacher → Headteacher"
    assert edit.actor == "alice"
    created = next(e for e in H.history(ctx, person) if e.title == "Record created")
    assert "Email: hattie.bloom@willow.sch.uk" in created.detail.splitlines()


def test_closed_request_shows_its_outcome(ctx, person):
    from crm_desktop.services import requests as R

    (req,) = R.requests_for_prospect(ctx, person)
    R.update_request(ctx, req.id, identity_verified=True)
    R.close_request(ctx, req.id, "Sent the pack by email")
    titles = [e.title for e in H.history(ctx, person, kinds=["request"])]
    assert len(titles) == 2 and titles[0].endswith("#1 completed")
    closed = H.history(ctx, person, kinds=["request"])[0]
    assert closed.detail == "Outcome: Sent the pack by email"


def test_filter_by_kind_and_date(ctx, person):
    only = H.history(ctx, person, kinds=["edit", "export"])
    assert {e.kind for e in only} == {"edit", "export"}
    assert len(only) == 4
    assert [e.title for e in H.history(ctx, person, kinds=["correspondence"])] == [
        "Phone call: Intro call"
    ]
    today = date.today()
    assert len(H.history(ctx, person, since=today, until=today)) == len(H.history(ctx, person))
    assert H.history(ctx, person, until=today - timedelta(days=1)) == []
    assert H.history(ctx, person, since=today + timedelta(days=1)) == []
    with pytest.raises(ValidationError, match="unknown kind 'gossip'"):
        H.history(ctx, person, kinds=["gossip"])
    with pytest.raises(ValidationError, match="start date is after"):
        H.history(ctx, person, since=today, until=today - timedelta(days=1))


def test_to_dict_is_json_ready(ctx, person):
    d = H.history(ctx, person)[0].to_dict()
    assert set(d) == {"at", "kind", "title", "detail", "actor"}
    assert isinstance(d["at"], str)


@pytest.mark.parametrize("role", [Role.SALES, Role.MARKETING])
def test_refused_without_the_audit_right(ctx, person, role):
    with pytest.raises(NotPermittedError, match="view the audit trail"):
        H.history(Context(ctx.db, user="x", role=role), person)


def test_manager_may_and_unknown_id_is_clear(ctx, person):
    assert H.history(Context(ctx.db, user="m", role=Role.MANAGER), person)
    with pytest.raises(NotFoundError):
        H.history(ctx, 9999)
