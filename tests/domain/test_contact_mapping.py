"""Layouts, suggested mappings and rows mapped to contact candidates."""

from __future__ import annotations

import pytest
from contact_samples import GOOGLE_2024, GOOGLE_OLD, MAILCHIMP, OUTLOOK

from crm_desktop.domain.contact_mapping import (
    LAYOUTS,
    MULTI_COLUMN_TARGETS,
    TARGETS,
    VCARD_HEADERS,
    ContactCandidate,
    layout_mapping,
    map_row,
    mapping_signature,
    recognise_layout,
    split_full_name,
    suggest_mapping,
)


def targets(headers, mapping):
    return {headers[i]: t for i, t in mapping.items()}


def test_known_layouts_are_recognised_from_their_headers():
    assert recognise_layout(GOOGLE_2024) == "google"
    assert recognise_layout(GOOGLE_OLD) == "google"
    assert recognise_layout(OUTLOOK) == "outlook"
    assert recognise_layout(MAILCHIMP) == "mailchimp"
    assert recognise_layout(list(VCARD_HEADERS)) == "vcard"
    assert recognise_layout(["Forename", "Surname", "Email", "School"]) is None
    assert recognise_layout([]) is None
    assert set(LAYOUTS) == {"google", "outlook", "mailchimp", "vcard"}


def test_google_2024_layout_maps_names_emails_phones_organisation():
    mapped = targets(GOOGLE_2024, layout_mapping("google", GOOGLE_2024))
    assert mapped == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Organization Name": "school",
        "Organization Title": "role",
        "Notes": "notes",
        "E-mail 1 - Value": "email",
        "E-mail 2 - Value": "email",
        "Phone 1 - Value": "phone",
        "Phone 2 - Value": "phone",
    }


def test_google_old_layout_maps_given_family_and_organisation_1():
    mapped = targets(GOOGLE_OLD, layout_mapping("google", GOOGLE_OLD))
    assert mapped["Name"] == "full_name"
    assert mapped["Given Name"] == "first_name"
    assert "Additional Name" not in mapped  # a middle name has no field
    assert mapped["Family Name"] == "last_name"
    assert mapped["Organization 1 - Name"] == "school"
    assert mapped["Organization 1 - Title"] == "role"
    assert mapped["E-mail 1 - Value"] == mapped["E-mail 2 - Value"] == "email"
    assert "E-mail 1 - Type" not in mapped and "Occupation" not in mapped


def test_outlook_title_is_an_honorific_not_a_job_title():
    mapped = targets(OUTLOOK, layout_mapping("outlook", OUTLOOK))
    assert "Title" not in mapped and "Middle Name" not in mapped
    assert mapped["Job Title"] == "role"
    assert mapped["Company"] == "school"
    emails = [h for h, t in mapped.items() if t == "email"]
    assert emails == ["E-mail Address", "E-mail 2 Address", "E-mail 3 Address"]
    phones = [h for h, t in mapped.items() if t == "phone"]
    assert phones == ["Business Phone", "Business Phone 2", "Mobile Phone", "Primary Phone"]
    # A school's switchboard is not the person's phone.
    assert "Company Main Phone" not in mapped and "E-mail Display Name" not in mapped


def test_mailchimp_layout_maps_its_fields_and_the_audiences_merge_fields():
    mapped = targets(MAILCHIMP, layout_mapping("mailchimp", MAILCHIMP))
    assert mapped == {
        "Email Address": "email",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Phone Number": "phone",
        "School": "school",
        "Job Title": "role",
        "NOTES": "notes",
    }


def test_unknown_layout_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown layout"):
        layout_mapping("thunderbird", ["Email"])


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("E-mail", "email"),
        ("Email address", "email"),
        ("EMAIL_ADDRESS", "email"),
        ("Work email", "email"),
        ("Surname", "last_name"),
        ("Family name", "last_name"),
        ("Forename", "first_name"),
        ("Given name", "first_name"),
        ("first_name", "first_name"),
        ("Name", "full_name"),
        ("Full Name", "full_name"),
        ("Organisation", "school"),
        ("Company", "school"),
        ("School", "school"),
        ("School name", "school"),
        ("Job title", "role"),
        ("Position", "role"),
        ("Role", "role"),
        ("Mobile", "phone"),
        ("Telephone", "phone"),
        ("Tel.", "phone"),
        ("Phone number", "phone"),
        ("Comments", "notes"),
        ("Notes", "notes"),
        ("Interests", "interests"),
        ("Owner", "owner"),
        ("Stage", "stage"),
    ],
)
def test_suggest_mapping_knows_common_synonyms(header, target):
    assert suggest_mapping(["Unrelated", header]) == {1: target}


def test_suggest_mapping_leaves_out_what_it_cannot_place_and_repeats_only_multi_columns():
    headers = ["Forename", "Surname", "Email", "Email 2", "Email type", "Mobile", "Phone",
               "First name", "Title", "Shoe size", "Email opt-in"]  # fmt: skip
    assert suggest_mapping(headers) == {
        0: "first_name",
        1: "last_name",
        2: "email",
        3: "email",
        5: "phone",
        6: "phone",
    }


