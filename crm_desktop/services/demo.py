"""Realistic demo data: UK schools, their staff, correspondence, follow-ups.

Schools sit in real English local authorities: their town, postcode
district, ``sch.uk`` domain and dialling code agree (``domain.uk_places``).
Every date a person would have worked on (contacts, follow-ups, consents,
opt-outs) is a working day in England and Wales (``domain.workdays``). The
prospects belong to a small demo sales team, added as record-only users
(they never sign in, so a single-user database stays single-user), and
they, not whoever loaded the demo, logged the contacts and recorded the
consents.

Deterministic for a given seed (and today's date, which follow-ups are
relative to). Rows go in with bulk inserts inside one transaction, so a
cancelled or failed run leaves nothing behind.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert, select

from ..domain.enums import JOB_ROLES, Channel, ContactKind, DataSource, SchoolPhase, Stage
from ..domain.models import (
    ChannelPermission,
    ConsentEvent,
    Correspondence,
    Interest,
    LIAssessment,
    Prospect,
    ProspectInterest,
    School,
    Suppression,
)
from ..domain.roles import Action, Role
from ..domain.uk_places import AUTHORITIES, DRAMA_PREFIX, INWARD_LETTERS, Authority, Town
from ..domain.workdays import next_working_day, previous_working_day, working_days
from ..errors import Cancelled
from . import audit, users
from .context import Context
from .suppression import Hasher

# File > Load demo data adds this many; so does `crm demo` without --prospects.
DEFAULT_PROSPECTS = 200
MAX_DEMO_PROSPECTS = 2_000_000
CHUNK = 5_000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DemoResult:
    schools: int
    prospects: int
    contacts: int


_SAINTS = ("St Mary's", "St John's", "St Peter's", "Holy Trinity", "St Michael's", "All Saints")
_FEATURES = (
    "Oakfield",
    "Meadowbank",
    "Riverside",
    "Hillcrest",
    "Elmwood",
    "Brookside",
    "Westfield",
    "Kingsmead",
    "Greenacres",
    "Fernhill",
    "Ashgrove",
    "Longfield",
    "Beechwood",
    "Millbrook",
)
_PHASE_WEIGHTS = {
    SchoolPhase.PRIMARY: 55,
    SchoolPhase.SECONDARY: 20,
    SchoolPhase.ALL_THROUGH: 4,
    SchoolPhase.SPECIAL: 6,
    SchoolPhase.COLLEGE: 3,
    SchoolPhase.MAT: 7,
    SchoolPhase.INDEPENDENT: 5,
}
_SUFFIX = {
    SchoolPhase.PRIMARY: ("Primary School", "CE Primary School", "Infant School", "Junior School"),
    SchoolPhase.SECONDARY: ("High School", "Academy", "School", "Community College"),
    SchoolPhase.ALL_THROUGH: ("All-Through School", "Academy"),
    SchoolPhase.SPECIAL: ("Special School", "School"),
    SchoolPhase.COLLEGE: ("Sixth Form College", "College"),
    SchoolPhase.MAT: ("Learning Trust", "Academy Trust", "Multi-Academy Trust"),
    SchoolPhase.INDEPENDENT: ("School", "Preparatory School", "Grammar School"),
}
_ROLE_WEIGHTS = (14, 10, 6, 12, 8, 7, 8, 2, 1, 8, 18, 5, 1)
_STAGE_WEIGHTS = {
    Stage.LEAD: 40,
    Stage.CONTACTED: 25,
    Stage.DEMO_BOOKED: 10,
    Stage.TRIAL: 7,
    Stage.CUSTOMER: 12,
    Stage.LOST: 6,
}
# The demo sales team (record-only users): sales own prospects and log their
# contacts; marketing records web-form consents and email-tool opt-outs.
DEMO_STAFF: tuple[tuple[str, str, Role], ...] = (
    ("amira.khan", "Amira Khan", Role.SALES),
    ("ben.hughes", "Ben Hughes", Role.SALES),
    ("chloe.price", "Chloe Price", Role.SALES),
    ("daniel.okafor", "Daniel Okafor", Role.SALES),
    ("ellie.ward", "Ellie Ward", Role.MARKETING),
)
_PERSONAL = ("gmail.com", "outlook.com", "hotmail.co.uk", "yahoo.co.uk", "btinternet.com")
_SUBJECTS = {
    ContactKind.EMAIL_IN: ("Question about {i}", "Re: pricing for {i}", "Enquiry from website"),
    ContactKind.EMAIL_OUT: ("Information pack: {i}", "Following up our call", "Demo invitation"),
    ContactKind.CALL: ("Intro call", "Call about {i}", "Budget discussion"),
    ContactKind.MEETING: ("On-site meeting", "Meeting with SLT", "Governors' presentation"),
    ContactKind.VIDEO: ("Video demo of {i}", "Teams call: next steps", "Zoom walkthrough"),
    ContactKind.CHAT: ("Website chat", "Chat about {i}"),
    ContactKind.EVENT: ("Met at BETT", "Met at the Schools & Academies Show", "Regional roadshow"),
    ContactKind.SURVEY: ("Customer survey reply", "Feedback on trial"),
    ContactKind.NOTE: ("Note", "Internal note"),
}
_SUMMARIES = (
    "Interested in {i}; wants a quote for next term.",
    "Discussed current system and pain points around {i}.",
    "Asked for case studies from similar schools.",
    "Budget is set in March; revisit then.",
    "Keen to trial {i} with one year group first.",
    "Forwarded details to the business manager.",
    "Left a voicemail; will try again.",
    "Happy with the demo; needs sign-off from the head.",
    "Not a priority this year, but open to a catch-up.",
    "Requested pricing for the whole trust.",
)


_DEMO_LIA = {
    "name": "School leaders: product updates (demo)",
    "purpose": "Tell school leaders and staff about services that support their role.",
    "necessity": "Schools expect suppliers to contact relevant staff at work addresses; "
    "there is no less intrusive way to reach them.",
    "balancing": "Work addresses only, messages relevant to the role, an opt-out in every "
    "message; individual (personal) addresses need consent instead.",
}


def _demo_basis(rng: random.Random, assessment_id: int) -> dict:
    r = rng.random()
    # Every row gets every key: executemany takes its columns from the first.
    if r < 0.55:
        return {"lawful_basis": "legitimate-interest", "li_assessment_id": assessment_id}
    return {"lawful_basis": "consent" if r < 0.75 else "none", "li_assessment_id": None}


def _demo_permissions(conn, rng, ids, rows, hasher, *, marketer, opt_out_times) -> None:
    """Consents with evidence, some opt-outs and objections, with ledger and suppression.

    Web-form consents and email-tool opt-outs were recorded by marketing; a
    telephone objection by the prospect's owner, who took the call.
    """
    perms, events, suppressed = [], [], []
    for pid, row, later in zip(ids, rows, opt_out_times, strict=True):
        r = rng.random()
        if row["lawful_basis"] == "consent" or (r < 0.1 and row["email"]):
            when = row["created_at"]
            perms.append({
                "prospect_id": pid, "channel": "email", "consent": True, "consent_at": when,
                "consent_method": "web-form", "consent_policy_version": "2025-09",
                "consent_wording": "Ticked: 'Email me news about products for my school'",
                "consent_given_by": f"{row['first_name']} {row['last_name']}",
                "consent_recorded_by": marketer,
            })  # fmt: skip
            events.append(("consent-granted", "email", pid, when, marketer, {"method": "web-form"}))
        elif r > 0.97:
            objected = r > 0.99
            by = row["owner"] if objected else marketer
            for channel in Channel if objected else (Channel.EMAIL,):
                perms.append({
                    "prospect_id": pid, "channel": channel.value, "consent": False,
                    "opted_out_at": later,
                    "opt_out_source": "email-tool" if not objected else "phone",
                    "opt_out_reason": "Objected to direct marketing" if objected else None,
                })  # fmt: skip
            events.append(("objected" if objected else "opted-out", None if objected else "email",
                           pid, later, by, {"source": "demo"}))  # fmt: skip
            channel = "all" if objected else "email"
            for kind, address in (("email", row["email"]), ("phone", row["phone"])):
                if address and (objected or kind == "email"):
                    suppressed.append({
                        "kind": kind, "digest": hasher(address), "channel": channel,
                        "reason": "objection" if objected else "email-tool",
                        "source": f"prospect #{pid}", "created_by": by,
                        "created_at": later,
                    })  # fmt: skip
    if perms:
        # executemany needs every column in every row.
        blank = {c.name: None for c in ChannelPermission.__table__.columns}
        conn.execute(insert(ChannelPermission.__table__), [{**blank, **p} for p in perms])
    if events:
        conn.execute(
            insert(ConsentEvent.__table__),
            [
                {"prospect_id": pid, "action": action, "channel": channel,
                 "details": json.dumps(details), "recorded_by": by, "recorded_at": when}
                for action, channel, pid, when, by, details in events
            ],
        )  # fmt: skip
    if suppressed:
        # Shared school switchboards can repeat within a batch or across batches.
        unique = {(s["digest"], s["channel"]): s for s in suppressed}
        existing = set(
            conn.execute(
                select(Suppression.digest, Suppression.channel).where(
                    Suppression.digest.in_([d for d, _ in unique])
                )
            ).all()
        )
        fresh = [s for key, s in unique.items() if key not in existing]
        if fresh:
            conn.execute(insert(Suppression.__table__), fresh)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower().replace("'s", "s"))


# Domain tags for schools with their own domain rather than the authority's.
_OWN_DOMAIN_TAG = {
    "Learning Trust": "learningtrust",
    "Academy Trust": "academytrust",
    "Multi-Academy Trust": "mat",
    "School": "school",
    "Preparatory School": "prep",
    "Grammar School": "grammar",
}


def _school_domain(stem: str, suffix: str, phase: SchoolPhase, la: Authority, town: Town,
                   used: set[str]) -> str:  # fmt: skip
    """The school's web and email domain, unique among ``used`` where it can be.

    Maintained schools and academies use their authority's ``sch.uk`` domain
    (``oakfield.herts.sch.uk``); trusts and independent schools have their own
    ``org.uk`` one, sixth-form colleges an ``ac.uk`` one.
    """
    # Clashes (an Elmwood Infant and an Elmwood Junior School in one county)
    # add the kind of school, then the town, as real schools' domains do.
    stem_label, kind, place = _slug(stem), _slug(suffix.split()[0]), _slug(town.name)
    labels = [stem_label, f"{stem_label}{kind}", f"{stem_label}{kind}-{place}"]
    if phase in (SchoolPhase.MAT, SchoolPhase.INDEPENDENT):
        tag = _OWN_DOMAIN_TAG[suffix]
        options = [f"{stem_label}{tag}.org.uk", f"{stem_label}{tag}-{place}.org.uk"]
    elif phase is SchoolPhase.COLLEGE:
        options = [f"{label}.ac.uk" for label in labels]
    else:
        options = [f"{label}.{la.domain}.sch.uk" for label in labels]
    domain = next((d for d in options if d not in used), options[-1])
    used.add(domain)
    return domain


def _postcode(rng: random.Random, town: Town) -> str:
    """A postcode in one of the town's districts, with a made-up inward part."""
    letters = rng.choice(INWARD_LETTERS) + rng.choice(INWARD_LETTERS)
    return f"{rng.choice(town.districts)} {rng.randrange(10)}{letters}"


