"""A prospect with one of every kind of happening, for the history tests."""

from __future__ import annotations

from pathlib import Path

from crm_desktop.domain.validation import ContactInput, ProspectInput
from crm_desktop.services import Context, rights
from crm_desktop.services import correspondence as C
from crm_desktop.services import exports as E
from crm_desktop.services import marketing as M
from crm_desktop.services import prospects as P
from crm_desktop.services import requests as R

EMAIL = "hattie.bloom@willow.sch.uk"


def build_full_history(ctx: Context, tmp_path: Path) -> int:
    """Create, edit, log, consent, basis, export, request, opt out, restrict."""
    pid = P.create_prospect(
        ctx,
        ProspectInput(first_name="Hattie", last_name="Bloom", email=EMAIL,
                      school="Willow Primary", role="Teacher"),
    ).record.id  # fmt: skip
    edited = P.as_input(P.get_prospect(ctx, pid))
    edited.role = "Headteacher"
    P.update_prospect(ctx, pid, edited)
    C.log_contact(ctx, pid, ContactInput(kind="call", subject="Intro call",
                                         summary="Talked about SEND tools"))  # fmt: skip
    M.grant_consent(ctx, pid, "email", M.ConsentEvidence("web-form", "Tick to hear from us"))
    M.set_lawful_basis(ctx, pid, "consent")
    E.run_export(ctx, E.ExportRequest("email", "Spring launch"), tmp_path / "spring.csv")
    R.add_request(ctx, "access", prospect_ref=pid, notes="Asked by phone")
    M.opt_out(ctx, pid, "sms")
    rights.restrict(ctx, pid, "Accuracy contested")
    return pid
