"""Deadlines and rules for data-subject requests (domain.requests), no database.

Expected dates are written out by hand from the rule in the issue ("to the
same date of the next month, or that month's last day if it has no such
date"), not computed with the function under test.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_desktop.domain.requests import (
    NO_VERIFICATION_NEEDED,
    RequestInput,
    RequestKind,
    RequestStatus,
    Urgency,
    add_months,
    check_close,
    check_extension,
    days_left,
    due_date,
    extended_due_date,
    urgency,
    validate_request,
)
from crm_desktop.domain.validation import ValidationError

TODAY = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 1, 31), date(2026, 2, 28)),  # non-leap February
        (date(2024, 1, 31), date(2024, 2, 29)),  # leap year
        (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
        (date(2028, 1, 30), date(2028, 2, 29)),
        (date(2028, 1, 29), date(2028, 2, 29)),
        (date(2028, 1, 28), date(2028, 2, 28)),
        (date(2100, 1, 31), date(2100, 2, 28)),  # divisible by 100: not a leap year
        (date(2000, 1, 31), date(2000, 2, 29)),  # divisible by 400: a leap year
        (date(2026, 11, 30), date(2026, 12, 30)),
        (date(2026, 12, 31), date(2027, 1, 31)),  # December -> January of the next year
        (date(2026, 12, 1), date(2027, 1, 1)),
        (date(2026, 3, 31), date(2026, 4, 30)),  # 30-day month
        (date(2026, 5, 31), date(2026, 6, 30)),
        (date(2026, 8, 31), date(2026, 9, 30)),
        (date(2026, 10, 31), date(2026, 11, 30)),
        (date(2026, 7, 31), date(2026, 8, 31)),  # July -> August, both 31 days
        (date(2024, 2, 29), date(2024, 3, 29)),  # from a leap day
        (date(2026, 2, 28), date(2026, 3, 28)),  # not to the month's end
        (date(2026, 9, 3), date(2026, 10, 3)),  # the ICO's own example
    ],
)
def test_due_one_calendar_month_after_receipt(received, due):
    assert due_date(received) == due


@pytest.mark.parametrize(
    ("received", "months", "due"),
    [
        (date(2026, 1, 31), 2, date(2026, 4, 30)),  # from receipt, not from 28 Feb
        (date(2026, 1, 31), 1, date(2026, 3, 31)),
        (date(2025, 11, 30), 2, date(2026, 2, 28)),  # over the year end, into February
        (date(2027, 11, 30), 2, date(2028, 2, 29)),  # ... of a leap year
        (date(2099, 11, 30), 2, date(2100, 2, 28)),  # ... of 2100, which is not one
        (date(2026, 10, 31), 2, date(2027, 1, 31)),
        (date(2026, 12, 31), 2, date(2027, 3, 31)),
        (date(2026, 12, 31), 1, date(2027, 2, 28)),
        (date(2024, 2, 29), 2, date(2024, 5, 29)),
    ],
)
def test_extended_due_counts_from_receipt(received, months, due):
    assert extended_due_date(received, months) == due


@pytest.mark.parametrize("months", [0, 3, -1, 12])
def test_an_extension_is_one_or_two_months(months):
    with pytest.raises(ValueError, match="1 or 2 months"):
        extended_due_date(date(2026, 1, 1), months)


def test_add_months_over_many_years_and_refuses_negative():
    assert add_months(date(2026, 1, 31), 0) == date(2026, 1, 31)
    assert add_months(date(2026, 1, 31), 13) == date(2027, 2, 28)
    assert add_months(date(2026, 1, 31), 25) == date(2028, 2, 29)
    with pytest.raises(ValueError):
        add_months(date(2026, 1, 31), -1)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_due_date_is_the_same_day_next_month_or_its_last_day(received):
    due = due_date(received)
    month_after = (received.replace(day=1) + timedelta(days=32)).replace(day=1)
    assert (due.year, due.month) == (month_after.year, month_after.month)
    last = calendar.monthrange(due.year, due.month)[1]
    assert due.day == min(received.day, last)
    assert 28 <= (due - received).days <= 31
    for months in (1, 2):
        later = extended_due_date(received, months)
        assert due < later <= add_months(received, 3)
        assert later.day == min(received.day, calendar.monthrange(later.year, later.month)[1])


def test_days_left_and_urgency():
    due = date(2026, 3, 17)
    assert days_left(due, TODAY) == 7 and urgency(due, TODAY) is Urgency.DUE_SOON
    assert urgency(date(2026, 3, 18), TODAY) is Urgency.OK  # eight days: not yet amber
    assert urgency(TODAY, TODAY) is Urgency.DUE_SOON  # due today is not yet late
    assert days_left(date(2026, 3, 9), TODAY) == -1
    assert urgency(date(2026, 3, 9), TODAY) is Urgency.OVERDUE
    assert urgency(date(2026, 3, 9), TODAY, closed=True) is Urgency.CLOSED


# ------------------------------------------------------------- validation


def test_received_defaults_to_today_and_cannot_be_in_the_future():
    data = validate_request(RequestInput(kind="access", name="Jane"), today=TODAY)
    assert data.received == TODAY and data.kind is RequestKind.ACCESS
    typed = validate_request(
        RequestInput(kind="access", name="J", received="10/03/2026"), today=TODAY
    )
    assert typed.received == TODAY
    with pytest.raises(ValidationError) as exc:
        validate_request(RequestInput(kind="access", name="J", received="2026-03-11"), today=TODAY)
    assert exc.value.errors == {"received": "cannot be in the future (today is 10 Mar 2026)"}


def test_kind_accepts_values_and_labels():
    data = validate_request(RequestInput(kind="Objection to marketing", name="J"), today=TODAY)
    assert data.kind is RequestKind.OBJECTION


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(ValidationError) as exc:
        validate_request(
            RequestInput(kind="complaint", email="nope", phone="12", received="someday"),
            today=TODAY,
        )
    assert set(exc.value.errors) == {"kind", "email", "phone", "received"}
    assert "not one of" in exc.value.errors["kind"]


def test_a_requester_is_needed():
    with pytest.raises(ValidationError) as exc:
        validate_request(RequestInput(kind="access", name="  "), today=TODAY)
    assert set(exc.value.errors) == {"requester"}
    for given_ in ({"prospect": 12}, {"email": "a@b.org"}, {"phone": "020 7946 0000"}):
        validate_request(RequestInput(kind="erasure", **given_), today=TODAY)


def test_contact_details_are_normalised():
    data = validate_request(
        RequestInput(kind="access", email=" Jane@OAK.sch.uk ", phone="020 7946 0000"), today=TODAY
    )
    assert data.email == "Jane@oak.sch.uk" and data.phone == "+442079460000"


# ------------------------------------------------------------ extending


def extend(**overrides):
    args = {
        "status": RequestStatus.OPEN,
        "received": date(2026, 2, 20),
        "already_extended": False,
        "months": 2,
        "reason": "Records in three systems",
        "today": TODAY,
    }
    return check_extension(**{**args, **overrides})


def test_extension_gives_the_new_due_date_and_the_reason():
    assert extend() == (date(2026, 5, 20), "Records in three systems")
    assert extend(months=1)[0] == date(2026, 4, 20)
    assert extend(status=RequestStatus.IN_PROGRESS)[0] == date(2026, 5, 20)


def test_extension_only_once():
    with pytest.raises(ValidationError, match="already extended"):
        extend(already_extended=True)


@pytest.mark.parametrize("months", [0, 3])
def test_extension_at_most_two_months(months):
    with pytest.raises(ValidationError) as exc:
        extend(months=months)
    assert exc.value.errors == {"months": "must be 1 or 2 months"}


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_extension_needs_a_reason(reason):
    with pytest.raises(ValidationError) as exc:
        extend(reason=reason)
    assert set(exc.value.errors) == {"reason"} and "is required" in exc.value.errors["reason"]


def test_extension_within_the_first_month_only():
    assert extend(received=date(2026, 2, 10))[0] == date(2026, 5, 10)  # due today: still in time
    with pytest.raises(ValidationError, match="deadline \\(9 Mar 2026\\) has passed"):
        extend(received=date(2026, 2, 9))


@pytest.mark.parametrize("status", [RequestStatus.COMPLETED, RequestStatus.REFUSED])
def test_closed_requests_cannot_be_extended(status):
    with pytest.raises(ValidationError, match="cannot be changed"):
        extend(status=status)


# -------------------------------------------------------------- closing


def close(**overrides):
    args = {
        "kind": RequestKind.ACCESS,
        "status": RequestStatus.IN_PROGRESS,
        "identity_verified": True,
        "refused": False,
        "outcome": " Sent the pack by email ",
    }
    return check_close(**{**args, **overrides})


def test_closing_needs_an_outcome():
    assert close() == "Sent the pack by email"
    with pytest.raises(ValidationError) as exc:
        close(outcome="")
    assert set(exc.value.errors) == {"outcome"}


@pytest.mark.parametrize("kind", sorted(set(RequestKind) - NO_VERIFICATION_NEEDED))
def test_completing_needs_verified_identity(kind):
    with pytest.raises(ValidationError) as exc:
        close(kind=kind, identity_verified=False)
    assert set(exc.value.errors) == {"identity_verified"}
    assert close(kind=kind, identity_verified=False, refused=True)  # refusing does not


def test_an_objection_to_marketing_can_be_completed_unverified():
    assert close(kind=RequestKind.OBJECTION, identity_verified=False)


def test_closed_requests_stay_closed():
    with pytest.raises(ValidationError, match="was refused; it cannot be changed"):
        close(status=RequestStatus.REFUSED)
