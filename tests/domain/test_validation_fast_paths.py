"""The shortcuts a bulk import takes through validation give the form's answers."""

from __future__ import annotations

import random
import string
import unicodedata

import pytest

from crm_desktop.domain import validation as V
from crm_desktop.domain.suppression import canonical_address


def reference_clean_text(value, *, max_len, required=False, multiline=False):
    """clean_text as it is without its plain-ASCII shortcut."""
    value = unicodedata.normalize("NFC", value).strip()
    if not multiline and ("\n" in value or "\r" in value or "\t" in value):
        raise ValueError("must be a single line")
    if V._CONTROL.search(value):
        raise ValueError("contains control characters that cannot be stored")
    if value and not V.has_visible_character(value):
        if required:
            raise ValueError("needs at least one visible character")
        return None
    if not value:
        if required:
            raise ValueError("is required")
        return None
    if len(value) > max_len:
        raise ValueError(f"is too long ({len(value):,} characters; at most {max_len:,})")
    return value


def outcome(fn, *args, **kw):
    try:
        return ("ok", fn(*args, **kw))
    except ValueError as exc:
        return ("error", str(exc))


ASCII = ["", " ", "   ", "Ann", "  Ann  ", "O'Brien-Smith", "a\tb", "a\nb", "\x7f", "x\x00",
         "~!@#$%^&*()", "a" * 10, "a" * 11, " " * 12 + "b"]  # fmt: skip


@pytest.mark.parametrize("required", [False, True])
@pytest.mark.parametrize("multiline", [False, True])
def test_plain_ascii_gets_the_same_answer_as_the_full_check(required, multiline):
    rng = random.Random(5)
    samples = ASCII + [
        "".join(rng.choice(string.printable) for _ in range(rng.randrange(0, 14)))
        for _ in range(2_000)
    ]
    for text in samples:
        kw = {"max_len": 10, "required": required, "multiline": multiline}
        assert outcome(V.clean_text, text, **kw) == outcome(reference_clean_text, text, **kw), text


PHONES = ["0161 496 0000", "+44 7700 900123", "01632 960001", "+1 415 555 0100", "12",
          "+39 06 698 12345", "not a phone", "0044 20 7946 0999", "+999 123", "  020 7946 0000 "]  # fmt: skip


def test_phone_e164_is_normalise_phone_without_the_warning():
    rng = random.Random(9)
    samples = PHONES + [f"+{rng.randrange(1, 999)} {rng.randrange(10**5, 10**11)}"
                        for _ in range(300)]  # fmt: skip
    for text in samples:
        full = outcome(V.normalise_phone, text)
        fast = outcome(V.phone_e164, text)
        expected = ("ok", full[1].e164) if full[0] == "ok" else full
        assert fast == expected, text
        if fast[0] == "ok":
            # The importer hashes E.164 numbers for the suppression list as they are.
            assert canonical_address(fast[1]) == fast[1]


def _uk_like(rng: random.Random) -> str:
    """Text shaped like a UK number, plain or nearly so (wrong length, 0 or
    180020 after the prefix, doubled spaces, other prefixes)."""
    prefix = rng.choice(["0", "+44", "+44 ", "+440", "0044 ", "+4 4", "00", "44", "+44  ", ""])
    digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([8, 9, 10, 10, 10, 11])))
    if rng.random() < 0.1:
        digits = "180020" + digits[6:]
    elif rng.random() < 0.6:
        digits = rng.choice("123789") + digits[1:]
    text = ""
    for ch in digits:
        if text and rng.random() < 0.2:
            text += rng.choice([" ", " ", " ", "  ", "-", "\u00a0"])
        text += ch
    return prefix + text


def test_plain_uk_numbers_take_a_shortcut_with_phonenumbers_answer():
    rng = random.Random(13)
    samples = PHONES + ["01800201234", "+44 1800201234", "01632 960001", "0161 496 0000 ",
                        "07700900123", "+447700900123", "+44 07700 900123", "0 161 496 0000",
                        "06123456789", "04123456789", "0161  496 0000"] + [
        _uk_like(rng) for _ in range(20_000)
    ]  # fmt: skip
    shortcuts = 0
    for text in samples:
        cleaned = V.clean_text(text, max_len=40)
        if cleaned is None:
            continue
        fast = V._fast_e164(cleaned, "GB")
        full = outcome(lambda t=cleaned: V._parse_phone(t, "GB")[1])
        if fast is not None:
            shortcuts += 1
            assert ("ok", fast) == full, text
        assert outcome(V.phone_e164, text) == full, text
    assert shortcuts > 500  # the shortcut was taken, not only the slow path
    # Another region never takes the GB shortcut.
    assert V._fast_e164("0161 496 0000", "US") is None


