"""Every date option reads dates one way and says which: YYYY-MM-DD or DD/MM/YYYY."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from cli_support import assert_error

from crm_desktop.domain.validation import DATE_FORMATS

EMAIL = "ada@example.com"

# (command before the date, the option) for every option that takes a DATE.
DATE_OPTIONS = [
    (["log", EMAIL, "--kind=call", "--summary=Hello"], "--follow-up"),
    (["prospect", "add", "--first-name=Bo", "--last-name=Ng", "--email=bo@x.sch.uk"], "--source-date"),
    (["request", "add", "someone@x.org", "--kind=access"], "--received"),
    (["history", EMAIL], "--since"),
    (["history", EMAIL], "--until"),
    (["export", "--channel=email", "--preview"], "--last-contact-from"),
    (["export", "--channel=email", "--preview"], "--last-contact-to"),
]  # fmt: skip


@pytest.fixture
def ada(add):
    return add("Ada", "Lovelace", email=EMAIL)


@pytest.mark.parametrize(("argv", "option"), DATE_OPTIONS)
def test_a_date_in_another_form_is_refused_saying_what_is_accepted(crm, ada, argv, option):
    result = crm(*argv, option, "11-12-2026")
    assert_error(result, 1, "'11-12-2026' is not a date (use YYYY-MM-DD or DD/MM/YYYY)")


@pytest.mark.parametrize(("argv", "option"), DATE_OPTIONS)
def test_an_impossible_date_says_why(crm, ada, argv, option):
    result = crm(*argv, option, "31/02/2025")
    assert_error(result, 1, "'31/02/2025' is not a date: February 2025 has 28 days")


@pytest.mark.parametrize(("argv", "option"), DATE_OPTIONS)
def test_the_help_says_which_forms_every_date_option_takes(run_crm, argv, option):
    command = argv[:2] if argv[0] in ("prospect", "request") else argv[:1]
    result = run_crm(*command, "--help")
    assert result.code == 0
    text = " ".join(result.out.split())  # argparse wraps the help
    described = re.search(rf"{option} DATE (.*?)(?= -|$)", text)
    assert described and DATE_FORMATS in described.group(1), text


def test_both_forms_name_the_same_day_and_the_output_says_which(crm, ada):
    iso = crm("log", EMAIL, "--kind=call", "--summary=a", "--follow-up=2030-12-11", "--json")
    uk = crm("log", EMAIL, "--kind=call", "--summary=b", "--follow-up=11/12/2030", "--json")
    assert iso.json()["follow_up_on"] == uk.json()["follow_up_on"] == "2030-12-11"
    shown = crm("log", EMAIL, "--kind=call", "--summary=c", "--follow-up=11/12/2030")
    assert shown.code == 0 and "follow up on" in shown.out and "11" in shown.out
    assert "Dec" in shown.out or "2030-12-11" in shown.out  # never the ambiguous 11/12


def test_a_follow_up_in_the_past_is_logged_with_a_warning(crm, ada):
    past = date.today() - timedelta(days=2)
    result = crm("log", EMAIL, "--kind=call", "--summary=Late", f"--follow-up={past}")
    assert result.code == 0, result
    assert result.err == (
        "crm: warning: The follow-up date has passed, so it shows as overdue at once.\n"
    )
    shown = crm("prospect", "show", EMAIL, "--json").json()
    assert shown["next_follow_up"] == past.isoformat()
    today = crm("log", EMAIL, "--kind=call", "--summary=Now", f"--follow-up={date.today()}")
    assert today.code == 0 and today.err == ""
