"""Words for marketing permissions: what the panel, dialogs and ledger say.

The services return stable values ("opted-out", "web-form"); a person reads
"Opted out on 7 Mar 2026 (Phone)". Keeping every such sentence here means
the panel, the dialogs and the tests agree on one wording, and a change of
phrasing happens in one place. Nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from html import escape

from crm_desktop.domain.consent_wording import action_title, event_facts
from crm_desktop.domain.dates import format_date, format_datetime
from crm_desktop.domain.eligibility import ALL, Exclusion
from crm_desktop.domain.enums import (
    Channel,
    ConsentMethod,
    LawfulBasis,
    OptOutSource,
    SubscriberType,
)
from crm_desktop.services.marketing import ChannelStatus, ConsentEventView, MarketingView

# Messages from the validators that read as the end of a sentence starting
# with the field's label (as in messages.field_message).
_PREDICATES = ("is ", "are ", "cannot ", "must ", "contains ", "has ", "needs ")


def label(enum_cls, value: str | None) -> str:
    """The readable label of a stored enum value (the value itself if unknown)."""
    if not value:
        return ""
    if enum_cls is Channel and value == ALL:
        return "All channels"
    try:
        return enum_cls(value).label
    except ValueError:
        return value


def channel_label(value: str | None) -> str:
    return label(Channel, value)


def with_labels(errors: Mapping[str, str], labels: Mapping[str, str]) -> dict[str, str]:
    """Prefix our own field labels to predicate messages ("is required").

    ``validation.field_label`` knows the prospect form's fields, not the
    marketing ones, so ``{"evidence": "is required"}`` would read
    "evidence is required."; this makes it "What they were told is required".
    """
    out = {}
    for field, message in errors.items():
        text = message.strip()
        if field in labels and text.startswith(_PREDICATES):
            text = f"{labels[field]} {text}"
        out[field] = text
    return out


def _quoted(text: str | None, limit: int = 200) -> str:
    if not text:
        return ""
    one_line = " ".join(text.split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    return f"“{one_line}”"


# ----------------------------------------------------------------- status


def basis_text(view: MarketingView) -> str:
    """The lawful basis as one short line ("Legitimate interest")."""
    return label(LawfulBasis, view.lawful_basis)


def basis_detail(view: MarketingView) -> str:
    """What the basis rests on: the assessment and the note, or what it means."""
    basis = LawfulBasis(view.lawful_basis)
    if basis is LawfulBasis.LEGITIMATE_INTEREST:
        parts = []
        if view.li_assessment_name:
            parts.append(f"Assessment: {view.li_assessment_name}")
        if view.li_note:
            parts.append(f"Note: {view.li_note}")
        return "\n".join(parts) or "No written note: this person cannot be marketed to yet."
    if basis is LawfulBasis.CONSENT:
        return "Marketed only on the channels they consented to."
    return "Not marketed to, except on channels they consented to."


def subscriber_text(view: MarketingView) -> str:
    kind = label(SubscriberType, view.subscriber_type)
    how = "inferred from the email domain" if view.subscriber_type_inferred else "set by a person"
    return f"{kind} ({how})"


def status_text(c: ChannelStatus) -> str:
    """Consent, opt-out or neither, with the date and how."""
    if c.opted_out:
        how = [label(OptOutSource, c.opt_out_source)] if c.opt_out_source else []
        if c.opt_out_reason:
            how.append(_quoted(c.opt_out_reason, 120))
        text = f"Opted out on {format_date(_local_date(c.opted_out_at))}"
        return f"{text} ({'; '.join(how)})" if how else text
    if c.consent:
        text = f"Consent given on {format_date(_local_date(c.consent_at))}"
        if c.consent_method:
            text += f" by {label(ConsentMethod, c.consent_method).lower()}"
        if c.consent_policy_version:
            text += f", privacy notice {c.consent_policy_version}"
        return text
    return "No consent"


def evidence_tooltip(c: ChannelStatus) -> str:
    """The full evidence behind a consent (plain text, for a tooltip)."""
    if not c.consent:
        return ""
    lines = [
        f"Given by {c.consent_given_by or 'the prospect'} on {format_datetime(c.consent_at)}",
        f"How: {label(ConsentMethod, c.consent_method)}",
        f"They were told: {_quoted(c.consent_wording, 400)}",
    ]
    if c.consent_policy_version:
        lines.append(f"Privacy notice: {c.consent_policy_version}")
    if c.consent_recorded_by:
        lines.append(f"Recorded by {c.consent_recorded_by}")
    if c.opted_out:
        lines.append("They have opted out since: this consent no longer counts.")
    return "\n".join(lines)


def exclusion_labels(values: list[str]) -> list[str]:
    out = []
    for value in values:
        try:
            out.append(Exclusion(value).label)
        except ValueError:
            out.append(value)
    return out


def suppressed_text(view: MarketingView) -> str:
    """ "On the suppression list (…)" or "" when the person's addresses are not on it."""
    if not view.suppressed:
        return ""
    if ALL in view.suppressed:
        return "On the suppression list (all channels)"
    return f"On the suppression list ({', '.join(channel_label(c) for c in view.suppressed)})"


