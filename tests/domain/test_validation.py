from datetime import UTC, date, datetime, timedelta

import pytest

from crm_desktop.domain.enums import ContactKind, SchoolPhase, Stage
from crm_desktop.domain.validation import (
    ContactInput,
    ProspectInput,
    SchoolInput,
    ValidationError,
    format_phone,
    normalise_email,
    normalise_phone,
    validate_contact,
    validate_prospect,
    validate_school,
)


def test_email_is_normalised_domain_lowercased():
    assert normalise_email("  Jane.Smith@Oakfield.SCH.UK ") == "Jane.Smith@oakfield.sch.uk"


@pytest.mark.parametrize("bad", ["jane", "jane@", "@school.org", "a b@c.org", "jane@@x.org"])
def test_bad_email_names_the_value(bad):
    with pytest.raises(ValueError, match="is not a valid email address"):
        normalise_email(bad)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("07700 900123", "+447700900123"),  # Ofcom drama mobile range
        ("01632 960001", "+441632960001"),  # Ofcom drama landline range
        ("020 7946 0000", "+442079460000"),
        ("+44 (0)20 7946 0000", "+442079460000"),
        ("+1 202 555 0100", "+12025550100"),
    ],
)
def test_possible_numbers_are_stored_as_e164(raw, e164):
    result = normalise_phone(raw)
    assert result is not None and result.e164 == e164


def test_fiction_range_is_accepted_with_a_warning():
    result = normalise_phone("07700 900123")
    assert result.warning and "not in a known allocated range" in result.warning
    assert normalise_phone("020 7946 0000").warning is None


@pytest.mark.parametrize(("bad", "why"), [("12345", "area code"), ("0123", ""), ("abc", "")])
def test_impossible_numbers_are_refused(bad, why):
    with pytest.raises(ValueError, match="not a (possible )?phone number") as exc:
        normalise_phone(bad)
    assert why in str(exc.value)


def test_phone_display_is_national_for_gb_and_international_otherwise():
    assert format_phone("+442079460000") == "020 7946 0000"
    assert format_phone("+447700900123") == "07700 900123"
    assert format_phone("+12025550100").startswith("+1 202")


def test_prospect_requires_names_and_a_way_to_reach_them():
    with pytest.raises(ValidationError) as exc:
        validate_prospect(ProspectInput(first_name=" ", last_name=""))
    assert exc.value.errors == {
        "first_name": "is required",
        "last_name": "is required",
        "email": "give an email address or a phone number",
    }


def test_prospect_collects_every_field_error_at_once():
    with pytest.raises(ValidationError) as exc:
        validate_prospect(
            ProspectInput(
                first_name="A" * 101,
                last_name="Ok",
                email="nope",
                phone="12",
                stage="sleeping",
                source_date=date.today() + timedelta(days=1),
            )
        )
    assert set(exc.value.errors) == {"first_name", "email", "phone", "stage", "source_date"}
    assert "too long (101 characters; at most 100)" in exc.value.errors["first_name"]
    assert "'sleeping' is not one of: lead," in exc.value.errors["stage"]


def test_prospect_clean_values():
    data = validate_prospect(
        ProspectInput(
            first_name="  Zoë ",
            last_name="O'Brien",
            email="ZOE@Example.org",
            stage="Demo booked",
            interests=["SEND support", "send SUPPORT", "Safeguarding"],
        )
    )
    assert (data.first_name, data.last_name, data.email) == ("Zoë", "O'Brien", "ZOE@example.org")
    assert data.stage is Stage.DEMO_BOOKED
    assert data.interests == ["SEND support", "Safeguarding"]


def test_control_characters_and_newlines_are_refused_in_names():
    with pytest.raises(ValidationError) as exc:
        validate_prospect(ProspectInput(first_name="a\x00b", last_name="x\ny", email="a@b.org"))
    assert exc.value.errors["first_name"] == "contains control characters that cannot be stored"
    assert exc.value.errors["last_name"] == "must be a single line"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("urn", "12345", "is not a URN (six digits"),
        ("urn", "1234567", "is not a URN"),
        ("postcode", "XYZ", "is not a UK postcode"),
        ("website", "not a site", "is not a web address"),
        ("phase", "castle", "is not one of"),
    ],
)
def test_school_field_errors(field, value, message):
    with pytest.raises(ValidationError) as exc:
        validate_school(SchoolInput(name="Oakfield", **{field: value}))
    assert message in exc.value.errors[field]


def test_school_clean_values():
    data = validate_school(
        SchoolInput(
            name="Oakfield Primary",
            urn="100001",
            phase="Multi-academy trust",
            postcode="sw1a1aa",
            website="www.oakfield.sch.uk",
        )
    )
    assert data.urn == "100001"
    assert data.phase is SchoolPhase.MAT
    assert data.postcode == "SW1A 1AA"
    assert data.website == "https://www.oakfield.sch.uk"


def test_contact_defaults_to_now_and_refuses_the_future():
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    data = validate_contact(ContactInput(kind="call", summary="Spoke"), now=now)
    assert data.kind is ContactKind.CALL and data.occurred_at == now
    with pytest.raises(ValidationError) as exc:
        validate_contact(
            ContactInput(kind="call", summary="x", occurred_at="2026-03-02T12:00+00:00"), now=now
        )
    assert exc.value.errors == {"occurred_at": "cannot be in the future"}


def test_contact_parses_times_to_aware_utc_and_checks_kind():
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    data = validate_contact(
        ContactInput(kind="Video call", summary="x", occurred_at="2026-02-01T10:00+01:00"),
        now=now,
    )
    assert data.occurred_at == datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(ValidationError) as exc:
        validate_contact(ContactInput(kind="pigeon", summary=""), now=now)
    assert set(exc.value.errors) == {"kind", "summary"}
