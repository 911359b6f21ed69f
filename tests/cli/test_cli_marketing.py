"""crm consent / opt-out / object / basis / subscriber-type / personalisation /
permissions, and crm assessment add / list / show."""

from __future__ import annotations

import pytest
from cli_support import assert_error

EVIDENCE = "Ticked 'Email me about new services' on the web form (v3)"


def _channels(result) -> dict[str, dict]:
    assert result.code == 0, result
    return {c["channel"]: c for c in result.json()["channels"]}


def _permissions(crm, ref: str) -> dict:
    result = crm("permissions", ref, "--json")
    assert result.code == 0, result
    return result.json()


def _emails_exported(crm, tmp_path, channel: str = "email", *options: str) -> set[str]:
    out = tmp_path / f"check-{channel}.csv"
    # Each check writes the same file again: replace it on purpose.
    result = crm(
        "export", f"--channel={channel}", f"--out={out}", "--overwrite", *options, "--json"
    )
    assert result.code == 0, result
    import csv

    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {row["Email"] for row in rows}


@pytest.fixture
def ada(add) -> dict:
    return add("Ada", "Lovelace", email="ada@hilltop.sch.uk", phone="07700 900123")


# ------------------------------------------------------------- consent


def test_consent_records_evidence_and_prints_channel_states(crm, ada):
    result = crm(
        "consent", "ada@hilltop.sch.uk", "--channel=email", "--channel=sms", "--grant",
        f"--evidence={EVIDENCE}", "--method=web form", "--policy-version=3",
        "--at=2026-01-15T10:00", "--json",
    )  # fmt: skip
    channels = _channels(result)
    assert channels["email"]["consent"] and channels["sms"]["consent"]
    assert not channels["phone"]["consent"] and not channels["online"]["consent"]
    assert channels["email"]["consent_method"] == "web-form"
    assert channels["email"]["consent_wording"] == EVIDENCE
    assert channels["email"]["consent_policy_version"] == "3"
    assert channels["email"]["consent_given_by"] == "Ada Lovelace"  # the default
    assert channels["email"]["consent_at"].startswith("2026-01-15")
    assert channels["email"]["may_market"] and channels["email"]["exclusions"] == []
    assert channels["phone"]["exclusions"] == ["no-lawful-basis"]

    history = _permissions(crm, str(ada["id"]))["history"]
    assert [(e["action"], e["channel"]) for e in history] == [
        ("consent-granted", "sms"),
        ("consent-granted", "email"),
    ]
    assert history[0]["details"]["wording"] == EVIDENCE

    people = crm("consent", str(ada["id"]), "--channel=phone", "--grant", "--evidence=Said yes")
    assert people.code == 0, people
    assert "Recorded consent from Ada Lovelace <ada@hilltop.sch.uk> (#1) for Phone." in people.out
    phone_line = next(line for line in people.out.splitlines() if line.startswith("Phone"))
    assert "yes" in phone_line and "(Other)" in phone_line  # the default method


def test_consent_to_all_channels(crm, ada):
    channels = _channels(
        crm("consent", "1", "--channel=all", "--grant", f"--evidence={EVIDENCE}", "--json")
    )
    assert all(c["consent"] for c in channels.values())
    assert len(channels) == 4


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        (["--channel=email", "--grant"], ["--evidence is required"]),
        (["--channel=email", "--grant", "--evidence=   "], ["--evidence is required"]),
        (["--channel=fax", "--grant", f"--evidence={EVIDENCE}"], ["--channel", "'fax'"]),
        (["--channel=email", "--grant", "--evidence=x", "--method=carrier pigeon"], ["--method"]),
        (["--channel=email", "--grant", "--evidence=x", "--at=2999-01-01"], ["--at", "future"]),
        (["--channel=email", "--grant", "--evidence=x", "--at=soon"], ["--at", "'soon'"]),
    ],
)
def test_consent_refusals_store_nothing(crm, ada, options, fragments):
    assert_error(crm("consent", "1", *options), 1, *fragments)
    state = _permissions(crm, "1")
    assert state["history"] == []
    assert not any(c["consent"] for c in state["channels"])


def test_consent_for_an_unknown_person(crm, ada):
    assert_error(
        crm("consent", "nobody@example.com", "--channel=email", "--grant", "--evidence=x"),
        1,
        "No prospect with id or email 'nobody@example.com'",
    )
    assert_error(crm("consent", "99", "--channel=email", "--grant", "--evidence=x"), 1, "99")


