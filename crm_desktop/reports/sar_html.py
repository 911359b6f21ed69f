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

from crm_desktop.domain.dates import format_date, format_datetime
from crm_desktop.domain.eligibility import ALL, Exclusion
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
from crm_desktop.reports.marketing_text import action_text, label

_MUTED = "#5f6b7a"
_RULE = "#c9d1da"
_HEAD = "#eef1f4"
_STYLE = f"""
body {{ font-size: 10pt; }}
h1 {{ font-size: 18pt; font-weight: 600; margin-top: 0; margin-bottom: 4px; }}
h2 {{ font-size: 13pt; font-weight: 600; margin-top: 22px; margin-bottom: 8px; }}
h3 {{ font-size: 11pt; font-weight: 600; margin-top: 14px; margin-bottom: 6px; }}
p {{ margin-top: 0; margin-bottom: 8px; }}
ul {{ margin-top: 0; margin-bottom: 8px; }}
.sub {{ color: {_MUTED}; margin-bottom: 14px; }}
.muted {{ color: {_MUTED}; }}
.entry {{ margin-bottom: 12px; }}
th {{ background-color: {_HEAD}; font-weight: 600; text-align: left; }}
td.k {{ color: {_MUTED}; }}
"""


# ------------------------------------------------------------------ text


def _t(value: object) -> str:
    """Stored text, escaped, keeping the writer's line breaks."""
    if value is None:
        return ""
    return escape(str(value)).replace("\n", "<br>")


def _dt(value: str | None) -> str:
    return format_datetime(datetime.fromisoformat(value)) if value else ""


def _d(value: str | None) -> str:
    return format_date(date.fromisoformat(value)) if value else ""


def _yes(value: bool) -> str:
    return "Yes" if value else "No"


def _channel(value: str | None) -> str:
    return "All channels" if value == ALL else label(Channel, value)


def _kv(rows: list[tuple[str, str]]) -> str:
    """A two-column table of label and (already escaped) value; empty values say so."""
    cells = "".join(
        f"<tr><td class='k' width='30%'>{escape(k)}</td>"
        f"<td width='70%'>{v or '<span class=muted>—</span>'}</td></tr>"
        for k, v in rows
    )
    return (
        f"<table width='100%' cellspacing='0' cellpadding='3' style='margin-bottom: 8px'>"
        f"{cells}</table>"
    )


def _table(headers: list[str], widths: list[int], rows: list[list[str]], empty: str) -> str:
    """A ruled table with a header row; ``rows`` hold escaped HTML."""
    if not rows:
        return f"<p class='muted'>{escape(empty)}</p>"
    head = "".join(
        f"<th width='{w}%'>{escape(h)}</th>" for h, w in zip(headers, widths, strict=True)
    )
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f"<table width='100%' border='1' cellspacing='0' cellpadding='4' "
        f"style='border-color:{_RULE}; border-style: solid; border-collapse: collapse; "
        f"margin-bottom: 8px'>"
        f"<thead><tr>{head}</tr></thead>{body}</table>"
    )


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{_t(item)}</li>" for item in items) + "</ul>"


# -------------------------------------------------------------- sections


