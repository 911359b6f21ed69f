"""Who may be included in a marketing export: the one rule, in one place.

:func:`exclusion_reasons` is pure: it takes the facts about one person and
returns every reason they may not be contacted on a channel (an empty list
means they may). The export service, the GUI preview and the CLI all call
it; nothing else decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import email_validator
import phonenumbers

from .enums import Channel, Labelled, LawfulBasis, SubscriberType
from .validation import normalise_email

ALL = "all"  # a suppression or opt-out that covers every channel


class Exclusion(Labelled):
    """Why someone is left out of an export. Order: most fundamental first."""

    ERASED = "erased"
    RESTRICTED = "restricted"
    OPTED_OUT = "opted-out"
    SUPPRESSED = "suppressed"
    NO_ADDRESS = "no-address"
    INVALID_ADDRESS = "invalid-address"
    NO_BASIS = "no-lawful-basis"
    LI_WITHOUT_NOTE = "li-without-note"
    INDIVIDUAL_WITHOUT_CONSENT = "individual-without-consent"
    PERSONALISATION_REFUSED = "personalisation-refused"

    @property
    def label(self) -> str:
        return _EXCLUSION_LABELS[self]


_EXCLUSION_LABELS = {
    Exclusion.ERASED: "Erased",
    Exclusion.RESTRICTED: "Processing restricted",
    Exclusion.OPTED_OUT: "Opted out",
    Exclusion.SUPPRESSED: "On the suppression list",
    Exclusion.NO_ADDRESS: "No address for this channel",
    Exclusion.INVALID_ADDRESS: "Address invalid",
    Exclusion.NO_BASIS: "No lawful basis",
    Exclusion.LI_WITHOUT_NOTE: "Legitimate interest without a written note",
    Exclusion.INDIVIDUAL_WITHOUT_CONSENT: "Individual subscriber without consent",
    Exclusion.PERSONALISATION_REFUSED: "Refused personalised marketing",
}

# Each reason as one bit, so a set of reasons is one integer (the SQL form of
# the rule, persistence.eligibility_sql, computes it per person); the bits
# follow the order above, which is the order exclusion_reasons lists them in.
REASON_BIT: dict[Exclusion, int] = {reason: 1 << i for i, reason in enumerate(Exclusion)}
_REASONS_OF_MASK: dict[int, list[Exclusion]] = {}


def reasons_from_mask(mask: int) -> list[Exclusion]:
    """The reasons whose bits are set in ``mask``, in exclusion_reasons' order.

    The list returned is shared between calls with the same mask: do not change it.
    """
    try:
        return _REASONS_OF_MASK[mask]
    except KeyError:
        if mask < 0 or mask >> len(REASON_BIT):
            raise ValueError(f"{mask} is not a set of exclusion reasons") from None
        reasons = _REASONS_OF_MASK[mask] = [r for r, b in REASON_BIT.items() if mask & b]
        return reasons


def mask_of(reasons) -> int:
    """The bits of ``reasons`` (the inverse of :func:`reasons_from_mask`)."""
    mask = 0
    for reason in reasons:
        mask |= REASON_BIT[reason]
    return mask


# An email address in its plain form: dot-separated atoms, "@", labels of
# letters, digits and inner hyphens ending in a top-level domain of 2-63
# letters, within the length limits, with no "--" in the domain and no
# special-use top-level domain. Exactly what validation's fast path accepts
# and keeps as it is but for the domain's case (tested against it): such an
# address is valid, its canonical form for the suppression list is itself
# lower-cased, and its domain is the text after its one "@". The export's
# SQL form of this rule relies on that (persistence.eligibility_sql); it is
# one C call per address, where SQLite's GLOB took ten times as long.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_SPECIAL_TLDS = "|".join(
    sorted(re.escape(d) for d in email_validator.SPECIAL_USE_DOMAIN_NAMES if "." not in d)
)
PLAIN_EMAIL = re.compile(
    r"(?=[^@]{1,64}@)(?=.{1,254}\Z)(?![^@]*@.*--)"
    rf"(?!.*\.(?i:{_SPECIAL_TLDS})\Z)"
    rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}"
)

# PECR: individual subscribers need consent for these; LI is not enough.
CONSENT_ONLY_FOR_INDIVIDUALS = frozenset({Channel.EMAIL, Channel.SMS})


@dataclass(frozen=True)
class ChannelState:
    consent: bool = False
    opted_out: bool = False


@dataclass(frozen=True)
class MarketingFacts:
    """Everything the rule needs to know about one person."""

    email: str | None
    phone: str | None  # E.164
    basis: LawfulBasis = LawfulBasis.NONE
    has_li_note: bool = False  # an LI assessment is linked, or a written note
    subscriber_type: SubscriberType = SubscriberType.CORPORATE
    personalisation_refused: bool = False
    erased: bool = False
    restricted: bool = False
    channels: Mapping[Channel, ChannelState] = field(default_factory=dict)
    # Channels (or ALL) for which this person's email / phone is suppressed.
    suppressed_email: frozenset[str] = frozenset()
    suppressed_phone: frozenset[str] = frozenset()


def is_mobile(e164: str | None) -> bool:
    """A number that can take SMS: a mobile, or (UK) in the 07 mobile ranges."""
    if not e164:
        return False
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(number)
    if kind in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return True
    # Ofcom's drama range (07700 900xxx) is not "valid" but is a mobile range;
    # 070 (personal numbers) and 076 (pagers) are not mobiles.
    national = str(number.national_number)
    return (
        number.country_code == 44 and national.startswith("7") and national[:2] not in ("70", "76")
    )


def email_is_valid(email: str | None) -> bool:
    if not email:
        return False
    try:
        return normalise_email(email) is not None
    except ValueError:
        return False


def phone_is_valid(e164: str | None) -> bool:
    if not e164:
        return False
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(number)


def channel_address_kinds(channel: Channel) -> tuple[str, ...]:
    """Which of a person's addresses a channel uses ("email", "phone")."""
    return {
        Channel.EMAIL: ("email",),
        Channel.SMS: ("phone",),
        Channel.PHONE: ("phone",),
        Channel.ONLINE: ("email", "phone"),
    }[channel]