def test_consent_needs_grant_and_a_channel(crm, ada):
    assert_error(crm("consent", "1", "--channel=email", "--evidence=x"), 2, "--grant")
    assert_error(crm("consent", "1", "--grant", "--evidence=x"), 2, "--channel")
    assert _permissions(crm, "1")["history"] == []


# -------------------------------------------------- opt-out and stickiness


def test_opt_out_defaults_to_every_channel_and_is_never_refused(crm, add):
    add("Phone", "Only", "--phone=020 7946 0018")  # no email address at all
    channels = _channels(crm("opt-out", "1", "--json"))
    assert all(c["opted_out"] and "opted-out" in c["exclusions"] for c in channels.values())
    assert {c["opt_out_source"] for c in channels.values()} == {"other"}
    again = crm("opt-out", "1", "--source=phone", "--reason=Asked again")
    assert again.code == 0, again
    assert "out of every channel" in again.out
    assert _permissions(crm, "1")["suppressed"] == ["all"]


def test_opt_out_of_one_channel(crm, ada):
    channels = _channels(
        crm("opt-out", "1", "--channel=SMS", "--source=in person", "--reason=At the expo", "--json")
    )
    assert channels["sms"]["opted_out"]
    assert channels["sms"]["opt_out_source"] == "in-person"
    assert channels["sms"]["opt_out_reason"] == "At the expo"
    assert not channels["email"]["opted_out"] and not channels["phone"]["opted_out"]


@pytest.mark.parametrize(
    ("argv", "code", "fragment"),
    [
        (["opt-out", "1", "--channel=fax"], 1, "--channel: 'fax' is not one of"),
        (["opt-out", "1", "--source=pigeon"], 1, "--source: 'pigeon' is not one of"),
        (["opt-out", "1", "--reason=bad\x07bell"], 1, "--reason contains control characters"),
        (["opt-out", "ghost@example.com"], 1, "No prospect"),
        (["object", "1", "--source=pigeon"], 1, "--source"),
        (["object", "42"], 1, "No prospect"),
    ],
)
def test_opt_out_and_object_refusals_store_nothing(crm, ada, argv, code, fragment):
    assert_error(crm(*argv), code, fragment)
    state = _permissions(crm, "1")
    assert state["history"] == [] and state["suppressed"] == []


def test_an_opt_out_sticks_until_consent_with_evidence(crm, ada, tmp_path):
    assert (
        crm("basis", "1", "--legitimate-interest", "--note=Head of a school we sell to").code == 0
    )
    assert _emails_exported(crm, tmp_path) == {"ada@hilltop.sch.uk"}

    assert crm("opt-out", "1", "--channel=email").code == 0
    assert _emails_exported(crm, tmp_path) == set()

    refused = crm("consent", "1", "--channel=email", "--grant")
    assert_error(refused, 1, "--evidence is required")
    assert _emails_exported(crm, tmp_path) == set()
    preview = crm("export", "--channel=email", "--preview", "--json").json()
    assert preview["excluded_by_reason"] == {"opted-out": 1, "suppressed": 1}

    crm("opt-out", "1", "--channel=phone")
    lifting = crm(
        "consent", "1", "--channel=email", "--channel=sms", "--grant", f"--evidence={EVIDENCE}"
    )
    assert lifting.code == 0, lifting
    assert lifting.out.splitlines()[0].endswith(
        "for Email, SMS. This lifts their opt-out from Email."
    )
    lifted = _permissions(crm, "1")["channels"]
    assert [(c["channel"], c["consent"], c["opted_out"]) for c in lifted] == [
        ("email", True, False),
        ("sms", True, False),
        ("phone", False, True),  # an opt-out elsewhere stays
        ("online", False, False),
    ]
    assert _emails_exported(crm, tmp_path) == {"ada@hilltop.sch.uk"}
    actions = [(e["action"], e["channel"]) for e in _permissions(crm, "1")["history"]]
    assert actions[:3] == [
        ("consent-granted", "sms"),
        ("consent-granted", "email"),
        ("opt-out-lifted", "email"),
    ]


