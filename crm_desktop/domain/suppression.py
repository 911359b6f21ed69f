"""Keyed hashes for the suppression list: we keep the minimum, never the address."""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers

from .validation import DEFAULT_REGION, normalise_email


def address_kind(address: str) -> str:
    return "email" if "@" in address else "phone"


def canonical_address(address: str) -> str:
    """The form that is hashed: lower-cased normalised email, or E.164 phone.

    Raises ValueError for something that is neither an email nor a phone number.
    """
    text = address.strip()
    if "@" in text:
        try:
            return (normalise_email(text) or "").lower()
        except ValueError:
            # An address the validator dislikes can still be suppressed.
            return text.lower()
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError(f"'{text[:60]}' is neither an email address nor a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"'{text[:60]}' is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def digest(key: bytes, canonical: str) -> str:
    """HMAC-SHA256 of a canonical address with the database's secret key."""
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()
