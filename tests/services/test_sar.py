"""The subject access pack: every item the issue lists, its JSON file, audit entry and refusals.

A prospect with a full history is built through the services (school,
interests, source, correspondence with follow-ups, legitimate interest with
an assessment, consent with evidence on email, an opt-out on SMS, an export
they were in, a suppression entry); the pack must hold each item with its
value, not merely a key of that name.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import stat
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from crm_desktop.domain.roles import Role
from crm_desktop.domain.validation import (
    ContactInput,
    ProspectInput,
    SchoolInput,
    ValidationError,
)
from crm_desktop.errors import Cancelled, CrmError, NotFoundError, NotPermittedError
from crm_desktop.services import Context, audit, sar, settings
from crm_desktop.services import assessments as A
from crm_desktop.services import correspondence as C
from crm_desktop.services import exports as E
from crm_desktop.services import marketing as M
from crm_desktop.services import prospects as P
from crm_desktop.services import schools as S
from crm_desktop.services import suppression as SU

TESTS = Path(__file__).resolve().parent.parent
TOP_LEVEL_KEYS = {
    "format_version", "kind", "generated_at", "generated_by", "introduction", "subject",
    "school", "interests", "source", "categories", "purposes", "lawful_basis",
    "marketing_permissions", "consent_history", "correspondence", "exports", "suppression",
    "recipients", "processors", "international_transfers", "retention",
    "automated_decisions", "rights", "how_to_exercise_rights", "complaint", "processing_log",
    "controller", "requests",
}  # fmt: skip
CONTROLLER = {
    "name": "Acme Learning Ltd", "address": "1 Park Row\nLeeds LS1 5AB",
    "email": "privacy@acme-learning.co.uk", "dpo_name": "Priya Shah",
}  # fmt: skip


@pytest.fixture(autouse=True)
def controller(ctx):
    """The controller's details an admin sets once; a pack is refused without them."""
    return settings.set_controller(ctx, **CONTROLLER)


def sar_entries(ctx, prospect_id):
    """The audit entries recording packs made for this person (other changes are audited too)."""
    return [
        e
        for e in audit.entries(ctx, entity="prospect", entity_id=prospect_id)
        if e.action == "sar.created"
    ]


def _iso(value):
    return value.isoformat() if value is not None else None


@pytest.fixture
def person(ctx, tmp_path):
    """Jane Smith with a full history; returns a dict of what was recorded."""
    school = S.create_school(
        ctx,
        SchoolInput(
            name="Oakfield Primary", urn="123456", phase="primary", local_authority="Leeds",
            postcode="LS1 4AP", phone="0113 496 0000", website="https://oakfield.sch.uk",
        ),
    ).record  # fmt: skip
    view = P.create_prospect(
        ctx,
        ProspectInput(
            first_name="Jane", last_name="Smith", email="jane.smith@oakfield.sch.uk",
            phone="07700 900123", school_id=school.id, role="SENCo",
            interests=["SEND support", "Assessment tracking"], stage="demo-booked",
            source="event", source_detail="BETT 2026 stand, badge scan", source_date="2026-01-22",
        ),
    ).record  # fmt: skip
    pid = view.id
    now = datetime.now().astimezone()
    first = C.log_contact(
        ctx, pid,
        ContactInput(kind="call", subject="Intro call", summary="Talked about SEND.\nWants a demo.",
                     occurred_at=now - timedelta(days=3), follow_up_on="2026-01-30"),
    )  # fmt: skip
    C.complete_followup(ctx, first.id)
    second = C.log_contact(
        ctx, pid,
        ContactInput(kind="email-out", summary="Sent the brochure",
                     occurred_at=now - timedelta(days=1), follow_up_on="2099-12-01"),
    )  # fmt: skip
    assessment = A.create_assessment(
        ctx, "School outreach 2026", purpose="Tell school leaders about our SEND tools.",
        necessity="Email is the practical way to reach them.",
        balancing="Work addresses, relevant to their role, easy to opt out.",
    )  # fmt: skip
    M.set_lawful_basis(
        ctx, pid, "legitimate-interest", li_assessment_id=assessment.id, note="Head of SEND"
    )
    M.grant_consent(
        ctx, pid, "email",
        M.ConsentEvidence("web-form", "Ticked 'send me news' on the BETT form",
                          policy_version="2025-09"),
    )  # fmt: skip
    M.opt_out(ctx, pid, "sms", source="phone", reason="Does not want texts")
    record = E.run_export(
        ctx, E.ExportRequest("email", "Spring term", purpose="Term news"), tmp_path / "spring.csv"
    )
    SU.suppress(ctx, "jane.smith@oakfield.sch.uk", channel="online", source="Asked on the phone")
    return {
        "id": pid,
        "school": school,
        "assessment": assessment,
        "contacts": [C.list_correspondence(ctx, pid)[1], C.list_correspondence(ctx, pid)[0]],
        "second": second,
        "export": record,
        "view": P.get_prospect(ctx, pid),
    }


