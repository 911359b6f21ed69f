"""Demo data a UK user would believe: places agree, staff are users, dates are working days."""

from datetime import date

import phonenumbers
import pytest
from sqlalchemy import select

from crm_desktop.domain.models import (
    ChannelPermission,
    ConsentEvent,
    Correspondence,
    LIAssessment,
    Prospect,
    School,
    Suppression,
    User,
)
from crm_desktop.domain.uk_places import AUTHORITIES, BY_NAME, DRAMA_PREFIX, SCHOOL_DOMAINS
from crm_desktop.domain.validation import normalise_postcode
from crm_desktop.domain.workdays import is_working_day
from crm_desktop.errors import CrmError, SignInError
from crm_desktop.services import Context, users
from crm_desktop.services.context import os_user
from crm_desktop.services.demo import DEMO_STAFF, generate_demo

# Follow-ups from three weeks back to six weeks ahead cross Christmas, Boxing
# Day (substitute Monday 28th in 2026) and New Year's Day.
TODAY = date(2026, 12, 14)
PERSONAL = ("gmail.com", "outlook.com", "hotmail.co.uk", "yahoo.co.uk", "btinternet.com")


@pytest.fixture
def owner(db):
    """Single-user mode: the owner is the operating-system account, as on a new install."""
    ctx = users.single_user_context(db)
    generate_demo(ctx, 300, seed=7, today=TODAY)
    return ctx


def _all(ctx, *columns):
    with ctx.db.read() as session:
        return session.execute(select(*columns)).all()


def test_schools_towns_postcodes_domains_and_phones_agree(owner):
    schools = _all(owner, School.name, School.local_authority, School.postcode, School.website,
                   School.phone, School.phase)  # fmt: skip
    assert len(schools) == 50
    assert len({la for _, la, *_ in schools}) > 10
    for name, la, postcode, website, phone, phase in schools:
        authority = BY_NAME[la]
        districts = {d: t for t in authority.towns for d in t.districts}
        assert normalise_postcode(postcode) == postcode
        outward = postcode.split()[0]
        assert outward in districts, (name, la, postcode)
        town = districts[outward]
        # A school named after a place is in that place.
        places = {t.name for a in AUTHORITIES for t in a.towns}
        named_after = [p for p in places if name.startswith(p + " ")]
        if named_after:
            assert town.name in named_after, (name, la, postcode)
        domain = website.removeprefix("https://www.")
        if domain.endswith(".sch.uk"):
            assert phase not in ("mat", "independent", "college")
            assert domain.split(".")[-3] == authority.domain, (name, la, domain)
        else:
            assert domain.endswith((".org.uk", ".ac.uk")), domain
        # Ofcom's drama numbers for the town's own dialling code where there are any.
        assert phone.removeprefix("+44")[:7] == DRAMA_PREFIX[town.area_code], (name, phone)
        if town.area_code:
            assert phonenumbers.is_valid_number(phonenumbers.parse(phone))


def test_email_domains_are_the_schools_or_personal_never_truncated(owner):
    with owner.db.read() as session:
        rows = session.execute(
            select(Prospect.email, School.website, School.local_authority).join(
                School, School.id == Prospect.school_id
            )
        ).all()
    assert len(rows) == 300
    for email, website, la in rows:
        domain = email.split("@")[1]
        if domain in PERSONAL:
            continue
        assert website == f"https://www.{domain}"
        if domain.endswith(".sch.uk"):
            label = domain.split(".")[-3]
            assert label in SCHOOL_DOMAINS, email
            assert label == BY_NAME[la].domain, (email, la)
    # The old generator cut names to ten letters (hertfordsh.sch.uk).
    assert all("hertfordsh." not in e and "lincolnshi." not in e for e, *_ in rows)


