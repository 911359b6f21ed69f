"""A small population with every kind of marketing permission, set up through services."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from crm_desktop.domain.validation import ProspectInput
from crm_desktop.services import marketing, prospects
from crm_desktop.services.context import Context

EVIDENCE = marketing.ConsentEvidence("web-form", "Ticked: send me news about your services")


@dataclass(frozen=True)
class Population:
    """Prospect ids by who they are (see :func:`build_population`)."""

    consented: int  # consent for email and SMS, a mobile
    li_note: int  # legitimate interest with a written note, a school address
    opted_out: int  # LI with a note, then opted out of email
    individual: int  # a personal (@gmail.com) address on LI, without consent
    no_basis: int  # a school address and no lawful basis at all
    no_email: int  # consent for email but only a (landline) phone number
    refuses: int  # consent for email, but refuses personalised marketing


def add(ctx: Context, first: str, last: str, email: str | None, phone: str | None = None) -> int:
    data = ProspectInput(
        first_name=first, last_name=last, email=email, phone=phone, school="Oakfield Primary"
    )
    return prospects.create_prospect(ctx, data).record.id


def build_population(ctx: Context) -> Population:
    consented = add(ctx, "Connie", "Consent", "connie@oakfield.sch.uk", "07700 900123")
    marketing.grant_consent(ctx, consented, ["email", "sms"], EVIDENCE)
    li_note = add(ctx, "Lia", "Note", "lia@oakfield.sch.uk")
    marketing.set_lawful_basis(
        ctx, li_note, "legitimate-interest", note="Staff buying for a school"
    )
    opted_out = add(ctx, "Otto", "Out", "otto@oakfield.sch.uk")
    marketing.set_lawful_basis(ctx, opted_out, "legitimate-interest", note="Staff")
    marketing.opt_out(ctx, opted_out, "email", source="phone", reason="Asked on a call")
    individual = add(ctx, "Ivy", "Gmail", "ivy.gmail@gmail.com")
    marketing.set_lawful_basis(ctx, individual, "legitimate-interest", note="Staff")
    no_basis = add(ctx, "Nora", "None", "nora@oakfield.sch.uk")
    no_email = add(ctx, "Phil", "Phone", None, "0113 496 0000")
    marketing.grant_consent(ctx, no_email, "email", EVIDENCE)
    refuses = add(ctx, "Rita", "Refuses", "rita@oakfield.sch.uk")
    marketing.grant_consent(ctx, refuses, "email", EVIDENCE)
    marketing.set_personalisation(ctx, refuses, refused=True)
    return Population(consented, li_note, opted_out, individual, no_basis, no_email, refuses)


# Who may be emailed, written out by hand (not computed by the code under test).
EMAIL_OK = {"connie@oakfield.sch.uk", "lia@oakfield.sch.uk", "rita@oakfield.sch.uk"}
EMAIL_REASONS = {
    "Otto Out": ["Opted out", "On the suppression list"],
    "Ivy Gmail": ["Individual subscriber without consent"],
    "Nora None": ["No lawful basis"],
    "Phil Phone": ["No address for this channel"],
}


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def read_xlsx_rows(path: Path) -> list[dict[str, str]]:
    sheet = load_workbook(path, read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header, body = rows[0], rows[1:]
    return [dict(zip(header, r, strict=True)) for r in body]