def test_pack_holds_every_item_with_its_value(ctx, person):
    pid, view = person["id"], person["view"]
    pack = sar.build_pack(ctx, pid)
    assert set(pack) == TOP_LEVEL_KEYS
    assert pack["format_version"] == sar.FORMAT_VERSION == 3
    assert pack["controller"] == {**CONTROLLER, "dpo_email": None}
    assert pack["kind"] == "subject-access-pack" and pack["generated_by"] == "alice"
    made = datetime.fromisoformat(pack["generated_at"])
    assert made.utcoffset() == timedelta(0)
    assert abs((datetime.now().astimezone() - made).total_seconds()) < 60

    assert pack["subject"] == {
        "id": pid, "first_name": "Jane", "last_name": "Smith",
        "email": "jane.smith@oakfield.sch.uk", "phone": "+447700900123", "role": "SENCo",
        "stage": "demo-booked", "owner": "alice",
        "created_at": view.created_at.isoformat(), "updated_at": view.updated_at.isoformat(),
        "last_contact_at": view.last_contact_at.isoformat(),
        "next_follow_up": "2099-12-01",
        "subscriber_type": "corporate", "subscriber_type_inferred": True,
        "personalisation_refused": False,
        "erased_at": None, "restricted_at": None, "restriction_reason": None,
        "other_emails": [], "other_phones": [],
    }  # fmt: skip
    assert pack["school"] == {
        "id": person["school"].id, "name": "Oakfield Primary", "urn": "123456",
        "phase": "primary", "local_authority": "Leeds", "postcode": "LS1 4AP",
        "phone": "+441134960000", "website": "https://oakfield.sch.uk",
    }  # fmt: skip
    assert pack["interests"] == ["Assessment tracking", "SEND support"]
    assert pack["source"] == {
        "source": "event", "detail": "BETT 2026 stand, badge scan", "date": "2026-01-22",
        "imports": [],
    }  # fmt: skip
    assert pack["categories"] == list(sar.CATEGORIES)
    assert pack["purposes"] == list(sar.PURPOSES)

    a = person["assessment"]
    assert pack["lawful_basis"] == {
        "sales_basis": sar.SALES_BASIS,
        "marketing_basis": "legitimate-interest",
        "assessment": {
            "id": a.id, "name": "School outreach 2026",
            "purpose": "Tell school leaders about our SEND tools.",
            "necessity": "Email is the practical way to reach them.",
            "balancing": "Work addresses, relevant to their role, easy to opt out.",
            "created_at": a.created_at.isoformat(),
        },
        "note": "Head of SEND",
    }  # fmt: skip


