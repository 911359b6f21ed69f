"""One wording for the consent ledger, read by the panel, the history and the pack."""

from __future__ import annotations

from datetime import UTC, datetime

from crm_desktop.domain.consent_wording import TITLES, Fact, action_title, event_facts
from crm_desktop.domain.dates import format_datetime

GIVEN_AT = datetime(2026, 3, 7, 14, 30, tzinfo=UTC)


def test_every_action_has_one_title_and_unknown_ones_read_as_words():
    assert action_title("consent-granted") == "Consent given"
    assert action_title("objected") == "Objected to direct marketing"
    assert action_title("basis-set") == "Lawful basis set"
    assert action_title("some-new-thing") == "Some new thing"
    assert len(set(TITLES.values())) == len(TITLES)


def test_consent_granted_facts_in_order_for_staff_and_for_the_person():
    details = {
        "method": "web-form", "given_by": "Jane Smith", "given_at": GIVEN_AT.isoformat(),
        "policy_version": "v2", "wording": "Tick to hear from us",
    }  # fmt: skip
    staff = event_facts("consent-granted", details)
    assert staff == [
        Fact("How", "Web form"),
        Fact("Given by", "Jane Smith"),
        Fact("Given on", format_datetime(GIVEN_AT)),
        Fact("Privacy notice", "v2"),
        Fact("They were told", "Tick to hear from us", True),
    ]
    subject = event_facts("consent-granted", details, to_subject=True)
    assert subject[-1] == Fact("What you were told", "Tick to hear from us", True)
    assert subject[:-1] == staff[:-1]


def test_opt_out_and_objection_say_how_and_why():
    details = {"source": "phone", "reason": "No texts", "pending_id": "abc"}
    assert event_facts("opted-out", details) == [
        Fact("Source", "Phone"),
        Fact("Reason", "No texts", True),
    ]
    assert event_facts("objected", details, to_subject=True)[0] == Fact("How you told us", "Phone")
    assert event_facts("opted-out", {"source": None, "reason": None}) == []


def test_basis_names_the_assessment_through_the_caller():
    details = {"old": "legitimate-interest", "new": "consent", "assessment_id": 3, "note": "N"}
    assert event_facts("basis-set", details) == [
        Fact("Lawful basis", "Legitimate interest → Consent"),
        Fact("Assessment", "#3"),
        Fact("Note", "N", True),
    ]
    named = event_facts("basis-set", details, assessment_name=lambda i: f"Outreach {i}")
    assert named[1] == Fact("Assessment", "Outreach 3")


def test_subscriber_type_says_who_decided_in_the_reader_s_words():
    inferred = {"old": "corporate", "new": "individual", "inferred": True}
    [fact] = event_facts("subscriber-type-set", inferred)
    assert fact.value.endswith("(inferred from the email domain)")
    [fact] = event_facts("subscriber-type-set", {**inferred, "inferred": False}, to_subject=True)
    assert fact.value.endswith("(set by our staff)")


def test_actions_whose_title_says_it_all_have_no_details():
    assert event_facts("opt-out-lifted", {"by": "explicit opt-in"}) == []
    assert event_facts("personalisation-refused", {}) == []
    assert event_facts("future-action", {"some_key": "x", "empty": None}) == [Fact("Some key", "x")]