def test_object_opts_out_of_everything_and_suppresses(crm, ada, tmp_path):
    crm("consent", "1", "--channel=all", "--grant", f"--evidence={EVIDENCE}")
    result = crm("object", "ada@hilltop.sch.uk", "--source=email reply", "--reason=Stop")
    assert result.code == 0, result
    assert "objection" in result.out and "suppressed" in result.out
    state = _permissions(crm, "1")
    assert all(c["opted_out"] for c in state["channels"])
    assert state["suppressed"] == ["all"]
    assert state["history"][0]["action"] == "objected"
    suppressed = crm("suppressed", "ada@hilltop.sch.uk", "--json")
    assert suppressed.code == 0
    assert [e["reason"] for e in suppressed.json()["entries"]] == ["objection"]
    for channel in ("email", "phone", "online"):
        assert _emails_exported(crm, tmp_path, channel) == set()


# ---------------------------------------------------------------- basis


def test_basis_legitimate_interest_needs_a_note_or_an_assessment(crm, ada):
    refused = crm("basis", "1", "--legitimate-interest")
    assert_error(refused, 1, "--note: legitimate interest needs a written note")
    state = _permissions(crm, "1")
    assert state["lawful_basis"] == "none" and state["history"] == []

    with_note = crm("basis", "1", "--legitimate-interest", "--note=Buys for her school", "--json")
    assert with_note.code == 0, with_note
    assert with_note.json()["lawful_basis"] == "legitimate-interest"
    assert with_note.json()["li_note"] == "Buys for her school"

    assert_error(
        crm("basis", "1", "--legitimate-interest", "--assessment=Nope"),
        1,
        "No legitimate-interest assessment 'Nope'",
    )
    added = crm(
        "assessment", "add", "School outreach", "--purpose=p", "--necessity=n",
        "--balancing=b", "--json",
    )  # fmt: skip
    assert added.code == 0, added
    linked = crm("basis", "1", "--legitimate-interest", "--assessment=school OUTREACH", "--json")
    assert linked.json()["li_assessment_id"] == added.json()["id"]
    assert linked.json()["li_assessment_name"] == "School outreach"
    by_id = crm("basis", "1", "--legitimate-interest", f"--assessment={added.json()['id']}")
    assert by_id.code == 0, by_id

    cleared = crm("basis", "1", "--none", "--json").json()
    assert cleared["lawful_basis"] == "none" and cleared["li_note"] is None
    assert cleared["li_assessment_id"] is None
    consent = crm("basis", "1", "--consent", "--json").json()
    assert consent["lawful_basis"] == "consent"
    assert all(c["exclusions"] == ["no-lawful-basis"] for c in consent["channels"])


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["--consent", "--none"],
        ["--consent", "--note=x"],
        ["--none", "--assessment=1"],
    ],
)
def test_basis_usage_errors(crm, ada, options):
    result = crm("basis", "1", *options)
    assert_error(result, 2)
    assert _permissions(crm, "1")["history"] == []


def test_basis_for_an_unknown_person(crm):
    assert_error(crm("basis", "7", "--none"), 1, "No prospect")


# ---------------------------------------- subscriber type, personalisation


def test_subscriber_type_override_and_back_to_inferred(crm, add, tmp_path):
    add("Bob", "Webmail", email="bob@gmail.com")
    crm("basis", "1", "--legitimate-interest", "--note=Runs a tutoring business")
    state = _permissions(crm, "1")
    assert (state["subscriber_type"], state["subscriber_type_inferred"]) == ("individual", True)
    assert _emails_exported(crm, tmp_path) == set()  # an individual needs consent for email

    corporate = crm("subscriber-type", "bob@gmail.com", "--corporate", "--json").json()
    assert (corporate["subscriber_type"], corporate["subscriber_type_inferred"]) == (
        "corporate",
        False,
    )
    assert _emails_exported(crm, tmp_path) == {"bob@gmail.com"}

    inferred = crm("subscriber-type", "1", "--inferred")
    assert inferred.code == 0, inferred
    assert "Individual (inferred from the email address)" in inferred.out
    assert _emails_exported(crm, tmp_path) == set()
    assert_error(crm("subscriber-type", "1"), 2)
    assert_error(crm("subscriber-type", "1", "--corporate", "--individual"), 2)