def _office_time(rng: random.Random, day: date) -> datetime:
    """A time in office hours (08:00-17:29) on ``day``."""
    return datetime.combine(day, time(8, 0), tzinfo=UTC) + timedelta(minutes=rng.randrange(570))


def generate_demo(
    ctx: Context,
    prospects: int,
    seed: int | None = None,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    *,
    today: date | None = None,
) -> DemoResult:
    """Add ``prospects`` demo prospects (with schools and correspondence)."""
    ctx.require(Action.MANAGE_SETTINGS)
    if not 1 <= prospects <= MAX_DEMO_PROSPECTS:
        raise ValueError(f"the number of prospects must be from 1 to {MAX_DEMO_PROSPECTS:,}")
    # Faker is only needed here: importing it costs the CLI's start-up time.
    from faker.providers.person.en_GB import Provider as _person

    rng = random.Random(seed)
    today = today or date.today()
    # Working days over the last three years, up to yesterday: when things happened.
    days = working_days(today - timedelta(days=1100), today - timedelta(days=1))
    # Schools and the assessment were on file before the first demo prospect.
    established = datetime.combine(
        previous_working_day(days[0] - timedelta(days=1)), time(9, 0), tzinfo=UTC
    )
    n_schools = max(3, min(prospects // 6, 25_000))
    total = n_schools + prospects
    done = 0

    def step(n: int) -> None:
        nonlocal done
        if should_cancel and should_cancel():
            raise Cancelled("Demo data cancelled; nothing was added.")
        done += n
        if progress:
            progress(done, total)

    first_names = tuple(_person.first_names_male) + tuple(_person.first_names_female)
    last_names = tuple(_person.last_names)
    phases = list(_PHASE_WEIGHTS)
    stages = list(_STAGE_WEIGHTS)
    kinds = list(ContactKind)
    sources = [s for s in DataSource if s is not DataSource.OTHER]

    with ctx.db.transaction() as session:
        staff = users.ensure_record_only(
            session, ctx.user, DEMO_STAFF, reason="demo sales team (record only, never signs in)"
        )
        sellers = tuple(n for n, (_, _, role) in zip(staff, DEMO_STAFF, strict=True)
                        if role is Role.SALES)  # fmt: skip
        marketer = next(n for n, (_, _, role) in zip(staff, DEMO_STAFF, strict=True)
                        if role is Role.MARKETING)  # fmt: skip
        interests = list(session.execute(select(Interest.id, Interest.name)))
        taken_urns = set(session.scalars(select(School.urn).where(School.urn.is_not(None))))
        taken_emails = set(
            session.scalars(select(Prospect.email_key).where(Prospect.email_key.is_not(None)))
        )
        used_domains = set(
            session.scalars(select(School.website).where(School.website.is_not(None)))
        )
        used_domains = {w.removeprefix("https://www.") for w in used_domains}

        # Core inserts (executemany), not ORM bulk inserts: several times faster.
        conn = session.connection()
        _school, _prospect = School.__table__, Prospect.__table__

        # -- schools
        school_rows, school_domains = [], []
        urn_pool = rng.sample(range(100000, 150000), n_schools + len(taken_urns))
        urns = (str(u) for u in urn_pool if str(u) not in taken_urns)
        for _ in range(n_schools):
            phase = rng.choices(phases, weights=list(_PHASE_WEIGHTS.values()))[0]
            la = rng.choice(AUTHORITIES)
            town = rng.choice(la.towns)
            stem = rng.choice((town.name, rng.choice(_FEATURES), rng.choice(_FEATURES),
                               rng.choice(_SAINTS)))  # fmt: skip
            suffix = rng.choice(_SUFFIX[phase])
            name = f"{stem} {suffix}"
            domain = _school_domain(stem, suffix, phase, la, town, used_domains)
            school_domains.append(domain)
            school_rows.append(
                {
                    "name": name,
                    "name_key": name.lower(),
                    "urn": None if phase is SchoolPhase.MAT else next(urns),
                    "phase": phase.value,
                    "local_authority": la.name,
                    "postcode": _postcode(rng, town),
                    "phone": f"+44{DRAMA_PREFIX[town.area_code]}{rng.randrange(1000):03d}",
                    "website": f"https://www.{domain}",
                    "created_at": established,
                    "updated_at": established,
                    "version": 1,
                }
            )
        school_ids: list[int] = []
        for start in range(0, n_schools, CHUNK):
            batch = school_rows[start : start + CHUNK]
            result = conn.execute(
                insert(_school).returning(_school.c.id, sort_by_parameter_order=True), batch
            )
            school_ids.extend(result.scalars())
            step(len(batch))

        # -- a legitimate-interest assessment most demo prospects rely on
        assessment_id = session.scalar(
            select(LIAssessment.id).where(LIAssessment.name_key == _DEMO_LIA["name"].lower())
        ) or conn.execute(
            insert(LIAssessment.__table__).returning(LIAssessment.id),
            {**_DEMO_LIA, "name_key": _DEMO_LIA["name"].lower(), "created_by": marketer,
             "created_at": established},
        ).scalar_one()  # fmt: skip
        hasher = Hasher(session)

        # -- prospects, their interests and correspondence, chunk by chunk
        contacts = 0
        last_day = len(days) - 1
        for start in range(0, prospects, CHUNK):
            size = min(CHUNK, prospects - start)
            p_rows, extras, opt_out_times = [], [], []
            for _ in range(size):
                first, last = rng.choice(first_names), rng.choice(last_names)
                k = rng.randrange(n_schools)
                personal = rng.random() < 0.1
                domain = rng.choice(_PERSONAL) if personal else school_domains[k]
                local = (
                    f"{_slug(first)}.{_slug(last)}"
                    if not personal
                    else f"{_slug(first)}{_slug(last)}{rng.randrange(10, 99)}"
                )
                email, n = f"{local}@{domain}", 2
                while email.lower() in taken_emails:
                    email, n = f"{local}{n}@{domain}", n + 1
                taken_emails.add(email.lower())
                phone = None
                r = rng.random()
                if r < 0.45:
                    phone = f"+447700900{rng.randrange(1000):03d}"
                elif r < 0.7:
                    phone = school_rows[k]["phone"]
                # Added at least four weeks ago; contacts on later working days.
                first_day = rng.randrange(last_day - 20)
                created = _office_time(rng, days[first_day])
                history = sorted(
                    _office_time(rng, days[rng.randint(first_day + 1, last_day)])
                    for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4, 5)))
                )
                follow = None
                if history and rng.random() < 0.35:
                    # From three weeks overdue to six weeks ahead, after the last contact.
                    due = today + timedelta(days=rng.randrange(-21, 45))
                    follow = next_working_day(max(due, history[-1].date() + timedelta(days=1)))
                owner = rng.choice(sellers)
                p_rows.append(
                    {
                        "first_name": first,
                        "last_name": last,
                        "email": email,
                        "email_key": email.lower(),
                        "phone": phone,
                        "school_id": school_ids[k],
                        "role": rng.choices(JOB_ROLES, weights=_ROLE_WEIGHTS)[0],
                        "stage": rng.choices(stages, weights=list(_STAGE_WEIGHTS.values()))[
                            0
                        ].value,
                        "owner": owner,
                        "source": (src := rng.choice(sources)).value,
                        "source_detail": "Demo data" if src is not DataSource.EVENT else "BETT",
                        "source_date": created.date(),
                        "last_contact_at": history[-1] if history else None,
                        "next_follow_up": follow,
                        "created_at": created,
                        "updated_at": created,
                        "version": 1,
                        **_demo_basis(rng, assessment_id),
                    }
                )
                extras.append((history, follow, rng.sample(interests, rng.choice((0, 1, 1, 2, 3)))))
                opt_out_times.append(_office_time(rng, days[rng.randint(first_day + 1, last_day)]))
            ids = list(
                conn.execute(
                    insert(_prospect).returning(_prospect.c.id, sort_by_parameter_order=True),
                    p_rows,
                ).scalars()
            )
            link_rows, c_rows = [], []
            for pid, (history, follow, chosen), row in zip(ids, extras, p_rows, strict=True):
                link_rows.extend({"prospect_id": pid, "interest_id": iid} for iid, _ in chosen)
                topic = chosen[0][1] if chosen else "our platform"
                for j, when in enumerate(history):
                    kind = rng.choice(kinds)
                    last_one = j == len(history) - 1
                    c_rows.append(
                        {
                            "prospect_id": pid,
                            "kind": kind.value,
                            "occurred_at": when,
                            "subject": rng.choice(_SUBJECTS[kind]).format(i=topic),
                            "summary": rng.choice(_SUMMARIES).format(i=topic),
                            "logged_by": row["owner"],
                            "follow_up_on": follow if last_one else None,
                            "follow_up_done_at": None,
                            "created_at": when,
                        }
                    )
            _demo_permissions(conn, rng, ids, p_rows, hasher, marketer=marketer,
                              opt_out_times=opt_out_times)  # fmt: skip
            if link_rows:
                conn.execute(insert(ProspectInterest.__table__), link_rows)
            if c_rows:
                conn.execute(insert(Correspondence.__table__), c_rows)
            contacts += len(c_rows)
            step(size)
        audit.record(session, ctx.user, "demo.loaded", "database", None,
                     {"schools": n_schools, "prospects": prospects, "seed": seed,
                      "staff": staff})  # fmt: skip
    return DemoResult(schools=n_schools, prospects=prospects, contacts=contacts)
