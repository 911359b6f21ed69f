"""Database URLs as people may see them: never with the password.

Every message, log line, window title and audit entry that names a database
goes through :func:`safe_url` (or :func:`mask_secrets` for text that may
quote a URL, such as a driver's error), so a password given in
``postgresql+psycopg://user:PASSWORD@host/db`` never reaches a screen, a
terminal's scroll-back or the audit trail.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

MASK = "***"

# scheme://user:secret@  (what make_url cannot parse still gets masked)
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<secret>[^@\s]*)@")
# libpq's key=value form: password=secret or password='sec ret'
_CONNINFO = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|\S+)", re.I)


def safe_url(url: str | URL) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    try:
        parsed = url if isinstance(url, URL) else make_url(str(url))
    except ArgumentError:
        return mask_secrets(str(url))
    return parsed.render_as_string(hide_password=True)


def url_without_password(url: str | URL) -> str:
    """``url`` with no password at all: what to suggest a person types.

    The password then comes from a prompt or ``~/.pgpass`` (see README).
    """
    try:
        parsed = url if isinstance(url, URL) else make_url(str(url))
    except ArgumentError:
        return mask_secrets(str(url))
    return parsed.set(password=None).render_as_string(hide_password=False)


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` set (for the engine only; never shown)."""
    return make_url(url).set(password=password).render_as_string(hide_password=False)


def mask_secrets(text: str, *urls: str | URL) -> str:
    """``text`` with every password it may quote masked.

    Masks the passwords of ``urls`` wherever they appear (plain or
    URL-quoted), the user-info part of any URL, and libpq's
    ``password=...`` key.
    """
    for url in urls:
        try:
            secret = (url if isinstance(url, URL) else make_url(str(url))).password
        except ArgumentError:
            secret = None
        if secret:
            secret = str(secret)
            for form in {secret, quote(secret, safe=""), unquote(secret)}:
                if form:
                    text = text.replace(form, MASK)
    text = _USERINFO.sub(lambda m: m["head"] + MASK + "@", text)
    return _CONNINFO.sub(lambda m: m["head"] + MASK, text)
