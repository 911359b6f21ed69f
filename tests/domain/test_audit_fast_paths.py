"""domain.audit's fast paths give exactly the text and hashes of the plain ones.

The audit chain's format never changes: an entry hashed by a bulk write
(``chain_hasher``, ``hash_values`` with a memo, ``value_hash``'s shortcuts)
verifies with ``entry_hash`` as every other entry does.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from crm_desktop.domain import audit as A

TEXTS = [
    "", "plain", 'quo"te', "back\\slash", "line\nbreak\ttab", "\x00\x1f", "naïve café",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀", "\u2028\u2029", "<script>alert(1)</script>", "ʇxǝʇ", "Ω" * 300,
]  # fmt: skip
VALUES = [*TEXTS, None, 0, 7, -1, 2**70, -(10**300), 123456, 1.5, True, False, [1, "a", None], {"b": 1, "a": [2]},
          datetime(2026, 3, 1, 12, 30, tzinfo=UTC), Decimal("1.10")]  # fmt: skip


def slow_value_hash(value) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_value_hash_is_the_hash_of_the_canonical_json(value):
    assert A.value_hash(value) == slow_value_hash(value)


def test_a_lone_surrogate_is_refused_as_before():
    with pytest.raises(UnicodeEncodeError):
        A.value_hash("\ud800")


def test_hash_values_with_a_memo_is_the_same_and_fills_the_memo():
    values = {"name": {"old": None, "new": "Ann"}, "row": 3, "school": "Ann", "x": {"old": "Ann"}}
    memo: dict[str, str] = {}
    first = A.hash_values(values, memo)
    assert first == A.hash_values(values) == A.hash_values(values, memo)
    assert first["name"]["new"] == slow_value_hash("Ann") == memo["Ann"]
    assert first["row"] == slow_value_hash(3)


@pytest.mark.parametrize("keyed", [False, True])
def test_chain_hasher_gives_entry_hash_exactly(keyed):
    key = b"k" * 32 if keyed else None
    key_id = A.key_fingerprint(key) if key else None
    at = datetime(2026, 12, 7, 9, 5, 3, 120, tzinfo=UTC)
    for actor in ("alice", 'o"brien\\x', "Zoë 😀"):
        fast = A.chain_hasher(at, actor, key_id, key)
        prev = A.GENESIS
        for i, text in enumerate(TEXTS):
            values = {"first_name": {"old": None, "new": text}, "row": i, text or "k": text}
            hashes = A.hash_values(values)
            entity_id = None if i % 3 == 0 else (text or str(i))
            fields = A.EntryFields(at, actor, f"act.{text}", "prospect", entity_id, hashes,
                                   prev, key_id)  # fmt: skip
            expected = A.entry_hash(fields, key)
            got = fast(f"act.{text}", "prospect", entity_id, A.canonical(hashes), prev)
            assert got == expected
            prev = got


def test_chain_hasher_refuses_the_wrong_key():
    key_id = A.key_fingerprint(b"a" * 32)
    with pytest.raises(ValueError):
        A.chain_hasher(datetime.now(UTC), "alice", key_id, b"b" * 32)
    with pytest.raises(ValueError):
        A.chain_hasher(datetime.now(UTC), "alice", key_id, None)