def test_personalisation_refused_leaves_them_out_of_personalised_lists(crm, ada, tmp_path):
    crm("basis", "1", "--legitimate-interest", "--note=Headteacher")
    refused = crm("personalisation", "1", "--refuse", "--json").json()
    assert refused["personalisation_refused"] is True
    assert _emails_exported(crm, tmp_path, "email", "--personalised") == set()
    assert _emails_exported(crm, tmp_path, "email") == {"ada@hilltop.sch.uk"}
    allowed = crm("personalisation", "1", "--allow")
    assert allowed.code == 0 and "may receive personalised marketing" in allowed.out
    assert _emails_exported(crm, tmp_path, "email", "--personalised") == {"ada@hilltop.sch.uk"}
    actions = [e["action"] for e in _permissions(crm, "1")["history"]]
    assert actions[:2] == ["personalisation-allowed", "personalisation-refused"]


# ---------------------------------------------------------- permissions


def test_permissions_shows_basis_type_suppression_channels_and_history(crm, ada):
    crm("basis", "1", "--legitimate-interest", "--note=Buys for her school")
    crm("consent", "1", "--channel=email", "--grant", f"--evidence={EVIDENCE}")
    crm("opt-out", "1", "--channel=sms", "--source=phone")
    result = crm("permissions", "ada@hilltop.sch.uk")
    assert result.code == 0, result
    text = result.out
    assert "Lawful basis:    Legitimate interest" in text
    assert "note: Buys for her school" in text
    assert "Subscriber type: Corporate (inferred from the email address)" in text
    assert "Personalisation: allowed" in text
    assert "Suppression:     suppressed for SMS" in text
    lines = text.splitlines()
    email = next(line for line in lines if line.startswith("Email "))
    sms = next(line for line in lines if line.startswith("SMS "))
    assert email.endswith("yes")
    assert "no: Opted out; On the suppression list" in sms
    history = lines[lines.index("Consent history (newest first):") + 1 :]
    assert [line.split("  ")[1].split(" by ")[0] for line in history] == [
        "Opted out (SMS)",
        "Consent granted (Email)",
        "Basis set",
    ]
    assert EVIDENCE in history[1]


def test_permissions_of_nobody(crm):
    assert_error(crm("permissions", "ghost@example.com"), 1, "No prospect")


# ---------------------------------------------------------- assessments


def test_assessment_add_list_show(crm, ada):
    assert crm("assessment", "list").out == (
        "No legitimate-interest assessments yet ('crm assessment add' writes one).\n"
    )
    added = crm(
        "assessment", "add", "School outreach 2026",
        "--purpose=Tell schools about our MIS tools", "--necessity=No other way to reach them",
        "--balancing=Work addresses; easy opt-out",
    )  # fmt: skip
    assert added.code == 0, added
    assert added.out == "Added legitimate-interest assessment #1: School outreach 2026\n"
    crm("basis", "1", "--legitimate-interest", "--assessment=1")

    listed = crm("assessment", "list", "--json").json()
    assert [(a["name"], a["prospect_count"]) for a in listed] == [("School outreach 2026", 1)]
    table = crm("assessment", "list").out.splitlines()
    assert table[0].split() == ["ID", "Name", "Prospects", "Written", "by", "Added"]
    assert table[1].startswith("1   School outreach 2026  1")

    shown = crm("assessment", "show", "school outreach 2026")
    assert shown.code == 0
    assert "Purpose:    Tell schools about our MIS tools" in shown.out
    assert "Prospects:  1" in shown.out
    assert crm("assessment", "show", "1", "--json").json()["necessity"] == (
        "No other way to reach them"
    )


def test_assessment_refusals(crm):
    ok = ["--purpose=p", "--necessity=n", "--balancing=b"]
    assert crm("assessment", "add", "Outreach", *ok).code == 0
    assert_error(crm("assessment", "add", "OUTREACH", *ok), 1, "already an assessment")
    assert_error(
        crm("assessment", "add", "Other", "--purpose= ", "--necessity=n", "--balancing=b"),
        1,
        "--purpose is required",
    )
    assert_error(crm("assessment", "add", "Other", "--purpose=p"), 2, "--necessity")
    assert_error(crm("assessment", "show", "Nope"), 1, "No legitimate-interest assessment")
    assert [a["name"] for a in crm("assessment", "list", "--json").json()] == ["Outreach"]
