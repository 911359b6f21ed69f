"""Human output: terminal-safe text and aligned tables; help and version."""

from __future__ import annotations

import pytest

from crm_desktop.cli.output import Table, display, fit, text_width


def test_display_keeps_escape_sequences_and_bidi_controls_off_the_terminal():
    assert display("red \x1b[31mtext\x1b[0m") == "red  [31mtext [0m"
    assert display("a\x9bb\x07c") == "a b c"  # C1 CSI and the bell
    assert display("abc\u202edef") == "abcdef"  # right-to-left override dropped
    assert display("two\nlines") == "two lines"
    assert display("two\nlines", multiline=True) == "two\nlines"
    assert display(None) == ""


def test_fit_counts_terminal_columns():
    assert text_width("日本語") == 6  # wide characters take two columns
    assert text_width("e\u0301") == 1  # a combining accent takes none
    assert fit("日本語", 5) == "日本…"  # 2 + 2 + 1 columns
    assert text_width(fit("日本語", 5)) == 5
    assert fit("abc", 5) == "abc  "
    assert fit("abcdef", 4) == "abc…"


def test_table_aligns_columns_from_the_first_batch(capsys):
    table = Table(["ID", "Name", "Role"], [5, 8, 10], exact={0})
    table.print_rows([["1", "Ada", "Head"], ["22", "日本", "SENCo"]])
    table.print_rows([["333", "Grace Hopper", "IT"]])  # wider than the first batch
    assert capsys.readouterr().out.splitlines() == [
        "ID  Name  Role",
        "1   Ada   Head",
        "22  日本  SENCo",
        "333  Gra…  IT",  # the id is kept whole; the name is cut short
    ]


def test_table_caps_column_widths(capsys):
    Table(["Name", "Role"], [6, 4]).print_rows([["Grace Hopper", "Rear admiral"], ["Ada", ""]])
    assert capsys.readouterr().out.splitlines() == [
        "Name    Role",
        "Grace…  Rea…",
        "Ada",
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["init", "--help"],
        ["demo", "--help"],
        ["prospect", "--help"],
        ["prospect", "add", "--help"],
        ["prospect", "edit", "--help"],
        ["prospect", "list", "--help"],
        ["log", "--help"],
        ["followups", "--help"],
        ["consent", "--help"],
        ["opt-out", "--help"],
        ["object", "--help"],
        ["basis", "--help"],
        ["subscriber-type", "--help"],
        ["personalisation", "--help"],
        ["permissions", "--help"],
        ["assessment", "--help"],
        ["assessment", "add", "--help"],
        ["export", "--help"],
        ["exports", "--help"],
        ["exports", "show", "--help"],
        ["suppress", "--help"],
        ["suppressed", "--help"],
        ["import-unsubscribes", "--help"],
    ],
)
def test_help(run_crm, argv):
    result = run_crm(*argv)
    assert result.code == 0
    assert result.out.startswith("usage: crm")
    assert result.err == ""


def test_version(run_crm):
    result = run_crm("--version")
    assert (result.code, result.out) == (0, "crm 0.1.0\n")


def test_no_command_is_a_usage_error(run_crm):
    result = run_crm()
    assert result.code == 2
    assert (
        result.err
        == "crm: error: the following arguments are required: COMMAND (see 'crm --help')\n"
    )


def test_top_level_help_lists_every_command_under_its_group(run_crm):
    from crm_desktop.cli import build_parser

    text = run_crm("--help").out
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    headings = [
        "Getting started:",
        "Prospects and correspondence:",
        "Marketing permissions:",
        "Campaign exports and the suppression list:",
    ]
    lines = text.splitlines()
    starts = [lines.index(h) for h in headings]
    assert starts == sorted(starts)
    listed = {line.split()[0] for line in lines if line.startswith("  ") and line[2] != "-"}
    assert set(sub.choices) <= listed
    group_of = {}
    for heading, start in zip(headings, starts, strict=True):
        for line in lines[start + 1 :]:
            if not line.startswith("  "):
                break
            group_of[line.split()[0]] = heading
    assert group_of["consent"] == group_of["permissions"] == "Marketing permissions:"
    assert (
        group_of["export"]
        == group_of["suppressed"]
        == ("Campaign exports and the suppression list:")
    )
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert "usage: crm consent " in run_crm("consent", "--help").out


def test_new_positionals_named_in_the_not_utf8_refusal(run_crm, db_path):
    from cli_support import assert_error

    assert_error(
        run_crm("--db", str(db_path), "suppressed", "a\udcff@example.com"),
        1,
        "EMAIL|PHONE is not valid text",
    )
    assert_error(
        run_crm("--db", str(db_path), "assessment", "show", "\udcff"), 1, "NAME|ID is not valid"
    )
