"""The audit trail's hash chain (pure functions; no database).

Each entry's hash covers its own fields, the hash of every value it records
and the previous entry's hash. Values are stored beside the chain, not in
it, so erasing a person can blank them without breaking verification, while
altering, removing or reordering any entry breaks it.

Blanking is itself checked: a blanked value or reason verifies only when a
later entry in the chain (an erasure, a deletion, a forgotten requester:
:data:`REDACTING_ACTIONS`) names the same record. Everything else stored on
an entry is covered by its hash, so nothing can be blanked, changed or made
unreadable without ``verify`` naming the entry.

An unkeyed SHA-256 chain only shows accidents: anyone who can write the
database can recompute every hash. So entries are keyed: their hash is an
HMAC-SHA256 under a key kept outside the database (see
``services.audit_key``), and each keyed entry names its key (``key_id``, a
fingerprint, never the key) inside what its hash covers. Entries written
before keys existed stay unkeyed and verify as before; once an entry is
keyed, every later one must be.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

GENESIS = "0" * 64
REASON_KEY = "__reason__"  # the reason's hash, among the value hashes
REDACTED = None  # what a redacted value becomes


# One encoder made once (json.dumps with options makes a new one per call):
# the same text, a bulk import hashes a million values.
_CANONICAL = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
)
_encode_str = json.encoder.encode_basestring  # what _CANONICAL writes for a str
_NULL_HASH = hashlib.sha256(b"null").hexdigest()


def canonical(obj) -> str:
    return _CANONICAL.encode(obj)


def value_hash(value) -> str:
    if value is None:
        return _NULL_HASH
    if type(value) is str:
        return hashlib.sha256(_encode_str(value).encode("utf-8")).hexdigest()
    if type(value) is int:  # JSON writes an int as its decimal text (not bool: its own type)
        return hashlib.sha256(str(value).encode("ascii")).hexdigest()
    return hashlib.sha256(canonical(value).encode("utf-8")).hexdigest()


def hash_values(values: dict, memo: dict[str, str] | None = None) -> dict:
    """{field: {"old": v, "new": v}} or {field: v} -> the same shape with hashes.

    ``memo`` (text -> hash), shared across calls, saves hashing the same
    text twice when many entries are written together.
    """

    def of(value) -> str:
        if memo is None or type(value) is not str:
            return value_hash(value)
        found = memo.get(value)
        if found is None:
            found = memo[value] = value_hash(value)
        return found

    out: dict = {}
    for key, value in values.items():
        if isinstance(value, dict) and set(value) <= {"old", "new"} and value:
            out[key] = {k: of(v) for k, v in value.items()}
        else:
            out[key] = of(value)
    return out


@dataclass(frozen=True)
class EntryFields:
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    value_hashes: dict
    prev_hash: str
    key_id: str | None = None  # None: an unkeyed entry (written before keys existed)


def key_fingerprint(key: bytes) -> str:
    """The public name of an audit key: which key signed an entry, revealing nothing."""
    return hmac.new(key, b"crm-desktop audit key id", hashlib.sha256).hexdigest()[:32]


def entry_hash(e: EntryFields, key: bytes | None = None) -> str:
    """The entry's hash: HMAC-SHA256 under ``key`` for a keyed entry, SHA-256 otherwise.

    A keyed entry's body also holds its ``key_id``, so which key signed it
    (and that it was keyed at all) cannot be changed without the key. Raises
    ValueError when a keyed entry is hashed without its key or with another.
    """
    # The reason is covered through its hash in value_hashes (REASON_KEY), so
    # erasure can blank the reason as well as the values.
    fields = {
        "at": e.at.isoformat(),
        "actor": e.actor,
        "action": e.action,
        "entity": e.entity,
        "entity_id": e.entity_id,
        "value_hashes": e.value_hashes,
        "prev": e.prev_hash,
    }
    if e.key_id is None:
        return hashlib.sha256(canonical(fields).encode("utf-8")).hexdigest()
    if key is None or key_fingerprint(key) != e.key_id:
        raise ValueError("a keyed entry is hashed with the key it names")
    body = canonical({**fields, "key": e.key_id})
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


def chain_hasher(
    at: datetime, actor: str, key_id: str | None, key: bytes | None
) -> Callable[[str, str, str | None, str, str], str]:
    """:func:`entry_hash` for many entries of one moment and actor, made fast.

    The returned ``hash(action, entity, entity_id, hashes_text, prev)``,
    where ``hashes_text`` is ``canonical(value_hashes)`` (which can be made
    before the write transaction), gives exactly
    ``entry_hash(EntryFields(at, actor, action, entity, entity_id,
    value_hashes, prev, key_id), key)``: it writes the same canonical text
    (keys in sorted order) without building and encoding the whole object.
    """
    if key_id is not None and (key is None or key_fingerprint(key) != key_id):
        raise ValueError("a keyed entry is hashed with the key it names")
    enc = _encode_str
    head = '{"action":'
    middle = f',"actor":{enc(actor)},"at":{enc(at.isoformat())},"entity":'
    keyed = f',"key":{enc(key_id)}' if key_id is not None else ""
    sha256, new_hmac = hashlib.sha256, hmac.new

    def hash_entry(
        action: str, entity: str, entity_id: str | None, hashes_text: str, prev: str
    ) -> str:
        body = (
            f"{head}{enc(action)}{middle}{enc(entity)},"
            f'"entity_id":{"null" if entity_id is None else enc(entity_id)}{keyed},'
            f'"prev":{enc(prev)},"value_hashes":{hashes_text}}}'
        ).encode()
        if key is None or key_id is None:
            return sha256(body).hexdigest()
        return new_hmac(key, body, sha256).hexdigest()

    return hash_entry


# Blanking the stored values is legitimate only when a later entry in the
# chain records why: the record was erased, deleted, or its requester
# forgotten. Such an entry blanks the values and the reason of every earlier
# entry about the same record (``entity`` and ``entity_id``).
REDACTING_ACTIONS = frozenset(
    {"prospect.erased", "prospect.deleted", "request.requester-forgotten"}
)

MATCH = "match"  # the stored values and reason are those the chain covers
BLANKED = "blanked"  # some were blanked, the rest match: needs a later redacting entry
ALTERED = "altered"  # something was changed, added, removed or cannot be read


def compare(values: object, reason: object, hashes: object) -> str:
    """How an entry's stored values and reason stand against their chained hashes.

    Returns :data:`MATCH`, :data:`BLANKED` or :data:`ALTERED`. A value (or
    the reason) counts as blanked when it is :data:`REDACTED` but its hash is
    that of something else; anything else that differs is an alteration.
    """
    if not isinstance(values, dict) or not isinstance(hashes, dict):
        return ALTERED
    blanked = False
    expected_reason = hashes.get(REASON_KEY)
    if reason is REDACTED:
        blanked = expected_reason is not None
    elif not isinstance(reason, str) or expected_reason != value_hash(reason):
        return ALTERED
    expected_values = {k: v for k, v in hashes.items() if k != REASON_KEY}
    if set(values) != set(expected_values):
        return ALTERED
    for key, expected in expected_values.items():
        value = values[key]
        if isinstance(expected, dict):
            if value is REDACTED:  # the whole old/new pair blanked
                value = dict.fromkeys(expected, REDACTED)
            if not isinstance(value, dict) or set(value) != set(expected):
                return ALTERED
            pairs = [(value[side], h) for side, h in expected.items()]
        else:
            pairs = [(value, expected)]
        for stored, h in pairs:
            if value_hash(stored) == h:
                continue
            if stored is not REDACTED:
                return ALTERED
            blanked = True
    return BLANKED if blanked else MATCH


def stored_object(text: object) -> dict | None:
    """A stored JSON object (an entry's values or value hashes), or None if it is not one."""
    try:
        value = json.loads(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def blank_values(value_hashes: object, values: object) -> dict:
    """An entry's values with every one blanked, shaped as its chained hashes say.

    Shaped from the value hashes (not the stored values), so that values
    altered or unreadable are blanked all the same and the blank is exactly
    what :func:`compare` accepts as :data:`BLANKED`. Both arguments are the
    stored JSON texts.
    """
    template = stored_object(value_hashes)
    if template is None:  # cannot be read: blank whatever is stored
        template = stored_object(values) or {}
    return {
        k: ({side: REDACTED for side in v} if isinstance(v, dict) else REDACTED)
        for k, v in template.items()
        if k != REASON_KEY
    }