def test_pack_holds_consent_opt_outs_and_their_history(ctx, person):
    pack = sar.build_pack(ctx, person["id"])
    perms = {c["channel"]: c for c in pack["marketing_permissions"]}
    assert list(perms) == ["email", "sms", "phone", "online"]
    email = perms["email"]
    assert datetime.fromisoformat(email.pop("consent_at"))
    assert email == {
        "channel": "email", "consent": True, "consent_method": "web-form",
        "consent_evidence": "Ticked 'send me news' on the BETT form",
        "consent_policy_version": "2025-09", "consent_given_by": "Jane Smith",
        "consent_recorded_by": "alice", "opted_out": False, "opted_out_at": None,
        "opt_out_source": None, "opt_out_reason": None,
        # The "online" suppression of the email address bars online audiences, not email.
        "may_be_contacted": True, "not_contacted_because": [],
    }  # fmt: skip
    sms = perms["sms"]
    assert datetime.fromisoformat(sms.pop("opted_out_at"))
    assert sms == {
        "channel": "sms", "consent": False, "consent_at": None, "consent_method": None,
        "consent_evidence": None, "consent_policy_version": None, "consent_given_by": None,
        "consent_recorded_by": None, "opted_out": True, "opt_out_source": "phone",
        "opt_out_reason": "Does not want texts", "may_be_contacted": False,
        "not_contacted_because": ["opted-out", "suppressed"],
    }  # fmt: skip
    assert perms["online"]["not_contacted_because"] == ["suppressed"]
    assert perms["phone"]["may_be_contacted"] is True

    history = pack["consent_history"]
    assert [(e["action"], e["channel"], e["recorded_by"]) for e in history] == [
        ("basis-set", None, "alice"),
        ("consent-granted", "email", "alice"),
        ("opted-out", "sms", "alice"),
    ]
    assert history[0]["details"] == {
        "old": "none", "new": "legitimate-interest",
        "assessment_id": person["assessment"].id, "note": "Head of SEND",
    }  # fmt: skip
    assert history[1]["details"]["wording"] == "Ticked 'send me news' on the BETT form"
    assert history[1]["details"]["method"] == "web-form"
    assert history[2]["details"] == {"source": "phone", "reason": "Does not want texts"}
    assert [e["id"] for e in history] == sorted(e["id"] for e in history)
    assert all(datetime.fromisoformat(e["at"]) for e in history)


def test_pack_holds_correspondence_exports_and_suppression(ctx, person):
    pack = sar.build_pack(ctx, person["id"])
    first, second = person["contacts"]
    assert pack["correspondence"] == [
        {
            "id": c.id, "occurred_at": c.occurred_at.isoformat(), "kind": c.kind,
            "subject": c.subject, "summary": c.summary, "logged_by": "alice",
            "follow_up_on": _iso(c.follow_up_on), "follow_up_done_at": _iso(c.follow_up_done_at),
        }
        for c in (first, second)
    ]  # fmt: skip
    assert first.kind == "call" and first.summary == "Talked about SEND.\nWants a demo."
    assert first.follow_up_done_at is not None and second.follow_up_on == date(2099, 12, 1)

    record = person["export"]
    assert pack["exports"] == [
        {
            "id": record.id, "date": record.created_at.isoformat(), "campaign": "Spring term",
            "channel": "email", "purpose": "Term news", "personalised": False, "format": "csv",
        }
    ]  # fmt: skip
    assert [x["id"] for x in pack["exports"]] == [
        r.id for r in E.exports_for_prospect(ctx, person["id"])
    ]

    sup = pack["suppression"]
    assert sup["suppressed"] is True and sup["channels"] == ["online", "sms"]
    entries = [{k: v for k, v in e.items() if k != "created_at"} for e in sup["entries"]]
    assert entries == [
        {"address": "phone", "channel": "sms", "reason": "opt-out",
         "source": f"prospect #{person['id']}"},
        {"address": "email", "channel": "online", "reason": "manual",
         "source": "Asked on the phone"},
    ]  # fmt: skip
    assert "hash" in sup["explanation"]


