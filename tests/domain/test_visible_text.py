"""A value made only of invisible characters is empty: a name needs something to see."""

import unicodedata

import pytest

from crm_desktop.domain.validation import (
    ProspectInput,
    SchoolInput,
    ValidationError,
    clean_text,
    has_visible_character,
    validate_prospect,
    validate_school,
)

INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200b\u200c\u200d",  # zero-width space, non-joiner, joiner
    "\ufeff",  # byte-order mark
    "\u2060\u200e\u200f",  # word joiner, direction marks
    "\u00ad",  # soft hyphen
    "\u3164",  # Hangul filler
    "\u115f\u1160",  # Hangul choseong/jungseong fillers
    "\u2800",  # blank Braille pattern
    "\ufe0f\u034f",  # variation selector, combining grapheme joiner
    "\u0301\u0308",  # accents with no letter under them
    "\U000e0041\U000e007f",  # tag characters
    "\u200b \u3000\u200b",  # mixed with spaces
]


@pytest.mark.parametrize("value", INVISIBLE)
def test_a_name_of_only_invisible_characters_is_refused(value):
    with pytest.raises(ValidationError) as exc:
        validate_prospect(ProspectInput(first_name=value, last_name=value, email="a@example.org"))
    assert exc.value.errors["first_name"] == "needs at least one visible character"
    assert exc.value.errors["last_name"] == "needs at least one visible character"
    assert "First name needs at least one visible character" in str(exc.value)


@pytest.mark.parametrize("value", INVISIBLE)
def test_a_school_name_of_only_invisible_characters_is_refused(value):
    with pytest.raises(ValidationError) as exc:
        validate_school(SchoolInput(name=value))
    assert exc.value.errors == {"name": "needs at least one visible character"}


@pytest.mark.parametrize("value", INVISIBLE)
def test_optional_text_of_only_invisible_characters_is_blank(value):
    data = validate_prospect(
        ProspectInput(
            first_name="Ada", last_name="Lovelace", email="a@example.org", role=value, school=value
        )
    )
    assert (data.role, data.school) == (None, None)


@pytest.mark.parametrize(
    "value",
    [
        "Zoë",
        "e\u0301",  # e + combining acute: a letter carries the accent
        "Ann\u200bMarie",  # something visible around the zero-width space
        "\u200bAda",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # an emoji family (joined by ZWJ)
        "\u0905\u0903",  # Devanagari letter with a spacing mark
        "-",
        "\ue000",  # private use: drawn as something
    ],
)
def test_names_with_something_to_see_are_kept(value):
    assert has_visible_character(value)
    assert clean_text(value, max_len=100, required=True) == unicodedata.normalize("NFC", value)


def test_a_multiline_value_of_only_invisible_lines_is_refused():
    with pytest.raises(ValueError, match="needs at least one visible character"):
        clean_text("\u200b\n\u200b", max_len=100, required=True, multiline=True)