def test_full_name_is_not_suggested_beside_first_and_last_names():
    assert suggest_mapping(["Name", "First name", "Last name"]) == {1: "first_name", 2: "last_name"}
    assert suggest_mapping(["Name", "Email"]) == {0: "full_name", 1: "email"}


def test_mapping_signature_ignores_case_and_spacing_but_not_order_or_names():
    a = mapping_signature(["First Name", "E-mail"])
    assert a == mapping_signature([" first name ", "email"])
    assert a != mapping_signature(["E-mail", "First Name"])
    assert a != mapping_signature(["First Name", "E-mail", "Phone"])
    assert a != mapping_signature(["First Name", "Phone"])
    assert len(a) == 64


def test_map_row_folds_line_breaks_in_single_line_fields_and_keeps_them_in_notes():
    mapping = {0: "first_name", 1: "last_name", 2: "school", 3: "role", 4: "notes"}
    cells = ["Zoë\r\nAnn", "Ó'Brien\r", "St Mary's\u2028Primary", "Head of\u0085\n Maths",
             "Met at Bett\r\nWants a demo\u2029Call in May"]  # fmt: skip
    candidate = map_row(cells, mapping)
    assert candidate.first_name == "Zoë Ann"
    assert candidate.last_name == "Ó'Brien"
    assert candidate.school == "St Mary's Primary"
    assert candidate.role == "Head of Maths"
    assert candidate.notes == "Met at Bett\r\nWants a demo\u2029Call in May"


def test_map_row_splits_multi_value_cells_and_appends_columns_in_order():
    mapping = {3: "phone", 0: "email", 1: "email", 2: "phone"}
    cells = [
        "a@example.org ::: b@example.org",
        "c@example.org",
        "01632 960001 ::: ",
        "07700 900123",
    ]
    candidate = map_row(cells, mapping)
    assert candidate.emails == ["a@example.org", "b@example.org", "c@example.org"]
    assert candidate.phones == ["01632 960001", "07700 900123"]


def test_map_row_splits_a_cell_of_addresses_separated_by_semicolons():
    candidate = map_row(["a@example.org; b@example.org", "x; y"], {0: "email", 1: "email"})
    assert candidate.emails == ["a@example.org", "b@example.org", "x; y"]


def test_blank_cells_are_none_and_missing_cells_count_as_blank():
    candidate = map_row(["  ", "\t", ""], {0: "first_name", 1: "notes", 2: "email", 7: "school"})
    assert candidate == ContactCandidate()
    assert candidate.emails == [] and candidate.first_name is None and candidate.notes is None


def test_full_name_is_split_only_when_the_row_has_no_first_or_last_name():
    mapping = {0: "full_name", 1: "first_name", 2: "last_name"}
    split = map_row(["Zoë Ann Ó'Brien", "", ""], mapping)
    assert (split.first_name, split.last_name) == ("Zoë Ann", "Ó'Brien")
    given = map_row(["Someone Else", "Łukasz", "Kowalski"], mapping)
    assert (given.first_name, given.last_name) == ("Łukasz", "Kowalski")


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("Zoë Ó'Brien", "Zoë", "Ó'Brien"),
        ("Mary Anne van der Berg", "Mary Anne van der", "Berg"),
        ("O'Brien, Zoë", "Zoë", "O'Brien"),
        ("Dr Jane Smith", "Jane", "Smith"),
        ("Mrs. Patel", None, "Patel"),
        ("Madonna", "Madonna", None),
        ("Jane\r\nSmith", "Jane", "Smith"),
        ("   ", None, None),
    ],
)
def test_split_full_name(full, first, last):
    assert split_full_name(full) == (first, last)


def test_a_single_line_field_given_several_values_takes_the_first():
    candidate = map_row(["Acme Academy ::: Old School"], {0: "school"})
    assert candidate.school == "Acme Academy"


def test_several_columns_for_one_name_are_joined():
    candidate = map_row(
        ["Zoë", "Ann", "Ó'Brien"], {0: "first_name", 1: "first_name", 2: "last_name"}
    )
    assert candidate.first_name == "Zoë Ann"


def test_interests_are_split_and_kept_once():
    candidate = map_row(["Maths; Science ::: Maths", "Reading"], {0: "interests", 1: "interests"})
    assert candidate.interests == ["Maths", "Science", "Reading"]


def test_unknown_target_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown target"):
        map_row(["x"], {0: "shoe_size"})
    assert "full_name" in TARGETS and TARGETS["role"] == "Job title"


@pytest.mark.parametrize(
    ("layout", "headers"),
    [
        ("google", GOOGLE_2024),
        ("google", GOOGLE_OLD),
        ("outlook", OUTLOOK),
        ("mailchimp", MAILCHIMP),
        ("vcard", list(VCARD_HEADERS)),
    ],
)
def test_layouts_map_one_column_to_each_single_valued_target(layout, headers):
    for mapping in (layout_mapping(layout, headers), suggest_mapping(headers)):
        single = [t for t in mapping.values() if t not in MULTI_COLUMN_TARGETS]
        assert len(single) == len(set(single)), mapping