def test_pack_holds_recipients_retention_and_rights(ctx, person):
    pack = sar.build_pack(ctx, person["id"])
    assert pack["recipients"] == list(sar.RECIPIENTS)
    assert any("sales and marketing staff" in r for r in pack["recipients"])
    names = [p["name"] for p in pack["processors"]]
    assert any("Mailchimp" in n for n in names) and any("Hosting" in n for n in names)
    assert any("Backup" in n for n in names)
    assert pack["international_transfers"] == sar.TRANSFERS

    last = person["view"].last_contact_at.date()
    assert pack["retention"] == {
        "rule": sar.RETENTION_RULE,
        "months_without_contact": 24,
        "counted_from": last.isoformat(),
        "counted_from_event": "last contact",
        "review_due": sar.add_months(last, 24).isoformat(),
        "suppression_list": sar.RETENTION_SUPPRESSION,
        "campaign_records": sar.RETENTION_EXPORTS,
    }
    assert "24 months without contact" in pack["retention"]["rule"]
    assert pack["automated_decisions"] == sar.AUTOMATED_DECISIONS

    assert [r["right"] for r in pack["rights"]] == [
        "access", "rectification", "erasure", "restriction", "objection", "portability",
        "withdraw-consent",
    ]  # fmt: skip
    assert all(r["title"] and r["text"] for r in pack["rights"])
    assert pack["complaint"]["organisation"] == "Information Commissioner's Office (ICO)"
    assert pack["complaint"]["phone"] == "0303 123 1113"
    assert pack["complaint"]["website"] == "https://ico.org.uk"
    # Every audit-trail entry about their record, oldest first, values and all.
    trail = list(reversed(audit.entries(ctx, entity="prospect", entity_id=person["id"])))
    assert [
        (e["action"], e["actor"], e["values"], e["reason"]) for e in pack["processing_log"]
    ] == [(e.action, e.actor, e.values, e.reason) for e in trail]
    assert [e["at"] for e in pack["processing_log"]] == [e.at.isoformat() for e in trail]


def test_a_bare_prospect_gives_empty_sections(ctx):
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Bo", last_name="Bare", phone="01632 960001")
    ).record.id
    pack = sar.build_pack(ctx, pid)
    assert pack["school"] is None and pack["interests"] == []
    assert pack["source"] == {"source": None, "detail": None, "date": None, "imports": []}
    assert pack["correspondence"] == pack["exports"] == pack["consent_history"] == []
    assert pack["suppression"]["suppressed"] is False and pack["suppression"]["entries"] == []
    assert pack["lawful_basis"]["marketing_basis"] == "none"
    assert pack["lawful_basis"]["assessment"] is None
    assert pack["retention"]["counted_from_event"] == "record created"
    assert all(not c["may_be_contacted"] for c in pack["marketing_permissions"])


def test_add_months_keeps_to_the_calendar():
    assert sar.add_months(date(2024, 2, 29), 24) == date(2026, 2, 28)
    assert sar.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert sar.add_months(date(2025, 11, 15), 24) == date(2027, 11, 15)
    assert sar.add_months(date(2025, 12, 1), 1) == date(2026, 1, 1)


def test_json_file_is_utf8_round_trips_and_is_recorded(ctx, person, tmp_path):
    P.update_prospect(
        ctx, person["id"],
        ProspectInput(first_name="Zoë", last_name="Ōkubo-Ñúñez", email="jane.smith@oakfield.sch.uk"),
    )  # fmt: skip
    before = sar.build_pack(ctx, person["id"])
    out = sar.write_json(ctx, person["id"], tmp_path / "pack.json")
    assert out == tmp_path / "pack.json"
    raw = out.read_bytes()
    assert "Zoë".encode() in raw and "Ōkubo-Ñúñez".encode() in raw  # not \u escapes
    loaded = json.loads(raw.decode("utf-8"))
    assert {k: v for k, v in loaded.items() if k != "generated_at"} == {
        k: v for k, v in before.items() if k != "generated_at"
    }
    assert sar.pack_json(loaded) == raw  # stable: sorted keys, same bytes again
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".pack.json")]

    [entry] = sar_entries(ctx, person["id"])
    assert (entry.action, entry.actor, entry.entity_id) == (
        "sar.created",
        "alice",
        str(person["id"]),
    )
    assert entry.values == {"format": "json", "file": "pack.json"}
    assert audit.verify(ctx).ok
    # The next pack tells the person about this one.
    logged = sar.build_pack(ctx, person["id"])["processing_log"][-1]
    assert logged["action"] == "sar.created" and logged["values"] == entry.values