def _details(pack: dict) -> str:
    s = pack["subject"]
    restricted = _dt(s["restricted_at"])
    if restricted and s["restriction_reason"]:
        restricted += f" ({_t(s['restriction_reason'])})"
    html = _kv(
        [
            ("Name", _t(f"{s['first_name']} {s['last_name']}")),
            ("Email", _t(s["email"])),
            ("Phone", _t(format_phone(s["phone"]))),
            ("Job role", _t(s["role"])),
            ("Interested in", _t(", ".join(pack["interests"]))),
            ("Stage of our conversations", _t(label(Stage, s["stage"]))),
            ("Looked after by", _t(s["owner"])),
            (
                "Subscriber type (for marketing law)",
                _t(label(SubscriberType, s["subscriber_type"]))
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
        html += _kv(
            [
                ("Name", _t(school["name"])),
                ("URN", _t(school["urn"])),
                ("Phase", _t(label(SchoolPhase, school["phase"]))),
                ("Local authority or region", _t(school["local_authority"])),
                ("Postcode", _t(school["postcode"])),
                ("Phone", _t(format_phone(school["phone"]))),
                ("Website", _t(school["website"])),
            ]
        )
    html += "<h3>The kinds of data we hold</h3>" + _list(pack["categories"])
    return html


def _source(pack: dict) -> str:
    src = pack["source"]
    return _kv(
        [
            ("How we got your details", _t(label(DataSource, src["source"]))),
            ("Details", _t(src["detail"])),
            ("When", _d(src["date"])),
        ]
    )


def _basis(pack: dict) -> str:
    b = pack["lawful_basis"]
    html = _list(pack["purposes"]) + f"<p>{_t(b['sales_basis'])}</p>"
    rows = [("Lawful basis for marketing", _t(label(LawfulBasis, b["marketing_basis"])))]
    a = b["assessment"]
    if a is not None:
        rows += [
            ("Legitimate-interest assessment", _t(a["name"])),
            ("Its purpose", _t(a["purpose"])),
            ("Why the processing is necessary", _t(a["necessity"])),
            ("Balancing your interests and ours", _t(a["balancing"])),
        ]
    if b["note"]:
        rows.append(("Note about you", _t(b["note"])))
    return html + _kv(rows)


def _reasons(values: list[str]) -> str:
    out = []
    for value in values:
        try:
            out.append(Exclusion(value).label)
        except ValueError:
            out.append(value)
    return ", ".join(out)


def _permissions(pack: dict) -> str:
    perms = pack["marketing_permissions"]
    rows = []
    for c in perms:
        consent = f"Yes, {_dt(c['consent_at'])}" if c["consent"] else "No"
        opted = f"Yes, {_dt(c['opted_out_at'])}" if c["opted_out"] else "No"
        if c["opted_out"] and c["opt_out_source"]:
            opted += f" ({_t(label(OptOutSource, c['opt_out_source']))})"
        if c["opted_out"] and c["opt_out_reason"]:
            opted += f"<br>{_t(c['opt_out_reason'])}"
        may = "Yes" if c["may_be_contacted"] else "No: " + _t(_reasons(c["not_contacted_because"]))
        rows.append([_t(_channel(c["channel"])), consent, opted, may])
    html = _table(
        ["Channel", "Consent", "Opted out", "May we market to you now?"], [16, 24, 30, 30], rows, ""
    )
    for c in perms:
        if not c["consent"]:
            continue
        html += f"<h3>Your consent to {escape(_channel(c['channel']))}</h3>" + _kv(
            [
                ("Given on", _dt(c["consent_at"])),
                ("How", _t(label(ConsentMethod, c["consent_method"]))),
                ("What you were told (evidence)", _t(c["consent_evidence"])),
                ("Privacy notice version", _t(c["consent_policy_version"])),
                ("Given by", _t(c["consent_given_by"])),
                ("Recorded by", _t(c["consent_recorded_by"])),
            ]
        )
    return html


def _event_details(event: dict, assessment: dict | None) -> str:
    """Every detail of a ledger entry, in full (a pack never shortens what we hold)."""
    d = event["details"]
    action = event["action"]
    parts: list[str] = []
    if action == "consent-granted":
        parts.append(f"How: {label(ConsentMethod, d.get('method'))}")
        if d.get("given_by"):
            parts.append(f"Given by: {d['given_by']}")
        if d.get("given_at"):
            parts.append(f"Given on: {_dt(d['given_at'])}")
        if d.get("policy_version"):
            parts.append(f"Privacy notice: {d['policy_version']}")
        if d.get("wording"):
            parts.append(f"What you were told: {d['wording']}")
    elif action in ("opted-out", "objected"):
        if d.get("source"):
            parts.append(f"How you told us: {label(OptOutSource, d['source'])}")
        if d.get("reason"):
            parts.append(f"Reason: {d['reason']}")
    elif action == "basis-set":
        parts.append(f"{label(LawfulBasis, d.get('old'))} → {label(LawfulBasis, d.get('new'))}")
        if d.get("assessment_id"):
            ident = d["assessment_id"]
            name = assessment["name"] if assessment and assessment["id"] == ident else None
            parts.append(f"Assessment: {name or f'#{ident}'}")
        if d.get("note"):
            parts.append(f"Note: {d['note']}")
    elif action == "subscriber-type-set":
        how = "from your email address" if d.get("inferred") else "set by our staff"
        old, new = label(SubscriberType, d.get("old")), label(SubscriberType, d.get("new"))
        parts.append(f"{old} → {new} ({how})")
    else:
        parts = [f"{k.replace('_', ' ')}: {v}" for k, v in sorted(d.items()) if v]
    return "<br>".join(_t(p) for p in parts)


def _history(pack: dict) -> str:
    assessment = pack["lawful_basis"]["assessment"]
    rows = [
        [
            _dt(e["at"]),
            _t(action_text(e["action"])),
            _t(_channel(e["channel"])) if e["channel"] else "",
            _event_details(e, assessment),
            _t(e["recorded_by"]),
        ]
        for e in pack["consent_history"]
    ]
    return _table(
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
        head = f"{_dt(c['occurred_at'])} · {_t(label(ContactKind, c['kind']))}"
        lines = [f"<b>{head}</b> <span class='muted'>— noted by {_t(c['logged_by'])}</span>"]
        if c["subject"]:
            lines.append(f"<b>{_t(c['subject'])}</b>")
        lines.append(_t(c["summary"]))
        if c["follow_up_on"]:
            done = f", done {_dt(c['follow_up_done_at'])}" if c["follow_up_done_at"] else ""
            lines.append(f"<span class='muted'>Follow-up: {_d(c['follow_up_on'])}{done}</span>")
        html += "<p class='entry'>" + "<br>".join(lines) + "</p>"
    return html


def _controller(pack: dict) -> str:
    c = pack["controller"]
    dpo = _t(c["dpo_name"])
    dpo_email = c.get("dpo_email") or c["email"]
    if dpo_email:
        dpo += f" &lt;{_t(dpo_email)}&gt;"
    return _kv(
        [
            ("Data controller", _t(c["name"])),
            ("Address", _t(c["address"])),
            ("Contact about your data", _t(c["email"])),
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
        status = _t(_request_label(RequestStatus, r["status"]))
        if r["closed_at"]:
            status += f", {_dt(r['closed_at'])}"
        if r["outcome"]:
            status += f"<br>{_t(r['outcome'])}"
        due = _d(r["due_on"])
        if r["extended_at"]:
            due += f" (extended: {_t(r['extension_reason'])})"
        done = "<br>".join(
            f"{_dt(a['at'])}: {_t(_REQUEST_ACTIONS.get(a['action'], a['action']))}"
            + (f" ({_t(a['values'].get('file'))})" if a["values"].get("file") else "")
            for a in r["actions"]
        )
        rows.append(
            [
                f"#{r['id']} {_t(_request_label(RequestKind, r['kind']))}",
                _d(r["received_on"]),
                due,
                status,
                done,
            ]
        )
    return _table(
        ["Request", "Received", "Due", "Outcome", "What we did"],
        [20, 14, 18, 26, 22],
        rows,
        "You have made no requests about your data.",
    )


def _exports(pack: dict) -> str:
    rows = [
        [_dt(x["date"]), _t(x["campaign"]), _t(_channel(x["channel"])), _t(x["purpose"])]
        for x in pack["exports"]
    ]
    return _table(
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


def _suppression(pack: dict) -> str:
    sup = pack["suppression"]
    if not sup["suppressed"]:
        text = "Your email address and phone number are not on our suppression list."
        return f"<p>{text}</p><p class='muted'>{_t(sup['explanation'])}</p>"
    rows = [
        [
            _t("Email address" if e["address"] == "email" else "Phone number"),
            _t(_channel(e["channel"])),
            _t(_SUPPRESSION_REASONS.get(e["reason"], e["reason"])),
            _dt(e["created_at"]),
        ]
        for e in sup["entries"]
    ]
    return (
        "<p>You are on our suppression list: we will not market to you on these channels.</p>"
        + _table(["Address", "Channel", "Why", "Since"], [22, 22, 28, 28], rows, "")
        + f"<p class='muted'>{_t(sup['explanation'])}</p>"
    )


def _recipients(pack: dict) -> str:
    rows = [[_t(p["name"]), _t(p["purpose"])] for p in pack["processors"]]
    return (
        "<h3>Within our company</h3>"
        + _list(pack["recipients"])
        + "<h3>Service providers who process it for us</h3>"
        + _table(["Provider", "What they do"], [35, 65], rows, "")
        + "<h3>Transfers outside the UK</h3>"
        + f"<p>{_t(pack['international_transfers'])}</p>"
    )


def _retention(pack: dict) -> str:
    r = pack["retention"]
    return (
        f"<p>{_t(r['rule'])}</p>"
        + _kv(
            [
                (f"Counted from ({r['counted_from_event']})", _d(r["counted_from"])),
                ("Your record is next reviewed by", _d(r["review_due"])),
            ]
        )
        + f"<p>{_t(r['suppression_list'])}</p><p>{_t(r['campaign_records'])}</p>"
    )


def _rights(pack: dict) -> str:
    c = pack["complaint"]
    html = _kv([(r["title"], _t(r["text"])) for r in pack["rights"]])
    html += f"<p>{_t(pack['how_to_exercise_rights'])}</p>"
    controller = pack.get("controller") or {}
    if controller.get("email"):
        html += (
            f"<p>Write to {_t(controller['name'])} at <b>{_t(controller['email'])}</b>, "
            f"or by post to {_t(' '.join((controller.get('address') or '').split()))}.</p>"
        )
    html += f"<h3>Right to complain to the {_t(c['organisation'])}</h3><p>{_t(c['text'])}</p>"
    html += _kv(
        [
            ("Website", _t(c["website"])),
            ("Complaint form", _t(c["complaint_form"])),
            ("Helpline", _t(c["phone"])),
            ("Post", _t(c["address"])),
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
        return action_text(action.removeprefix("consent."))
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
    return "<br>".join(_t(p) for p in parts)


def _log(pack: dict) -> str:
    shown = {c["id"] for c in pack["correspondence"]}
    rows = [
        [
            _dt(e["at"]),
            _t(_audit_action(e["action"])),
            _t(e["actor"]),
            _audit_details(e, shown) + (f"<br>Reason: {_t(e['reason'])}" if e["reason"] else ""),
        ]
        for e in pack["processing_log"]
    ]
    intro = (
        "<p>Our audit trail records each change to your record, who made it and when, "
        "and each time we made a pack like this one.</p>"
    )
    return intro + _table(
        ["When", "What", "Who", "Details"],
        [18, 22, 14, 46],
        rows,
        "No change to your record has been audited since it was created; what we did "
        "with it is in the sections above.",
    )


SECTIONS = (
    ("The data we hold about you", _details),
    ("Where your data came from", _source),
    ("Why we use it, and our lawful basis", _basis),
    ("Your marketing choices", _permissions),
    ("History of your marketing choices", _history),
    ("Our correspondence with you", _correspondence),
    ("Campaign lists you were included in", _exports),
    ("Your requests about your data", _requests),
    ("Our suppression list", _suppression),
    ("Who receives your data", _recipients),
    ("How long we keep it", _retention),
    ("Automated decisions", lambda pack: f"<p>{_t(pack['automated_decisions'])}</p>"),
    ("Your rights", _rights),
    ("History of changes to your record", _log),
)


def subject_name(pack: dict) -> str:
    s = pack["subject"]
    return f"{s['first_name']} {s['last_name']}"


def pack_html(pack: dict) -> str:
    """The whole pack as rich text (every stored value escaped)."""
    parts = [
        f"<html><head><style>{_STYLE}</style></head><body>",
        "<h1>Subject access pack</h1>",
        f"<p class='sub'>For {_t(subject_name(pack))} · prepared on "
        f"{_dt(pack['generated_at'])} by {_t(pack['generated_by'])}"
        f" for {_t(pack['controller']['name'])}</p>",
        f"<p>{_t(pack['introduction'])}</p>",
        "<h3>Who holds your data</h3>",
        _controller(pack),
    ]
    for n, (title, section) in enumerate(SECTIONS, start=1):
        parts.append(f"<h2>{n}. {escape(title)}</h2>")
        parts.append(section(pack))
    parts.append("</body></html>")
    return "".join(parts)
