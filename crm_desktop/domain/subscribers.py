"""PECR subscriber type, inferred from the email domain.

Personal webmail and ISP domains mean an individual subscriber; anything
else (a school, trust, council or company domain) is corporate. A person can
override the inference per prospect. The list is maintained here, in one
place; add domains as they turn up.
"""

from __future__ import annotations

from .enums import SubscriberType

PERSONAL_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        # Webmail
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "outlook.co.uk",
        "hotmail.com",
        "hotmail.co.uk",
        "live.com",
        "live.co.uk",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "ymail.com",
        "rocketmail.com",
        "aol.com",
        "aol.co.uk",
        "icloud.com",
        "me.com",
        "mac.com",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "gmx.com",
        "gmx.co.uk",
        "mail.com",
        "zoho.com",
        "yandex.com",
        "fastmail.com",
        "hey.com",
        "tutanota.com",
        "mail.ru",
        "qq.com",
        # UK ISPs
        "btinternet.com",
        "btopenworld.com",
        "talk21.com",
        "sky.com",
        "virginmedia.com",
        "ntlworld.com",
        "blueyonder.co.uk",
        "talktalk.net",
        "tiscali.co.uk",
        "plus.net",
        "plusnet.com",
        "orange.net",
        "wanadoo.co.uk",
        "o2.co.uk",
        "freeserve.co.uk",
        "lineone.net",
        "eclipse.co.uk",
        "madasafish.com",
        "supanet.com",
        "waitrose.com",
    }
)


def infer_subscriber_type(email: str | None) -> SubscriberType:
    """Individual for personal-mail domains, corporate otherwise (and with no email)."""
    if not email or "@" not in email:
        return SubscriberType.CORPORATE
    domain = email.rsplit("@", 1)[1].lower().rstrip(".")
    return (
        SubscriberType.INDIVIDUAL if domain in PERSONAL_MAIL_DOMAINS else SubscriberType.CORPORATE
    )


def subscriber_type(email: str | None, override: str | None) -> SubscriberType:
    return SubscriberType(override) if override else infer_subscriber_type(email)