def test_every_date_someone_worked_on_is_a_working_day(owner):
    dated = {
        "contact": [d.date() for (d,) in _all(owner, Correspondence.occurred_at)],
        "follow-up": [d for (d,) in _all(owner, Correspondence.follow_up_on) if d],
        "next follow-up": [d for (d,) in _all(owner, Prospect.next_follow_up) if d],
        "added": [d.date() for (d,) in _all(owner, Prospect.created_at)],
        "source date": [d for (d,) in _all(owner, Prospect.source_date) if d],
        "consent": [d.date() for (d,) in _all(owner, ChannelPermission.consent_at) if d],
        "opt-out": [d.date() for (d,) in _all(owner, ChannelPermission.opted_out_at) if d],
        "ledger": [d.date() for (d,) in _all(owner, ConsentEvent.recorded_at)],
        "suppression": [d.date() for (d,) in _all(owner, Suppression.created_at)],
        "assessment": [d.date() for (d,) in _all(owner, LIAssessment.created_at)],
        "school": [d.date() for (d,) in _all(owner, School.created_at)],
    }
    for what, found in dated.items():
        assert found, what
        bad = sorted({d for d in found if not is_working_day(d)})
        assert not bad, f"{what} on {bad[:5]}"
    follow_ups = dated["follow-up"]
    # Follow-ups fall around Christmas and New Year, and never on those days.
    assert min(follow_ups) < date(2026, 12, 24) and max(follow_ups) > date(2027, 1, 4)
    # Office hours, and a follow-up comes after the contact that set it.
    for when, due in _all(owner, Correspondence.occurred_at, Correspondence.follow_up_on):
        assert 8 <= when.hour < 18
        assert due is None or due > when.date()


def test_owners_and_recorders_are_demo_staff_never_the_os_login(owner):
    staff = {name for name, _, _ in DEMO_STAFF}
    user_rows = {u: (d, r) for u, d, r in _all(owner, User.username, User.display_name, User.role)}
    assert staff <= set(user_rows)
    assert user_rows["amira.khan"] == ("Amira Khan", "sales")
    people = {
        "owner": {o for (o,) in _all(owner, Prospect.owner)},
        "logged by": {o for (o,) in _all(owner, Correspondence.logged_by)},
        "consent recorded by": {
            o for (o,) in _all(owner, ChannelPermission.consent_recorded_by) if o
        },
        "ledger recorded by": {o for (o,) in _all(owner, ConsentEvent.recorded_by)},
        "suppressed by": {o for (o,) in _all(owner, Suppression.created_by)},
        "assessment by": {o for (o,) in _all(owner, LIAssessment.created_by)},
    }
    for what, names in people.items():
        assert names, what
        assert names <= staff, (what, names - staff)
        assert owner.user not in names and os_user() not in names, what
    assert len(people["owner"]) == 4  # the four sales staff share the prospects


def test_demo_staff_never_sign_in_and_keep_single_user_mode(owner):
    db = owner.db
    assert not users.sign_in_required(db)
    assert users.single_user_context(db).user == owner.user
    with pytest.raises(SignInError):
        users.sign_in(db, "amira.khan", "")
    views = {u.username: u for u in users.list_users(owner)}
    assert views["amira.khan"].record_only and not views["amira.khan"].has_password
    assert not views[owner.user].record_only
    with pytest.raises(CrmError, match="cannot sign in"):
        users.reset_password(owner, "amira.khan", "a long enough password")
    # A second run reuses the staff rather than adding them again.
    generate_demo(owner, 20, seed=8, today=TODAY)
    assert len(users.list_users(owner)) == 1 + len(DEMO_STAFF)
    # A real second user still switches the database to team mode.
    users.change_password(owner, "owner long password")
    users.add_user(owner, "bob", "sales", "bobs long password")
    assert users.sign_in_required(db)
    with pytest.raises(SignInError):
        users.sign_in(db, "amira.khan", "")


def test_demo_staff_do_not_stand_in_for_the_owner_of_a_new_database(db):
    # Loaded before anyone used the database: its owner is still made on first use.
    generate_demo(Context(db, user="bob"), 12, seed=3, today=TODAY)
    assert not users.sign_in_required(db)
    owner = users.single_user_context(db)
    assert owner.role.value == "admin" and owner.user not in {n for n, _, _ in DEMO_STAFF}