def reference_single_line(values):
    """contact_mapping._single_line without its one-plain-cell shortcut."""
    from crm_desktop.domain import contact_mapping as cm

    if not values:
        return None
    parts = []
    for value in values:
        folded = cm.fold_lines(value).strip()
        if ":::" in folded:
            firsts = cm.split_values(folded)
            folded = firsts[0] if firsts else ""
        if folded:
            parts.append(folded)
    return " ".join(parts) or None


def test_one_plain_cell_maps_to_the_same_single_line_value():
    from crm_desktop.domain import contact_mapping as cm

    rng = random.Random(21)
    pieces = ["Ann", " ", "  ", ":::", " ::: ", "\n", "\r\n", "\t", "\x0b", "\x85", "\u2028",
              "\u00a0", "\u200b", "O'Brien", "é", "e\u0301", "\x1c", ":", "x"]  # fmt: skip
    samples = ["", " ", ":::", "a ::: b", " Ann ", "Ann\nBee"] + [
        "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 8))) for _ in range(5_000)
    ]
    for text in samples:
        assert cm._single_line([text]) == reference_single_line([text]), repr(text)


def test_a_mapping_checked_once_still_maps_each_row_and_refuses_unknown_targets():
    from crm_desktop.domain import contact_mapping as cm

    mapping = {1: "last_name", 0: "first_name", 2: "email"}
    for _ in range(3):  # the checked mapping is reused: rows still mapped by it
        cand = cm.map_row(["Ann", "Lee", "ann@example.org"], mapping)
        assert (cand.first_name, cand.last_name, cand.emails) == ("Ann", "Lee", ["ann@example.org"])
    mapping[2] = "shoe_size"  # the same dict changed: checked again, every time
    for _ in range(2):
        with pytest.raises(ValueError, match="unknown target 'shoe_size'"):
            cm.map_row(["Ann", "Lee", "ann@example.org"], mapping)


def test_validate_prospect_keeps_the_first_spelling_of_each_interest():
    data = V.ProspectInput(first_name="Ann", last_name="Lee", email="ann@example.org",
                           interests=["Maths", " maths ", "Science", "MATHS", "science", ""])  # fmt: skip
    assert V.validate_prospect(data).interests == ["Maths", "Science"]
    bad = V.ProspectInput(first_name="Ann", last_name="Lee", email="ann@example.org",
                          interests=["Maths", "a\x00b"])  # fmt: skip
    with pytest.raises(V.ValidationError) as err:
        V.validate_prospect(bad)
    assert "interests" in err.value.errors


def test_each_optional_check_gives_none_for_none_so_skipping_it_changes_nothing():
    # validate_prospect skips the check of an optional field given as None.
    for check in (V.normalise_email, V.normalise_phone, V.parse_date):
        assert check(None) is None
    assert V.clean_text(None, max_len=1) is None
    assert V.parse_choice(V.Stage, None) is None
    assert V.parse_choice(V.DataSource, None) is None
    given = {"first_name": "Ann", "last_name": "Lee", "email": "Ann@Example.ORG"}
    blank = dict.fromkeys(["school", "role", "stage", "owner", "source", "source_detail"], "")
    with_blanks = V.validate_prospect(V.ProspectInput(**given, **blank, phone="", source_date=""))
    with_none = V.validate_prospect(V.ProspectInput(**given))
    assert with_blanks == with_none
    assert (with_none.email, with_none.stage, with_none.school) == (
        "Ann@example.org", V.Stage.LEAD, None)  # fmt: skip
    # Something that is not text is still refused, not skipped.
    with pytest.raises(V.ValidationError) as err:
        V.validate_prospect(V.ProspectInput(**given, school=0))
    assert err.value.errors == {"school": "must be text"}
