"""The audit trail's hash chain (pure functions; no database).

Each entry's hash covers its own fields, the hash of every value it records
and the previous entry's hash. Values are stored beside the chain, not in
it, so erasing a person can blank them without breaking verification, while
altering, removing or reordering any entry breaks it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

GENESIS = "0" * 64
REASON_KEY = "__reason__"  # the reason's hash, among the value hashes
REDACTED = None  # what a redacted value becomes


def canonical(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def value_hash(value) -> str:
    return hashlib.sha256(canonical(value).encode("utf-8")).hexdigest()


def hash_values(values: dict) -> dict:
    """{field: {"old": v, "new": v}} or {field: v} -> the same shape with hashes."""
    out: dict = {}
    for key, value in values.items():
        if isinstance(value, dict) and set(value) <= {"old", "new"} and value:
            out[key] = {k: value_hash(v) for k, v in value.items()}
        else:
            out[key] = value_hash(value)
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


def entry_hash(e: EntryFields) -> str:
    # The reason is covered through its hash in value_hashes (REASON_KEY), so
    # erasure can blank the reason as well as the values.
    body = canonical(
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "value_hashes": e.value_hashes,
            "prev": e.prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def reason_matches(reason: str | None, hashes: dict) -> bool:
    """The stored reason agrees with its hash (a redacted reason is None)."""
    if reason is None:
        return True
    return hashes.get(REASON_KEY) == value_hash(reason)


def values_match(values: dict, hashes: dict) -> bool:
    """Stored values agree with their hashes (redacted values are skipped)."""
    hashes = {k: v for k, v in hashes.items() if k != REASON_KEY}
    if set(values) != set(hashes):
        return False
    for key, value in values.items():
        expected = hashes[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                return value is REDACTED
            for side, h in expected.items():
                if value.get(side) is not REDACTED and value_hash(value.get(side)) != h:
                    return False
        elif value is not REDACTED and value_hash(value) != expected:
            return False
    return True
