"""Role x action matrix: every service action, every role, allowed or refused.

The expected answer comes from the issue's table (written out again here),
not from domain.roles, so a wrong entry there fails this test.
"""

from __future__ import annotations

import pytest

from crm_desktop.domain.roles import PERMISSIONS, Action, Role
from crm_desktop.domain.validation import ContactInput, ProspectInput, SchoolInput
from crm_desktop.errors import NotPermittedError
from crm_desktop.services import Context, audit, email_sync, settings
from crm_desktop.services import assessments as A
from crm_desktop.services import correspondence as C
from crm_desktop.services import exports as E
from crm_desktop.services import history as H
from crm_desktop.services import interests as I
from crm_desktop.services import marketing as M
from crm_desktop.services import prospects as P
from crm_desktop.services import requests as RQ
from crm_desktop.services import retention as RET
from crm_desktop.services import rights as R
from crm_desktop.services import sar as SAR
from crm_desktop.services import schools as S
from crm_desktop.services import suppression as SU
from crm_desktop.services import users as U
from crm_desktop.services.demo import generate_demo

SALES = {"view", "edit", "log", "followups", "opt-out"}
MARKETING = SALES | {"consent", "suppression", "export", "email-sync"}
MANAGER = MARKETING | {"audit", "dsr", "restrict", "erase", "retention"}
ADMIN = MANAGER | {"users", "settings"}
ALLOWED = {Role.SALES: SALES, Role.MARKETING: MARKETING, Role.MANAGER: MANAGER, Role.ADMIN: ADMIN}


@pytest.fixture
def world(ctx, tmp_path):
    # Access packs need the controller's details (issue 10 item 14).
    settings.set_controller(
        ctx, name="Acme Ltd", address="1 Park Row, Leeds", email="dpo@acme.example",
        dpo_name="Priya Shah",
    )  # fmt: skip
    pid = P.create_prospect(
        ctx, ProspectInput(first_name="Jane", last_name="Smith", email="jane@oak.sch.uk")
    ).record.id
    entry = C.log_contact(
        ctx, pid, ContactInput(kind="call", summary="x", follow_up_on="2026-01-01")
    )
    school = S.create_school(ctx, SchoolInput(name="Oak")).record
    other = P.create_prospect(
        ctx, ProspectInput(first_name="Eve", last_name="Gone", email="eve@oak.sch.uk")
    ).record.id
    unsub = tmp_path / "unsub.txt"
    unsub.write_text("someone@x.org\n")
    return {
        "pid": pid, "other": other, "entry": entry.id, "school": school.id, "unsub": unsub,
        "tmp": tmp_path,
    }  # fmt: skip


def cases(w):
    pid = w["pid"]
    ev = M.ConsentEvidence("web-form", "Ticked the box")
    return [
        ("view", lambda c: P.get_prospect(c, pid)),
        ("view", lambda c: P.list_prospects(c)),
        ("view", lambda c: list(P.iter_prospects(c))),
        ("view", lambda c: P.count_prospects(c)),
        ("view", lambda c: S.list_schools(c)),
        ("view", lambda c: C.list_correspondence(c, pid)),
        ("view", lambda c: C.list_followups(c)),
        ("view", lambda c: M.marketing_view(c, pid)),
        ("view", lambda c: M.consent_history(c, pid)),
        ("view", lambda c: E.exports_for_prospect(c, pid)),
        ("view", lambda c: A.list_assessments(c)),
        ("view", lambda c: I.list_interests(c)),
        (
            "edit",
            lambda c: P.create_prospect(
                c,
                ProspectInput(
                    first_name="A", last_name=c.role.value, email=f"{c.role.value}@x.org"
                ),
            ),
        ),
        ("edit", lambda c: P.set_stage(c, pid, "trial")),
        ("edit", lambda c: S.update_school(c, w["school"], SchoolInput(name="Oak Academy"))),
        ("log", lambda c: C.log_contact(c, pid, ContactInput(kind="note", summary="n"))),
        ("followups", lambda c: C.complete_followup(c, w["entry"])),
        ("opt-out", lambda c: M.opt_out(c, pid, "sms")),
        ("opt-out", lambda c: M.object_to_marketing(c, pid)),
        ("consent", lambda c: M.grant_consent(c, pid, "email", ev)),
        ("consent", lambda c: M.set_lawful_basis(c, pid, "legitimate-interest", note="x")),
        ("consent", lambda c: M.set_subscriber_type(c, pid, "individual")),
        ("consent", lambda c: M.set_personalisation(c, pid, refused=True)),
        (
            "consent",
            lambda c: A.create_assessment(
                c, f"LIA {c.role.value}", purpose="p", necessity="n", balancing="b"
            ),
        ),
        ("suppression", lambda c: SU.suppress(c, f"{c.role.value}@gone.org")),
        ("suppression", lambda c: SU.lookup(c, "jane@oak.sch.uk")),
        ("export", lambda c: E.preview_export(c, E.ExportRequest("email", "x"))),
        (
            "export",
            lambda c: E.run_export(
                c, E.ExportRequest("email", "x"), w["tmp"] / f"{c.role.value}.csv"
            ),
        ),
        ("export", lambda c: E.list_exports(c)),
        ("email-sync", lambda c: email_sync.import_unsubscribes(c, w["unsub"])),
        ("audit", lambda c: audit.verify(c)),
        ("audit", lambda c: audit.entries(c)),
        ("users", lambda c: U.list_users(c)),
        ("dsr", lambda c: RQ.add_request(c, "access", prospect_ref=pid)),
        ("dsr", lambda c: RQ.list_requests(c)),
        ("dsr", lambda c: SAR.build_pack(c, pid)),
        ("audit", lambda c: H.history(c, pid)),
        ("retention", lambda c: RET.review_queue(c)),
        ("settings", lambda c: RET.set_retention_months(c, 24)),
        ("restrict", lambda c: (R.restrict(c, pid, "x"), R.unrestrict(c, pid, "y"))),
        ("erase", lambda c: R.erase(c, w["other"], confirm="Eve Gone", scrub=False)),
        ("settings", lambda c: I.add_interest(c, f"Service {c.role.value}")),
        ("settings", lambda c: generate_demo(c, 3, seed=1)),
        ("edit", lambda c: S.delete_school(c, w["school"])),
        ("edit", lambda c: P.delete_prospect(c, pid)),  # last: removes the prospect
    ]


@pytest.mark.parametrize("role", list(Role))
def test_role_action_matrix(ctx, world, role):
    acting = Context(ctx.db, user=f"{role.value}.user", role=role)
    for kind, call in cases(world):
        if kind in ALLOWED[role]:
            call(acting)  # must not raise NotPermittedError
        else:
            with pytest.raises(NotPermittedError, match=f"Not permitted: {role.value}.user"):
                call(acting)


def test_every_action_is_granted_to_someone_and_admin_has_all():
    assert PERMISSIONS[Role.ADMIN] == frozenset(Action)
    assert PERMISSIONS[Role.SALES] < PERMISSIONS[Role.MARKETING] < PERMISSIONS[Role.MANAGER]


def test_opt_outs_are_never_refused_to_any_role(ctx, world):
    for role in Role:
        M.opt_out(Context(ctx.db, user="x", role=role), world["pid"], "phone")
