"""What a person types after an option reaches the shared validation as typed.

Names need something visible; a value beginning with '-' is given as
``--option=-value`` (and the error for ``--option -value`` says so).
"""

from __future__ import annotations

import pytest
from cli_support import assert_error


@pytest.mark.parametrize("name", ["\u200b", "\u200b\u200d\ufeff", "\u3164", "\u2060 \u200e"])
def test_a_name_of_only_invisible_characters_is_refused(crm, name):
    result = crm(
        "prospect", "add", f"--first-name={name}", "--last-name=Lovelace",
        "--email=ada@example.com",
    )  # fmt: skip
    assert_error(result, 1, "First name needs at least one visible character")
    assert crm("prospect", "list", "--json").json() == []


def test_an_edit_to_an_invisible_name_is_refused_and_changes_nothing(crm, add):
    ada = add("Ada", "Lovelace")
    result = crm("prospect", "edit", str(ada["id"]), "--last-name=\u200b\u200b")
    assert_error(result, 1, "Last name needs at least one visible character")
    shown = crm("prospect", "show", str(ada["id"]), "--json").json()
    assert shown["last_name"] == "Lovelace"


def test_an_invisible_role_or_school_is_left_blank(crm):
    result = crm(
        "prospect", "add", "--first-name=Ada", "--last-name=Lovelace",
        "--email=ada@example.com", "--role=\u200b", "--school=\ufeff", "--json",
    )  # fmt: skip
    assert result.code == 0, result
    record = result.json()
    assert (record["role"], record["school_name"]) == (None, None)


@pytest.mark.parametrize("value", ["--", "-x", "-", "--Smith", "-1"])
def test_a_value_beginning_with_a_dash_is_given_after_an_equals_sign(crm, value):
    result = crm(
        "prospect", "add", f"--first-name={value}", "--last-name=Lovelace",
        "--email=ada@example.com", "--json",
    )  # fmt: skip
    assert result.code == 0, result
    assert result.json()["first_name"] == value


@pytest.mark.parametrize("value", ["-x", "--", "--Smith"])
def test_a_value_beginning_with_a_dash_after_a_space_says_how_to_give_it(crm, value):
    result = crm(
        "prospect", "add", "--first-name", value, "--last-name=Lovelace", "--email=ada@example.com"
    )
    assert_error(
        result,
        2,
        "argument --first-name: expected one argument",
        f"a value that begins with '-' is given as --first-name={value}",
    )
    assert crm("prospect", "list", "--json").json() == []


def test_a_forgotten_value_before_another_option_gets_no_dash_hint(crm):
    result = crm("prospect", "add", "--first-name", "--last-name=Lovelace", "--email=a@example.com")
    assert_error(result, 2, "argument --first-name: expected one argument")
    assert "begins with '-'" not in result.err


def test_an_edit_to_a_dash_value_keeps_it(crm, add):
    ada = add("Ada", "Lovelace")
    result = crm("prospect", "edit", str(ada["id"]), "--last-name=--", "--role=-", "--json")
    assert result.code == 0, result
    assert (result.json()["last_name"], result.json()["role"]) == ("--", "-")
