"""The subject access pack as rich text, for the PDF (``sar_pdf``) to paint.

Turns the pack dict from ``services.sar.build_pack`` into HTML that Qt's
text engine lays out: numbered sections with definition tables and ruled
tables, readable labels for stored values ("Phone call", "Web form"), and
dates in the short UK style the app uses. Every stored value is escaped and
shown in full: a pack never shortens what we hold (unlike the app's own
summaries, which quote long texts in part).
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape

from crm_desktop.domain.consent_wording import action_title, event_facts
from crm_desktop.domain.dates import format_date, format_datetime
from crm_desktop.domain.eligibility import ALL
from crm_desktop.domain.enums import (
    Channel,
    ConsentMethod,
    ContactKind,
    DataSource,
    LawfulBasis,
    OptOutSource,
    SchoolPhase,
    Stage,
    SubscriberType,
)
from crm_desktop.domain.requests import RequestKind, RequestStatus
from crm_desktop.domain.validation import format_phone
from crm_desktop.reports.html import bullets, document, pairs, stored, table
from crm_desktop.reports.marketing_text import exclusion_labels, label

# ------------------------------------------------------------------ text


def _dt(value: str | None) -> str:
    return format_datetime(datetime.fromisoformat(value)) if value else ""


def _d(value: str | None) -> str:
    return format_date(date.fromisoformat(value)) if value else ""


def _yes(value: bool) -> str:
    return "Yes" if value else "No"


def _channel(value: str | None) -> str:
    return "All channels" if value == ALL else label(Channel, value)


# -------------------------------------------------------------- sections


def _details(pack: dict) -> str:
    s = pack["subject"]
    restricted = _dt(s["restricted_at"])
    if restricted and s["restriction_reason"]:
        restricted += f" ({stored(s['restriction_reason'])})"
    others = []
    if s.get("other_emails"):
        others.append(("Other email addresses", "<br>".join(map(stored, s["other_emails"]))))
    if s.get("other_phones"):
        phones = (stored(format_phone(n)) for n in s["other_phones"])
        others.append(("Other phone numbers", "<br>".join(phones)))
    html = pairs(
        [
            ("Name", stored(f"{s['first_name']} {s['last_name']}")),
            ("Email", stored(s["email"])),
            ("Phone", stored(format_phone(s["phone"]))),
            *others,
            ("Job role", stored(s["role"])),
            ("Interested in", stored(", ".join(pack["interests"]))),
            ("Stage of our conversations", stored(label(Stage, s["stage"]))),
            ("Looked after by", stored(s["owner"])),
            (
                "Subscriber type (for marketing law)",
                stored(label(SubscriberType, s["subscriber_type"]))
                + (" (from your email address)" if s["subscriber_type_inferred"] else ""),
            ),
            ("Refused personalised marketing", _yes(s["personalisation_refused"])),
            ("Record created", _dt(s["created_at"])),
            ("Record last changed", _dt(s["updated_at"])),
            ("Last contact", _dt(s["last_contact_at"])),
            ("Next follow-up", _d(s["next_follow_up"])),
            ("Processing restricted", restricted or "No"),
            ("Erased", _dt(s["erased_at"]) or "No"),
        ]
    )
    school = pack["school"]
    html += "<h3>Your school</h3>"
    if school is None:
        html += "<p class='muted'>We hold no school for you.</p>"
    else:
        html += pairs(
            [
                ("Name", stored(school["name"])),
                ("URN", stored(school["urn"])),
                ("Phase", stored(label(SchoolPhase, school["phase"]))),
                ("Local authority or region", stored(school["local_authority"])),
                ("Postcode", stored(school["postcode"])),
                ("Phone", stored(format_phone(school["phone"]))),
                ("Website", stored(school["website"])),
            ]
        )
    html += "<h3>The kinds of data we hold</h3>" + bullets(pack["categories"])
    return html


_IMPORT_OUTCOMES = {
    "created": "Your record was created from it",
    "updated": "Your record was updated from it",
    "opted-out": "Your record was created or updated from it, and kept opted out of "
    "marketing because your address was on our suppression list",
}


def _import(entry: dict) -> str:
    """One import that brought their details: the file, what we were told, who, when."""
    basis = entry["lawful_basis"]
    rows = [
        ("Where the list came from", stored(entry["source"])),
        ("File", stored(entry["file_name"])),
        ("Imported on", _dt(entry["imported_at"])),
        ("Imported by", stored(entry["imported_by"])),
        ("What it did", stored(_IMPORT_OUTCOMES.get(entry["outcome"], entry["outcome"]))),
        ("Lawful basis recorded with it", stored(label(LawfulBasis, basis))),
    ]
    if entry.get("consent_wording"):
        rows.append(("What you were told (evidence)", stored(entry["consent_wording"])))
    if entry.get("consent_policy_version"):
        rows.append(("Privacy notice version", stored(entry["consent_policy_version"])))
    if entry.get("li_assessment"):
        rows.append(("Legitimate-interest assessment", stored(entry["li_assessment"])))
    if entry.get("li_note"):
        rows.append(("Legitimate-interest note", stored(entry["li_note"])))
    return pairs(rows)


def _source(pack: dict) -> str:
    src = pack["source"]
    imports = src.get("imports") or []
    html = ""
    if not imports or src["source"] or src["detail"] or src["date"]:
        html = pairs(
            [
                ("How we got your details", stored(label(DataSource, src["source"]))),
                ("Details", stored(src["detail"])),
                ("When", _d(src["date"])),
            ]
        )
    if not imports:
        return html + "<p class='muted'>Your details did not come from a list we imported.</p>"
    html += "<h3>Lists we imported your details from</h3>"
    return html + "".join(_import(entry) for entry in imports)


def _basis(pack: dict) -> str:
    b = pack["lawful_basis"]
    html = bullets(pack["purposes"]) + f"<p>{stored(b['sales_basis'])}</p>"
    rows = [("Lawful basis for marketing", stored(label(LawfulBasis, b["marketing_basis"])))]
    a = b["assessment"]
    if a is not None:
        rows += [
            ("Legitimate-interest assessment", stored(a["name"])),
            ("Its purpose", stored(a["purpose"])),
            ("Why the processing is necessary", stored(a["necessity"])),
            ("Balancing your interests and ours", stored(a["balancing"])),
        ]
    if b["note"]:
        rows.append(("Note about you", stored(b["note"])))
    return html + pairs(rows)


def _permissions(pack: dict) -> str:
    perms = pack["marketing_permissions"]
    rows = []
    for c in perms:
        consent = f"Yes, {_dt(c['consent_at'])}" if c["consent"] else "No"
        opted = f"Yes, {_dt(c['opted_out_at'])}" if c["opted_out"] else "No"
        if c["opted_out"] and c["opt_out_source"]:
            opted += f" ({stored(label(OptOutSource, c['opt_out_source']))})"
        if c["opted_out"] and c["opt_out_reason"]:
            opted += f"<br>{stored(c['opt_out_reason'])}"
        may = (
            "Yes"
            if c["may_be_contacted"]
            else "No: " + stored(", ".join(exclusion_labels(c["not_contacted_because"])))
        )
        rows.append([stored(_channel(c["channel"])), consent, opted, may])
    html = table(
        ["Channel", "Consent", "Opted out", "May we market to you now?"], [16, 24, 30, 30], rows, ""
    )
    for c in perms:
        if not c["consent"]:
            continue
        html += f"<h3>Your consent to {escape(_channel(c['channel']))}</h3>" + pairs(
            [
                ("Given on", _dt(c["consent_at"])),
                ("How", stored(label(ConsentMethod, c["consent_method"]))),
                ("What you were told (evidence)", stored(c["consent_evidence"])),
                ("Privacy notice version", stored(c["consent_policy_version"])),
                ("Given by", stored(c["consent_given_by"])),
                ("Recorded by", stored(c["consent_recorded_by"])),
            ]
        )
    return html


def _event_details(event: dict, assessment: dict | None) -> str:
    """Every detail of a ledger entry, in full (a pack never shortens what we hold)."""

    def assessment_name(ident: int) -> str:
        return assessment["name"] if assessment and assessment["id"] == ident else f"#{ident}"

    facts = event_facts(
        event["action"], event["details"], assessment_name=assessment_name, to_subject=True
    )
    return "<br>".join(stored(f"{f.label}: {f.value}") for f in facts)


def _history(pack: dict) -> str:
    assessment = pack["lawful_basis"]["assessment"]
    rows = [
        [
            _dt(e["at"]),
            stored(action_title(e["action"])),
            stored(_channel(e["channel"])) if e["channel"] else "",
            _event_details(e, assessment),
            stored(e["recorded_by"]),
        ]
        for e in pack["consent_history"]
    ]
    return table(
        ["When", "What changed", "Channel", "Details", "Recorded by"],
        [16, 18, 12, 40, 14],
        rows,
        "No changes to your marketing choices have been recorded.",
    )


def _correspondence(pack: dict) -> str:
    entries = pack["correspondence"]
    if not entries:
        return "<p class='muted'>We have recorded no correspondence with you.</p>"
    html = ""
    for c in entries:
        head = f"{_dt(c['occurred_at'])} · {stored(label(ContactKind, c['kind']))}"
        lines = [f"<b>{head}</b> <span class='muted'>— noted by {stored(c['logged_by'])}</span>"]
        if c["subject"]:
            lines.append(f"<b>{stored(c['subject'])}</b>")
        lines.append(stored(c["summary"]))
        if c["follow_up_on"]:
            done = f", done {_dt(c['follow_up_done_at'])}" if c["follow_up_done_at"] else ""
            lines.append(f"<span class='muted'>Follow-up: {_d(c['follow_up_on'])}{done}</span>")
        html += "<p class='entry'>" + "<br>".join(lines) + "</p>"
    return html


def _controller(pack: dict) -> str:
    c = pack["controller"]
    dpo = stored(c["dpo_name"])
    dpo_email = c.get("dpo_email") or c["email"]
    if dpo_email:
        dpo += f" &lt;{stored(dpo_email)}&gt;"
    return pairs(
        [
            ("Data controller", stored(c["name"])),
            ("Address", stored(c["address"])),
            ("Contact about your data", stored(c["email"])),
            ("Data protection officer", dpo),
        ]
    )


_REQUEST_ACTIONS = {
    "pack-made": "Subject access pack made",
    "restricted": "Processing restricted",
    "erased": "Your data erased",
}


def _request_label(enum_cls, value: str | None) -> str:
    try:
        return enum_cls(value).label
    except ValueError:
        return value or ""


def _requests(pack: dict) -> str:
    rows = []
    for r in pack.get("requests", []):
        status = stored(_request_label(RequestStatus, r["status"]))
        if r["closed_at"]:
            status += f", {_dt(r['closed_at'])}"
        if r["outcome"]:
            status += f"<br>{stored(r['outcome'])}"
        due = _d(r["due_on"])
        if r["extended_at"]:
            due += f" (extended: {stored(r['extension_reason'])})"
        done = "<br>".join(
            f"{_dt(a['at'])}: {stored(_REQUEST_ACTIONS.get(a['action'], a['action']))}"
            + (f" ({stored(a['values'].get('file'))})" if a["values"].get("file") else "")
            for a in r["actions"]
        )
        rows.append(
            [
                f"#{r['id']} {stored(_request_label(RequestKind, r['kind']))}",
                _d(r["received_on"]),
                due,
                status,
                done,
            ]
        )
    return table(
        ["Request", "Received", "Due", "Outcome", "What we did"],
        [20, 14, 18, 26, 22],
        rows,
        "You have made no requests about your data.",
    )


def _exports(pack: dict) -> str:
    rows = [
        [
            _dt(x["date"]),
            stored(x["campaign"]),
            stored(_channel(x["channel"])),
            stored(x["purpose"]),
        ]
        for x in pack["exports"]
    ]
    return table(
        ["Date", "Campaign", "Channel", "Purpose"],
        [18, 32, 14, 36],
        rows,
        "You have not been included in any campaign list.",
    )


_SUPPRESSION_REASONS = {
    "opt-out": "You opted out",
    "objection": "You objected to direct marketing",
    "erasure": "Your data was erased",
    "email-tool": "Unsubscribed or bounced in our email tool",
    "manual": "Added by our staff",
}


_ADDRESS_KINDS = {
    "email": "Email address",
    "phone": "Phone number",
    "other-email": "Other email address",
    "other-phone": "Other phone number",
}


def _suppression(pack: dict) -> str:
    sup = pack["suppression"]
    if not sup["suppressed"]:
        text = "None of your email addresses and phone numbers is on our suppression list."
        return f"<p>{text}</p><p class='muted'>{stored(sup['explanation'])}</p>"
    rows = [
        [
            stored(_ADDRESS_KINDS.get(e["address"], e["address"])),
            stored(_channel(e["channel"])),
            stored(_SUPPRESSION_REASONS.get(e["reason"], e["reason"])),
            _dt(e["created_at"]),
        ]
        for e in sup["entries"]
    ]
    return (
        "<p>You are on our suppression list: we will not market to you on these channels.</p>"
        + table(["Address", "Channel", "Why", "Since"], [22, 22, 28, 28], rows, "")
        + f"<p class='muted'>{stored(sup['explanation'])}</p>"
    )


def _recipients(pack: dict) -> str:
    rows = [[stored(p["name"]), stored(p["purpose"])] for p in pack["processors"]]
    return (
        "<h3>Within our company</h3>"
        + bullets(pack["recipients"])
        + "<h3>Service providers who process it for us</h3>"
        + table(["Provider", "What they do"], [35, 65], rows, "")
        + "<h3>Transfers outside the UK</h3>"
        + f"<p>{stored(pack['international_transfers'])}</p>"
    )


def _retention(pack: dict) -> str:
    r = pack["retention"]
    return (
        f"<p>{stored(r['rule'])}</p>"
        + pairs(
            [
                (f"Counted from ({r['counted_from_event']})", _d(r["counted_from"])),
                ("Your record is next reviewed by", _d(r["review_due"])),
            ]
        )
        + f"<p>{stored(r['suppression_list'])}</p><p>{stored(r['campaign_records'])}</p>"
    )


def _rights(pack: dict) -> str:
    c = pack["complaint"]
    html = pairs([(r["title"], stored(r["text"])) for r in pack["rights"]])
    html += f"<p>{stored(pack['how_to_exercise_rights'])}</p>"
    controller = pack.get("controller") or {}
    if controller.get("email"):
        html += (
            f"<p>Write to {stored(controller['name'])} at <b>{stored(controller['email'])}</b>, "
            f"or by post to {stored(' '.join((controller.get('address') or '').split()))}.</p>"
        )
    html += (
        f"<h3>Right to complain to the {stored(c['organisation'])}</h3><p>{stored(c['text'])}</p>"
    )
    html += pairs(
        [
            ("Website", stored(c["website"])),
            ("Complaint form", stored(c["complaint_form"])),
            ("Helpline", stored(c["phone"])),
            ("Post", stored(c["address"])),
        ]
    )
    return html


_AUDIT_ACTIONS = {
    "prospect.created": "Record created",
    "prospect.edited": "Record changed",
    "prospect.deleted": "Record deleted",
    "correspondence.logged": "Correspondence noted",
    "followup.done": "Follow-up done",
    "sar.created": "Subject access pack made",
    "prospect.restricted": "Processing restricted",
    "prospect.unrestricted": "Restriction lifted",
    "prospect.erased": "Personal data erased",
}


def _audit_action(action: str) -> str:
    if action.startswith("consent."):
        return action_title(action.removeprefix("consent."))
    return _AUDIT_ACTIONS.get(action) or action


def _audit_details(entry: dict, shown_entries: set) -> str:
    """An audit entry's values; a pointer instead where another section shows them in full.

    Correspondence and the consent ledger appear in full above; repeating
    each summary here would double the pack. A correspondence entry that
    no longer exists is not shown above, so its audited text is shown here.
    """
    action, values = entry["action"], entry["values"]
    if action.startswith("consent."):
        return "<span class='muted'>Shown under “History of your marketing choices”.</span>"
    if action == "correspondence.logged" and values.get("entry") in shown_entries:
        return "<span class='muted'>Shown under “Our correspondence with you”.</span>"
    parts = []
    for key, value in sorted(values.items()):
        name = key.replace("_", " ").capitalize()
        if isinstance(value, dict) and set(value) <= {"old", "new"}:
            old, new = value.get("old"), value.get("new")
            if action.endswith(".created"):
                parts.append(f"{name}: {new}")
            else:
                parts.append(
                    f"{name}: {'—' if old is None else old} → {'—' if new is None else new}"
                )
        elif value is not None:
            parts.append(f"{name}: {value}")
    return "<br>".join(stored(p) for p in parts)


def _log(pack: dict) -> str:
    shown = {c["id"] for c in pack["correspondence"]}
    rows = [
        [
            _dt(e["at"]),
            stored(_audit_action(e["action"])),
            stored(e["actor"]),
            _audit_details(e, shown)
            + (f"<br>Reason: {stored(e['reason'])}" if e["reason"] else ""),
        ]
        for e in pack["processing_log"]
    ]
    intro = (
        "<p>Our audit trail records each change to your record, who made it and when, "
        "and each time we made a pack like this one.</p>"
    )
    return intro + table(
        ["When", "What", "Who", "Details"],
        [18, 22, 14, 46],
        rows,
        "No change to your record has been audited since it was created; what we did "
        "with it is in the sections above.",
    )


SECTIONS = (
    ("The data we hold about you", _details),
    ("Where we got your details", _source),
    ("Why we use it, and our lawful basis", _basis),
    ("Your marketing choices", _permissions),
    ("History of your marketing choices", _history),
    ("Our correspondence with you", _correspondence),
    ("Campaign lists you were included in", _exports),
    ("Your requests about your data", _requests),
    ("Our suppression list", _suppression),
    ("Who receives your data", _recipients),
    ("How long we keep it", _retention),
    ("Automated decisions", lambda pack: f"<p>{stored(pack['automated_decisions'])}</p>"),
    ("Your rights", _rights),
    ("History of changes to your record", _log),
)


def subject_name(pack: dict) -> str:
    s = pack["subject"]
    return f"{s['first_name']} {s['last_name']}"


def pack_html(pack: dict) -> str:
    """The whole pack as rich text (every stored value escaped)."""
    parts = [
        "<h1>Subject access pack</h1>",
        f"<p class='sub'>For {stored(subject_name(pack))} · prepared on "
        f"{_dt(pack['generated_at'])} by {stored(pack['generated_by'])}"
        f" for {stored(pack['controller']['name'])}</p>",
        f"<p>{stored(pack['introduction'])}</p>",
        "<h3>Who holds your data</h3>",
        _controller(pack),
    ]
    for n, (title, section) in enumerate(SECTIONS, start=1):
        parts.append(f"<h2>{n}. {escape(title)}</h2>")
        parts.append(section(pack))
    return document("".join(parts))
