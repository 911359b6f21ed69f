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