def _marked(marks, channel: Channel) -> bool:
    """Whether an address's suppression marks (channel values or "all") cover ``channel``."""
    return ALL in marks or channel.value in marks


def is_suppressed(facts: MarketingFacts, channel: Channel) -> bool:
    for kind in channel_address_kinds(channel):
        marks = facts.suppressed_email if kind == "email" else facts.suppressed_phone
        if _marked(marks, channel):
            return True
    return False


def channels_suppressed_by(kind: str, marks) -> list[Channel]:
    """The channels an address of ``kind`` ("email", "phone") with these marks is suppressed for."""
    return [c for c in Channel if kind in channel_address_kinds(c) and _marked(marks, c)]


def address_for(facts: MarketingFacts, channel: Channel) -> str | None:
    """The address an export for ``channel`` would use, if the person has one."""
    if channel is Channel.EMAIL:
        return facts.email
    if channel is Channel.SMS:
        return facts.phone if is_mobile(facts.phone) else None
    if channel is Channel.PHONE:
        return facts.phone
    return facts.email or facts.phone  # online audiences match on either


def exclusion_reasons(
    facts: MarketingFacts, channel: Channel, *, personalised: bool = False
) -> list[Exclusion]:
    """Every reason ``facts`` may not be included for ``channel``; [] if they may."""
    reasons: list[Exclusion] = []
    state = facts.channels.get(channel, ChannelState())
    if facts.erased:
        reasons.append(Exclusion.ERASED)
    if facts.restricted:
        reasons.append(Exclusion.RESTRICTED)
    if state.opted_out:
        reasons.append(Exclusion.OPTED_OUT)
    if is_suppressed(facts, channel):
        reasons.append(Exclusion.SUPPRESSED)
    address = address_for(facts, channel)
    if address is None:
        reasons.append(Exclusion.NO_ADDRESS)
    elif not (email_is_valid(address) if "@" in address else phone_is_valid(address)):
        reasons.append(Exclusion.INVALID_ADDRESS)
    if not state.consent:
        if facts.basis is LawfulBasis.LEGITIMATE_INTEREST:
            if not facts.has_li_note:
                reasons.append(Exclusion.LI_WITHOUT_NOTE)
            if (
                facts.subscriber_type is SubscriberType.INDIVIDUAL
                and channel in CONSENT_ONLY_FOR_INDIVIDUALS
            ):
                reasons.append(Exclusion.INDIVIDUAL_WITHOUT_CONSENT)
        else:
            # No basis at all, or consent is the basis but not given for this channel.
            reasons.append(Exclusion.NO_BASIS)
    if personalised and facts.personalisation_refused:
        reasons.append(Exclusion.PERSONALISATION_REFUSED)
    return reasons


def is_eligible(facts: MarketingFacts, channel: Channel, *, personalised: bool = False) -> bool:
    return not exclusion_reasons(facts, channel, personalised=personalised)