@pytest.mark.parametrize("role", [Role.SALES, Role.MARKETING])
def test_sales_and_marketing_are_refused(ctx, person, tmp_path, role):
    other = Context(ctx.db, user="sam", role=role)
    with pytest.raises(NotPermittedError, match="handle data-subject requests"):
        sar.build_pack(other, person["id"])
    with pytest.raises(NotPermittedError):
        sar.write_json(other, person["id"], tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()
    assert sar_entries(ctx, person["id"]) == []


def test_managers_may(ctx, person, tmp_path):
    manager = Context(ctx.db, user="mo", role=Role.MANAGER)
    sar.write_json(manager, person["id"], tmp_path / "m.json")
    [entry] = sar_entries(ctx, person["id"])
    assert entry.actor == "mo"


def test_an_existing_file_is_refused_and_left_untouched(ctx, person, tmp_path):
    target = tmp_path / "pack.json"
    target.write_bytes(b"someone else's file")
    with pytest.raises(CrmError, match="already exists"):
        sar.write_json(ctx, person["id"], target)
    assert target.read_bytes() == b"someone else's file"
    assert sar_entries(ctx, person["id"]) == []


def test_cancel_or_failure_leaves_no_file_and_no_record(ctx, person, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "pack.json"
    with pytest.raises(Cancelled):
        sar.write_json(ctx, person["id"], target, should_cancel=lambda: True)

    def broken(pack, tmp, progress, should_cancel):
        tmp.write_bytes(b"half a pa")
        raise RuntimeError("renderer bug")

    with pytest.raises(RuntimeError):
        sar.write_pack(ctx, person["id"], target, "pdf", broken)
    assert list(folder.iterdir()) == []
    assert sar_entries(ctx, person["id"]) == []


def test_unknown_prospect(ctx, tmp_path):
    with pytest.raises(NotFoundError):
        sar.write_json(ctx, 999, tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


def blns_lines() -> list[str]:
    """``tests/conftest.py``'s naughty strings (loaded by path: every folder has a conftest)."""
    spec = importlib.util.spec_from_file_location("_crm_root_conftest", TESTS / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.blns_lines()


def test_naughty_strings_survive_the_json(ctx, tmp_path):
    lines = blns_lines()
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="N", last_name="Aughty", email="n@oak.sch.uk")
    ).record.id
    named = []
    for n, line in enumerate(lines):
        # Lines validation refuses (control characters, blank) are simply not stored.
        with contextlib.suppress(ValidationError):
            C.log_contact(ctx, pid, ContactInput(kind="note", subject=line[:200], summary=line))
        with contextlib.suppress(ValidationError):
            data = ProspectInput(first_name=line[:100], last_name=line[-100:], email=f"{n}@x.org")
            named.append(P.create_prospect(ctx, data).record)
    stored = [c.summary for c in reversed(C.list_correspondence(ctx, pid))]
    assert len(stored) > 400 and len(named) > 400
    out = sar.write_json(ctx, pid, tmp_path / "naughty.json")
    loaded = json.loads(out.read_bytes().decode("utf-8"))
    assert [c["summary"] for c in loaded["correspondence"]] == stored
    for view in named:
        pack = json.loads(sar.pack_json(sar.build_pack(ctx, view.id)).decode("utf-8"))
        assert (pack["subject"]["first_name"], pack["subject"]["last_name"]) == (
            view.first_name,
            view.last_name,
        )


# ------------------------------------------- issue 10 item 14: controller, requests, staff


def test_no_pack_until_the_controller_is_set_and_it_says_what_is_missing(ctx, person, tmp_path):
    settings.set_controller(ctx, address=None, dpo_name="")
    out = tmp_path / "pack.json"
    with pytest.raises(settings.ControllerNotSetError) as caught:
        sar.write_json(ctx, person["id"], out)
    message = str(caught.value)
    assert "not set yet: Company address, Data protection officer." in message
    assert "File > Settings" in message
    assert 'crm settings set --controller-address "…" --dpo-name "…"' in message
    assert not out.exists() and sar_entries(ctx, person["id"]) == []
    settings.set_controller(ctx, address="1 Park Row\nLeeds", dpo_name="Priya Shah")
    assert sar.write_json(ctx, person["id"], out) == out


def test_controller_settings_are_admin_only_validated_and_audited(ctx):
    with pytest.raises(NotPermittedError):
        settings.set_controller(Context(ctx.db, "mo", Role.MANAGER), name="Other Ltd")
    with pytest.raises(ValidationError) as caught:
        settings.set_controller(ctx, email="not an address", dpo_email="x@", name="A\x00B")
    assert set(caught.value.errors) == {"email", "dpo_email", "name"}
    assert settings.get_controller(ctx).email == CONTROLLER["email"]  # nothing half-saved
    settings.set_controller(ctx, email="dpo@acme-learning.co.uk")
    change = audit.entries(ctx, entity="setting", entity_id="controller.email")[0]
    assert change.values == {
        "value": {"old": CONTROLLER["email"], "new": "dpo@acme-learning.co.uk"}
    }


def test_pack_lists_every_export_and_request_the_history_shows(ctx, person, tmp_path):
    from crm_desktop.services import history
    from crm_desktop.services import requests as RQ

    pid = person["id"]
    E.run_export(ctx, E.ExportRequest("email", "Autumn term"), tmp_path / "autumn.csv")
    access = RQ.add_request(ctx, "access", prospect_ref=pid, identity_verified=True)
    objection = RQ.add_request(ctx, "objection", prospect_ref=pid)
    RQ.close_request(ctx, objection.id, "Opted out of everything")
    sar.write_json(ctx, pid, tmp_path / "for-request.json", request_id=access.id)
    pack = sar.build_pack(ctx, pid)
    events = history.history(ctx, pid, kinds=["export", "request"])
    exported = {int(e.title.split("#")[1].split(":")[0]) for e in events if e.kind == "export"}
    asked = {int(e.title.split("#")[1].split()[0]) for e in events if " request #" in e.title}
    assert len(exported) == 2 and {x["id"] for x in pack["exports"]} == exported
    assert asked == {access.id, objection.id}
    assert {r["id"] for r in pack["requests"]} == asked
    made = next(r for r in pack["requests"] if r["id"] == access.id)
    assert made["status"] == "in-progress"
    assert [(a["action"], a["values"]["file"]) for a in made["actions"]] == [
        ("pack-made", "for-request.json")
    ]
    closed = next(r for r in pack["requests"] if r["id"] == objection.id)
    assert (closed["status"], closed["outcome"]) == ("completed", "Opted out of everything")


def test_pack_names_staff_by_display_name_not_login(ctx, person):
    from crm_desktop.domain.models import User
    from crm_desktop.domain.types import utcnow

    with ctx.db.transaction() as session:
        session.add(User(username="alice", display_name="Alice Walker", role="admin",
                         created_at=utcnow()))  # fmt: skip
    pack = sar.build_pack(ctx, person["id"])
    assert pack["generated_by"] == "Alice Walker"
    assert pack["subject"]["owner"] == "Alice Walker"
    assert {c["logged_by"] for c in pack["correspondence"]} == {"Alice Walker"}
    assert {e["recorded_by"] for e in pack["consent_history"]} == {"Alice Walker"}
    assert {e["actor"] for e in pack["processing_log"]} == {"Alice Walker"}
    assert '"alice"' not in json.dumps(pack)  # not even as the owner in an audited edit


def test_a_pack_for_a_request_about_someone_else_or_closed_is_refused(ctx, person, tmp_path):
    from crm_desktop.services import requests as RQ

    other = P.create_prospect(
        ctx, ProspectInput(first_name="Al", last_name="B", email="al@b.org")
    ).record.id
    theirs = RQ.add_request(ctx, "access", prospect_ref=other)
    with pytest.raises(CrmError, match="is about prospect"):
        sar.write_json(ctx, person["id"], tmp_path / "x.json", request_id=theirs.id)
    RQ.close_request(ctx, theirs.id, "Withdrawn", refused=True)
    with pytest.raises(CrmError, match="is closed"):
        sar.write_json(ctx, other, tmp_path / "x.json", request_id=theirs.id)
    assert not (tmp_path / "x.json").exists()
