"""The access pack's fixtures for the PDF tests (tests/reports) and the window's (tests/ui/privacy)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from crm_desktop.domain.validation import ContactInput
from crm_desktop.services import assessments as A
from crm_desktop.services import audit, settings
from crm_desktop.services import correspondence as C
from crm_desktop.services import exports as E
from crm_desktop.services import marketing as M
from crm_desktop.services import suppression as SU

TIMEOUT = 30_000


def sar_entries(ctx, prospect_id):
    """The audit entries recording packs made for this person (other changes are audited too)."""
    return [
        e
        for e in audit.entries(ctx, entity="prospect", entity_id=prospect_id)
        if e.action == "sar.created"
    ]


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-z])", data))


def assert_pdf(data: bytes, pages: int | None = None) -> None:
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert pdf_pages(data) == pages if pages is not None else pdf_pages(data) >= 1


def set_controller(ctx) -> None:
    """No pack is made until an admin has set the controller's details."""
    settings.set_controller(
        ctx, name="Acme Learning Ltd", address="1 Park Row\nLeeds LS1 5AB",
        email="privacy@acme-learning.co.uk", dpo_name="Priya Shah",
    )  # fmt: skip


def add_jane(ctx, tmp_path, add_prospect) -> int:
    """Jane Smith with something in every section of her pack."""
    pid = add_prospect(
        "Jane", "Smith", email="jane.smith@oakfield.sch.uk", phone="07700 900123",
        school="Oakfield Primary", role="SENCo", interests=["SEND support"],
        source="event", source_detail="BETT 2026 stand", source_date="2026-01-22",
    )  # fmt: skip
    now = datetime.now().astimezone()
    entry = C.log_contact(
        ctx, pid,
        ContactInput(kind="call", subject="Intro call", summary="Talked about SEND.\nDemo next.",
                     occurred_at=now - timedelta(days=2), follow_up_on="2026-01-30"),
    )  # fmt: skip
    C.complete_followup(ctx, entry.id)
    C.log_contact(ctx, pid, ContactInput(kind="email-out", summary="Sent the brochure"))
    a = A.create_assessment(
        ctx, "School outreach", purpose="Tell leaders about SEND tools.",
        necessity="Email is how we reach them.", balancing="Work addresses; easy opt-out.",
    )  # fmt: skip
    M.set_lawful_basis(ctx, pid, "legitimate-interest", li_assessment_id=a.id, note="Head of SEND")
    M.grant_consent(
        ctx, pid, "email", M.ConsentEvidence("web-form", "Ticked 'send me news' on the form")
    )
    M.opt_out(ctx, pid, "sms", source="phone", reason="Does not want texts")
    E.run_export(ctx, E.ExportRequest("email", "Spring term", purpose="Term news"),
                 tmp_path / "spring.csv")  # fmt: skip
    SU.suppress(ctx, "jane.smith@oakfield.sch.uk", channel="online")
    return pid