def summary(view: MarketingView) -> str:
    """One line for the details tab: who may be marketed to on what, now."""
    channels = view.channels
    if channels and all(c.opted_out for c in channels):
        return "Opted out of all channels"
    ok = [channel_label(c.channel) for c in channels if not c.exclusions]
    blocked = [channel_label(c.channel) for c in channels if c.exclusions]
    if not ok:
        text = "Not to be marketed to on any channel now"
        first = channels[0].exclusions if channels else []
        shared = [v for v in first if all(v in c.exclusions for c in channels)]
        if shared:
            text += f" ({', '.join(exclusion_labels(shared)).lower()})"
        return text
    if not blocked:
        return "OK on all channels"
    return f"OK: {', '.join(ok)} · Not now: {', '.join(blocked)}"


def _local_date(value: datetime | None):
    return value.astimezone().date() if value is not None else None


# ----------------------------------------------------------------- ledger


def event_details(event: ConsentEventView, assessments: Mapping[int, str]) -> list[str]:
    """The event's details as short readable lines (plain text).

    The facts and their wording are ``domain.consent_wording``'s; here the
    short ones share a line and what a person typed is quoted, shortened,
    on a line of its own.
    """

    def assessment_name(ident: int) -> str:
        return assessments.get(ident, f"#{ident} (deleted)")

    facts = event_facts(event.action, event.details, assessment_name=assessment_name)
    short = "; ".join(f"{f.label}: {f.value}" for f in facts if not f.free_text)
    typed = [f"{f.label}: {_quoted(f.value, 300)}" for f in facts if f.free_text]
    return [short, *typed] if short else typed


def group_events(events: list[ConsentEventView]) -> list[tuple[ConsentEventView, list[str]]]:
    """Merge the per-channel entries one action wrote into one entry with its channels.

    An opt-out of all channels writes four ledger rows that differ only in
    the channel; shown as one entry ("Opted out · All channels") the history
    reads like what the person did. Each item is (first event, channels).
    """
    groups: list[tuple[ConsentEventView, list[str]]] = []
    for event in events:
        if groups and event.channel:
            first, channels = groups[-1]
            if (
                channels
                and first.action == event.action
                and first.recorded_by == event.recorded_by
                and first.details == event.details
                and abs((first.recorded_at - event.recorded_at).total_seconds()) < 1
                and event.channel not in channels
            ):
                channels.append(event.channel)
                continue
        groups.append((event, [event.channel] if event.channel else []))
    return groups


def channels_text(channels: list[str]) -> str:
    if len(channels) == len(Channel) and set(channels) == {c.value for c in Channel}:
        return "All channels"
    order = [c.value for c in Channel]
    ordered = sorted(channels, key=lambda c: order.index(c) if c in order else len(order))
    return ", ".join(channel_label(c) for c in ordered)


def event_html(
    event: ConsentEventView,
    assessments: Mapping[int, str],
    channels: list[str] | None = None,
    *,
    muted: str,
) -> str:
    """One ledger entry (or a group of them) as rich text; everything stored is escaped.

    ``muted`` is the colour (a CSS colour name or #rrggbb) of the secondary text.
    """
    channels = channels if channels is not None else ([event.channel] if event.channel else [])
    title = escape(action_title(event.action))
    if channels:
        title += f" · {escape(channels_text(channels))}"
    meta = f"{escape(format_datetime(event.recorded_at))} by {escape(event.recorded_by)}"
    lines = [f"<b>{title}</b> <span style='color:{muted}'>— {meta}</span>"]
    lines.extend(escape(part) for part in event_details(event, assessments))
    return "<p style='margin-bottom:6px'>" + "<br>".join(lines) + "</p>"


def event_text(
    event: ConsentEventView, assessments: Mapping[int, str], channels: list[str] | None = None
) -> str:
    """One ledger entry (or a group) as plain text (tests, copying)."""
    channels = channels if channels is not None else ([event.channel] if event.channel else [])
    head = action_title(event.action)
    if channels:
        head += f" · {channels_text(channels)}"
    head += f" — {format_datetime(event.recorded_at)} by {event.recorded_by}"
    return "\n".join([head, *event_details(event, assessments)])
