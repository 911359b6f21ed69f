"""What each entry of the consent ledger is called and what its details say.

One wording for every reader of the ledger: the marketing panel, a
prospect's history (``services.history``, GUI and ``crm history``) and the
subject access pack. Each of them lays the facts out its own way (lines,
a table cell, quoted and shortened in the panel) but the titles, the
labels and the order come from here. The pack speaks to the person
themselves, so ``to_subject`` swaps the few labels that say "they" for
"you". Pure functions over the stored values (the ledger's ``details``
dict); nothing here reads the database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from .dates import format_datetime
from .enums import ConsentMethod, LawfulBasis, OptOutSource, SubscriberType

ARROW = "→"

TITLES = {
    "consent-granted": "Consent given",
    "opt-out-lifted": "Opt-out lifted by an explicit opt-in",
    "opted-out": "Opted out",
    "objected": "Objected to direct marketing",
    "basis-set": "Lawful basis set",
    "subscriber-type-set": "Subscriber type set",
    "personalisation-refused": "Refused personalised marketing",
    "personalisation-allowed": "Allowed personalised marketing again",
}
# Actions whose details add nothing to their title.
_NO_DETAILS = ("opt-out-lifted", "personalisation-refused", "personalisation-allowed")


class Fact(NamedTuple):
    """One detail of a ledger entry: "Label: value".

    ``free_text`` marks what a person typed (what they were told, a reason,
    a note): shown in full in the pack and the history, quoted and
    shortened in the panel.
    """

    label: str
    value: str
    free_text: bool = False


def action_title(action: str) -> str:
    """ "Consent given", "Opted out", …; an unknown action reads as its words."""
    return TITLES.get(action) or action.replace("-", " ").capitalize()


def enum_label(enum_cls, value: object) -> str:
    """The readable label of a stored enum value: "—" when empty, the value when unknown."""
    if value in (None, ""):
        return "—"
    try:
        return enum_cls(value).label
    except ValueError:
        return str(value)


def _when(value: object) -> str:
    try:
        return format_datetime(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _change(enum_cls, details: dict) -> str:
    return f"{enum_label(enum_cls, details.get('old'))} {ARROW} {enum_label(enum_cls, details.get('new'))}"


def event_facts(
    action: str,
    details: dict,
    *,
    assessment_name: Callable[[int], str] | None = None,
    to_subject: bool = False,
) -> list[Fact]:
    """The details of one ledger entry as labelled facts, in reading order.

    ``assessment_name`` names a legitimate-interest assessment by id (the
    caller knows which still exist); without it the id is shown ("#3").
    ``to_subject`` words the facts for the person themselves (the pack).
    """
    d = details
    facts: list[Fact] = []
    if action == "consent-granted":
        facts.append(Fact("How", enum_label(ConsentMethod, d.get("method"))))
        if d.get("given_by"):
            facts.append(Fact("Given by", str(d["given_by"])))
        if d.get("given_at"):
            facts.append(Fact("Given on", _when(d["given_at"])))
        if d.get("policy_version"):
            facts.append(Fact("Privacy notice", str(d["policy_version"])))
        if d.get("wording"):
            told = "What you were told" if to_subject else "They were told"
            facts.append(Fact(told, str(d["wording"]), True))
    elif action in ("opted-out", "objected"):
        if d.get("source"):
            source = "How you told us" if to_subject else "Source"
            facts.append(Fact(source, enum_label(OptOutSource, d["source"])))
        if d.get("reason"):
            facts.append(Fact("Reason", str(d["reason"]), True))
    elif action == "basis-set":
        facts.append(Fact("Lawful basis", _change(LawfulBasis, d)))
        if d.get("assessment_id"):
            ident = d["assessment_id"]
            name = assessment_name(ident) if assessment_name else f"#{ident}"
            facts.append(Fact("Assessment", name))
        if d.get("note"):
            facts.append(Fact("Note", str(d["note"]), True))
    elif action == "subscriber-type-set":
        if to_subject:
            how = "from your email address" if d.get("inferred") else "set by our staff"
        else:
            how = "inferred from the email domain" if d.get("inferred") else "set by a person"
        facts.append(Fact("Subscriber type", f"{_change(SubscriberType, d)} ({how})"))
    elif action not in _NO_DETAILS:
        facts.extend(
            Fact(key.replace("_", " ").capitalize(), str(value))
            for key, value in sorted(d.items())
            if value not in (None, "")
        )
    return facts
