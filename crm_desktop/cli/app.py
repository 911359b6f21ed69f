"""The ``crm`` argument parser and its entry point."""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any, NoReturn

from .. import __version__
from ..domain.enums import (
    Channel,
    ConsentMethod,
    ContactKind,
    DataSource,
    OptOutSource,
    SchoolPhase,
    Stage,
)
from ..domain.validation import DATE_FORMATS, ValidationError
from ..errors import Cancelled, CrmError
from ..formats.tabular import FORMATS
from ..services.demo import DEFAULT_PROSPECTS as DEMO_PROSPECTS
from . import admin_commands as admin
from . import commands
from . import export_commands as exporting
from . import history_commands as history_cli
from . import marketing_commands as marketing
from . import request_commands as request_cli
from . import retention_commands as retention_cli
from . import rights_commands as rights_cli
from . import sar_commands as sar_cli
from . import settings_commands as settings_cli
from .commands import EXIT_ERROR, EXIT_USAGE, CliError
from .output import err, one_line

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as for any Unix tool whose reader left


class _KeepDashes(list):
    """An option's own value list in which a value of ``--`` is kept."""

    def remove(self, value: object) -> None:
        if value != "--":
            super().remove(value)


_NEEDS_A_VALUE = re.compile(r"argument (\S+): expected one argument")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (exit status 2).

    A value may begin with '-' when given as ``--option=-value``; given as
    ``--option -value`` it reads as another option, and the error says how.
    """

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        self._typed = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> Any:
        # argparse before Python 3.13 drops a "--" even when it is an option's
        # own value (--first-name=--), leaving an empty list where text
        # belongs. An option's values hold "--" only when typed after "=".
        if action.option_strings and "--" in arg_strings:
            arg_strings = _KeepDashes(arg_strings)
        return super()._get_values(action, arg_strings)

    def _dash_hint(self, message: str) -> str:
        match = _NEEDS_A_VALUE.fullmatch(message)
        if not match:
            return ""
        options = match.group(1).split("/")
        typed = getattr(self, "_typed", [])
        for given, after in zip(typed, typed[1:], strict=False):
            if given in options and after.startswith("-"):
                if after.split("=", 1)[0] in self._option_string_actions:
                    return ""  # another option: the value was left out
                return f" (a value that begins with '-' is given as {given}={after})"
        return ""

    def error(self, message: str) -> NoReturn:
        message += self._dash_hint(message)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None


def _positive(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


_REF_HELP = "the prospect's id (12 or #12) or email address"
_CHANNELS = ", ".join(c.value for c in Channel)
_SOURCE_HELP = "how they told us: " + ", ".join(s.value for s in OptOutSource) + " (default: other)"

# How `crm --help` groups the commands (every command is in exactly one group).
COMMAND_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Getting started", ("init", "demo")),
    ("Prospects and correspondence", ("prospect", "log", "followups")),
    (
        "Marketing permissions",
        (
            "permissions",
            "consent",
            "opt-out",
            "object",
            "basis",
            "subscriber-type",
            "personalisation",
            "assessment",
        ),
    ),
    (
        "Campaign exports and the suppression list",
        ("export", "exports", "suppress", "suppressed", "import-unsubscribes"),
    ),
    (
        "Users, settings, backups and the audit trail",
        ("user", "settings", "backup", "restore", "audit", "history"),
    ),
    ("Data-subject requests", ("request", "sar", "restrict", "unrestrict", "erase", "retention")),
)
_DB_HELP = "database file or SQLAlchemy URL (default: $CRM_DATABASE_URL, else your data folder)"
_USER_HELP = (
    "sign in as NAME (default: $CRM_USER); the password comes from $CRM_PASSWORD or a "
    "prompt. Needed once a database has more than one user."
)


def _add_prospect_options(p: argparse.ArgumentParser, *, adding: bool) -> None:
    p.add_argument("--first-name", required=adding, metavar="NAME")
    p.add_argument("--last-name", required=adding, metavar="NAME")
    p.add_argument("--email", metavar="ADDRESS", help="needed unless --phone is given")
    p.add_argument("--phone", metavar="NUMBER", help="UK numbers may leave out +44")
    p.add_argument("--school", metavar="NAME", help="links the school, creating it if new")
    p.add_argument("--role", metavar="ROLE", help="job role, e.g. Headteacher")
    p.add_argument(
        "--interest",
        action="append",
        metavar="SERVICE",
        help="one of our services; repeat for more"
        + ("" if adding else " (replaces the list; --interest '' clears it)"),
    )
    p.add_argument("--stage", help=", ".join(s.value for s in Stage))
    p.add_argument("--owner", metavar="USER", help="default: you" if adding else None)
    p.add_argument(
        "--source",
        metavar="SOURCE",
        help=", ".join(s.value for s in DataSource)
        + "; other text is saved as 'other' with the text as its detail",
    )
    p.add_argument("--source-detail", metavar="TEXT")
    p.add_argument("--source-date", metavar="DATE", help=f"when we got the contact: {DATE_FORMATS}")


def _grouped_commands(helps: dict[str, str]) -> str:
    """The command list of ``crm --help``, under the headings of COMMAND_GROUPS."""
    grouped = [name for _, names in COMMAND_GROUPS for name in names]
    assert sorted(grouped) == sorted(helps), "every command belongs to one group"
    width = max(map(len, helps)) + 2
    lines = []
    for title, names in COMMAND_GROUPS:
        lines += ["", f"{title}:"] + [f"  {name:<{width}}{helps[name]}" for name in names]
    lines += ["", "Run 'crm COMMAND --help' for the options of a command."]
    return "\n".join(lines[1:])


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="crm",
        usage="%(prog)s [-h] [--db PATH|URL] [--user NAME] [--version] COMMAND ...",
        description=(
            "CRM Desktop from the command line: prospects, correspondence and follow-ups,\n"
            "marketing permissions, campaign exports and the suppression list."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--db", metavar="PATH|URL", default=None, help=_DB_HELP)
    parser.add_argument("--user", metavar="NAME", default=None, help=_USER_HELP)
    parser.add_argument("--version", action="version", version=f"crm {__version__}")
    # --db is also accepted after the command; SUPPRESS keeps one given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH|URL", default=argparse.SUPPRESS, help=_DB_HELP)
    common.add_argument("--user", metavar="NAME", default=argparse.SUPPRESS, help=_USER_HELP)
    common.add_argument("--json", action="store_true", help="print one JSON document")

    # For a sub-command's own sub-commands (`crm exports show`): --json given
    # before the sub-command (`crm exports --json show 1`) must not be reset.
    nested = argparse.ArgumentParser(add_help=False)
    nested.add_argument("--db", metavar="PATH|URL", default=argparse.SUPPRESS, help=_DB_HELP)
    nested.add_argument("--user", metavar="NAME", default=argparse.SUPPRESS, help=_USER_HELP)
    nested.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON document"
    )
    helps: dict[str, str] = {}

    def command(
        group: Any,
        name: str,
        func: Callable[[argparse.Namespace], int],
        text: str,
        *,
        parent: argparse.ArgumentParser = common,
    ) -> argparse.ArgumentParser:
        p = group.add_parser(
            name, help=text, description=text, parents=[parent], allow_abbrev=False
        )
        p.set_defaults(func=func)
        if group is top:
            helps[name] = text
        return p

    def command_group(name: str, text: str) -> Any:
        helps[name] = text
        p = top.add_parser(name, help=text, description=text, allow_abbrev=False)
        return p.add_subparsers(dest="action", metavar="ACTION", required=True)

    top = parser.add_subparsers(
        # prog: the commands' own usage lines start "crm COMMAND", not the usage above.
        prog="crm",
        dest="command",
        metavar="COMMAND",
        required=True,
        help=argparse.SUPPRESS,
    )
    command(top, "init", commands.cmd_init, "Create the database, or upgrade it, and say where.")
    demo = command(top, "demo", commands.cmd_demo, "Fill the database with made-up demo data.")
    demo.add_argument(
        "--prospects",
        type=_whole,
        default=DEMO_PROSPECTS,
        metavar="N",
        help=f"how many (default: {DEMO_PROSPECTS}, as File > Load demo data adds)",
    )
    demo.add_argument("--seed", type=_whole, metavar="S", help="the same seed makes the same data")

    actions = command_group("prospect", "Add, edit, delete, list and show prospects.")
    add = command(actions, "add", commands.cmd_prospect_add, "Add a prospect.")
    _add_prospect_options(add, adding=True)
    edit = command(actions, "edit", commands.cmd_prospect_edit, "Change a prospect.")
    edit.add_argument("ref", metavar="EMAIL|ID", help=_REF_HELP)
    _add_prospect_options(edit, adding=False)
    edit.add_argument(
        "--reason", metavar="TEXT", help="why (kept in the audit trail, e.g. a correction)"
    )
    edit.add_argument(
        "--request", type=_positive, metavar="ID", help="the rectification request this answers"
    )
    edit.epilog = "Only the options given change; an empty value ('') clears an optional field."
    delete = command(
        actions, "delete", commands.cmd_prospect_delete, "Delete a prospect and their history."
    )
    delete.add_argument("ref", metavar="EMAIL|ID", help=_REF_HELP)
    delete.description = (
        "Delete a prospect with their correspondence, interests and consent records. "
        "Their details are also blanked in the audit trail (its entries stay and still "
        "verify). Their addresses are not suppressed, so they can be added again; to "
        "remove a person for good and keep them off every list, use 'crm erase'."
    )
    listing = command(actions, "list", commands.cmd_prospect_list, "List prospects by name.")
    listing.add_argument("--search", metavar="TEXT", help="words of a name, email or school")
    listing.add_argument("--limit", type=_positive, metavar="N", help="at most N (default: all)")
    show = command(
        actions, "show", commands.cmd_prospect_show, "Show a prospect and their history."
    )
    show.add_argument("ref", metavar="EMAIL|ID", help=_REF_HELP)

    log = command(top, "log", commands.cmd_log, "Log a contact with a prospect.")
    log.add_argument("ref", metavar="EMAIL|ID", help=_REF_HELP)
    log.add_argument("--kind", required=True, help=", ".join(k.value for k in ContactKind))
    log.add_argument("--summary", required=True, metavar="TEXT", help="'-' reads standard input")
    log.add_argument("--subject", metavar="TEXT")
    log.add_argument(
        "--at", metavar="ISO", help="when it happened, e.g. 2026-03-01T14:30 (default: now)"
    )
    log.add_argument(
        "--follow-up",
        metavar="DATE",
        help=f"when to follow up: {DATE_FORMATS} (a past date is kept, with a warning)",
    )

    followups = command(
        top, "followups", commands.cmd_followups, "List open follow-ups, overdue first."
    )
    followups.add_argument("--mine", action="store_true", help="only the ones you logged")
    followups.add_argument("--limit", type=_positive, metavar="N", help="at most N")

    _add_marketing_commands(top, command, command_group)
    _add_export_commands(top, command, nested)
    admin.add_parsers(top, command, command_group)
    request_cli.add_parsers(top, command, command_group)
    sar_cli.add_parsers(top, command, command_group)
    settings_cli.add_parsers(top, command, command_group)
    history_cli.add_parsers(top, command, command_group)
    rights_cli.add_parsers(top, command)
    retention_cli.add_parsers(top, command, command_group)
    parser.epilog = _grouped_commands(helps)
    return parser


def _add_marketing_commands(top: Any, command: Callable[..., Any], command_group: Any) -> None:
    consent = command(
        top,
        "consent",
        marketing.cmd_consent,
        "Record consent to marketing (an explicit opt-in).",
    )
    consent.add_argument("ref", metavar="EMAIL|ID", help=_REF_HELP)
    consent.add_argument(
        "--channel",
        action="append",
        required=True,
        metavar="CH",
        help=f"{_CHANNELS}, or all; repeat for more",
    )
    consent.add_argument(
        "--grant",
        action="store_true",
        required=True,
        help="record consent given (to withdraw consent, use 'crm opt-out')",
    )
    consent.add_argument(
        "--evidence",
        metavar="TEXT",
        help="required: what the person was told when they agreed, or a reference to it "
        "(e.g. the form and its wording)",
    )
    consent.add_argument(
        "--method",
        default=ConsentMethod.OTHER.value,
        metavar="M",
        help="how they agreed: "
        + ", ".join(m.value for m in ConsentMethod)
        + " (default: other; then say how in --evidence)",
    )
    consent.add_argument(
        "--policy-version", metavar="V", help="the privacy notice version they saw"
    )
    consent.add_argument("--given-by", metavar="NAME", help="who agreed (default: the prospect)")
    consent.add_argument(
        "--at", metavar="ISO", help="when they agreed, e.g. 2026-03-01T14:30 (default: now)"
    )
    consent.epilog = (
        "Consent lifts an opt-out on the channels named, so record it only when the person "
        "has explicitly opted in again. It is refused without --evidence."
    )

    opt_out = command(
        top,
        "opt-out",
        marketing.cmd_opt_out,
        "Opt a prospect out of marketing (never refused).",
    )
    opt_out.add_argument("ref", metavar="EMAIL|ID", help=_REF_HELP)
    opt_out.add_argument(
        "--channel",
        action="append",
        metavar="CH",
        help=f"{_CHANNELS}, or all (the default); repeat for more",
    )
    opt_out.add_argument("--source", metavar="S", help=_SOURCE_HELP)
    opt_out.add_argument("--reason", metavar="TEXT", help="what they said, if anything")

    objection = command(
        top,
        "object",
        marketing.cmd_object,
        "Object to direct marketing: opt out of all, suppress.",
    )
    objection.add_argument("ref", metavar="EMAIL|ID", help=_REF_HELP)
    objection.add_argument("--source", metavar="S", help=_SOURCE_HELP)
    objection.add_argument("--reason", metavar="TEXT", help="what they said, if anything")

    basis = command(
        top, "basis", marketing.cmd_basis, "Set the lawful basis for marketing to a prospect."
    )
    basis.add_argument("ref", metavar="EMAIL|ID", help=_REF_HELP)
    which = basis.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--consent",
        dest="basis",
        action="store_const",
        const="consent",
        help="consent: only channels they consented to (see 'crm consent')",
    )
    which.add_argument(
        "--legitimate-interest",
        dest="basis",
        action="store_const",
        const="legitimate-interest",
        help="legitimate interest: needs --note or --assessment (or both)",
    )
    which.add_argument(
        "--none",
        dest="basis",
        action="store_const",
        const="none",
        help="no basis: never marketed to",
    )
    basis.add_argument(
        "--note", metavar="TEXT", help="why marketing to this person is necessary and fair"
    )
    basis.add_argument(
        "--assessment",
        metavar="NAME|ID",
        help="a legitimate-interest assessment (see 'crm assessment list')",
    )

    subscriber = command(
        top,
        "subscriber-type",
        marketing.cmd_subscriber_type,
        "Set a corporate or individual subscriber (PECR).",
    )
    subscriber.add_argument("ref", metavar="EMAIL|ID", help=_REF_HELP)
    kind = subscriber.add_mutually_exclusive_group(required=True)
    kind.add_argument(
        "--corporate",
        dest="subscriber_type",
        action="store_const",
        const="corporate",
        help="a school, trust or company address",
    )
    kind.add_argument(
        "--individual",
        dest="subscriber_type",
        action="store_const",
        const="individual",
        help="a personal address: email and SMS need their consent",
    )
    kind.add_argument(
        "--inferred",
        dest="subscriber_type",
        action="store_const",
        const=None,
        help="infer it from the email address again",
    )

    personal = command(
        top,
        "personalisation",
        marketing.cmd_personalisation,
        "Record whether personalised marketing is accepted.",
    )
    personal.add_argument("ref", metavar="EMAIL|ID", help=_REF_HELP)
    choice = personal.add_mutually_exclusive_group(required=True)
    choice.add_argument(
        "--refuse",
        dest="refuse",
        action="store_const",
        const=True,
        help="left out of personalised campaigns",
    )
    choice.add_argument(
        "--allow", dest="refuse", action="store_const", const=False, help="accepts them again"
    )

    permissions = command(
        top,
        "permissions",
        marketing.cmd_permissions,
        "Show whether a prospect may be marketed to, and why.",
    )
    permissions.add_argument("ref", metavar="EMAIL|ID", help=_REF_HELP)

    actions = command_group("assessment", "Add, list and show legitimate-interest assessments.")
    add = command(
        actions,
        "add",
        marketing.cmd_assessment_add,
        "Record a legitimate-interest assessment that prospects can share.",
    )
    add.add_argument("name", metavar="NAME", help="a short name, e.g. 'School outreach 2026'")
    add.add_argument("--purpose", required=True, metavar="TEXT", help="what the marketing is for")
    add.add_argument(
        "--necessity", required=True, metavar="TEXT", help="why it needs this processing"
    )
    add.add_argument(
        "--balancing",
        required=True,
        metavar="TEXT",
        help="why it does not override the people's interests and rights",
    )
    command(actions, "list", marketing.cmd_assessment_list, "List the assessments by name.")
    show = command(actions, "show", marketing.cmd_assessment_show, "Show an assessment.")
    show.add_argument("assessment_ref", metavar="NAME|ID", help="its id or name (any case)")


def _add_export_commands(
    top: Any, command: Callable[..., Any], nested: argparse.ArgumentParser
) -> None:
    export = command(
        top,
        "export",
        exporting.cmd_export,
        "Write a campaign list of who may be marketed to.",
    )
    export.add_argument(
        "--channel", required=True, metavar="CH", help=", ".join(c.value for c in Channel)
    )
    export.add_argument(
        "--out", metavar="FILE", help="the file to write (required unless --preview)"
    )
    export.add_argument(
        "--overwrite",
        action="store_true",
        help="replace FILE if it exists (recorded); without it an existing file is refused",
    )
    export.add_argument(
        "--format",
        choices=FORMATS,
        help="default: xlsx for a FILE ending in .xlsx, else csv; mailchimp is for email",
    )
    export.add_argument(
        "--campaign", metavar="NAME", help="default: 'CLI export YYYY-MM-DD' (today)"
    )
    export.add_argument("--purpose", metavar="TEXT", help="what the campaign is for (recorded)")
    export.add_argument(
        "--personalised",
        action="store_true",
        help="a personalised campaign: adds school, role, stage and interests; leaves out "
        "people who refused personalised marketing",
    )
    export.add_argument("--interest", metavar="NAME", help="only people interested in this service")
    export.add_argument("--role", metavar="R", help="only this job role (any case)")
    export.add_argument("--stage", metavar="S", help=", ".join(s.value for s in Stage))
    export.add_argument("--school-phase", metavar="P", help=", ".join(p.value for p in SchoolPhase))
    export.add_argument("--region", metavar="LA", help="only schools in this local authority")
    export.add_argument("--owner", metavar="O", help="only prospects this user owns")
    export.add_argument(
        "--last-contact-from", metavar="DATE", help=f"last contacted on or after: {DATE_FORMATS}"
    )
    export.add_argument(
        "--last-contact-to", metavar="DATE", help=f"last contacted on or before: {DATE_FORMATS}"
    )
    export.add_argument(
        "--preview",
        action="store_true",
        help="write nothing; list the people who would be included, and who would be "
        "left out and why",
    )
    export.epilog = (
        "Who is included is decided afresh when the file is written. The file is complete "
        "or absent: Ctrl-C leaves no file (a previous one stays) and records nothing. An "
        "existing file is never replaced unless --overwrite is given."
    )

    exports = command(
        top, "exports", exporting.cmd_exports, "List the exports made, newest first, or show one."
    )
    shown = exports.add_subparsers(dest="action", metavar="ACTION")
    show = command(
        shown, "show", exporting.cmd_exports_show, "Show one export record.", parent=nested
    )
    show.add_argument("export_id", type=_positive, metavar="ID")
    show.add_argument(
        "--members", action="store_true", help="also list the prospect ids in the file"
    )

    suppress = command(
        top,
        "suppress",
        exporting.cmd_suppress,
        "Put addresses on the suppression list.",
    )
    suppress.add_argument("address", nargs="?", metavar="EMAIL|PHONE")
    suppress.add_argument("--channel", metavar="CH", help=f"{_CHANNELS}, or all (the default)")
    suppress.add_argument("--reason", metavar="TEXT", help="why (kept with the entry)")
    suppress.add_argument(
        "--file",
        metavar="FILE",
        help="one address per line, or a CSV with an email column; suppresses every channel",
    )

    suppressed = command(
        top,
        "suppressed",
        exporting.cmd_suppressed,
        "Is an address suppressed? (exit 0 if so, else 1)",
    )
    suppressed.add_argument("address", metavar="EMAIL|PHONE")

    unsubscribes = command(
        top,
        "import-unsubscribes",
        exporting.cmd_import_unsubscribes,
        "Apply an unsubscribe or bounce file from the email tool.",
    )
    unsubscribes.add_argument(
        "path",
        metavar="FILE",
        help="Mailchimp's unsubscribed or cleaned export, a CSV with an email column, "
        "or one address per line",
    )
    unsubscribes.epilog = (
        "Matching prospects are opted out of email; other addresses go on the suppression "
        "list. A bad file changes nothing. It is applied 5,000 addresses at a time, so "
        "others can opt people out meanwhile; Ctrl-C stops after the batch in progress "
        "and says how much was applied, and running the same file again applies the rest."
    )


@functools.cache
def _parser() -> argparse.ArgumentParser:
    # Building takes ~10 ms (argparse looks up translations); parsing leaves
    # the parser unchanged, so one serves every call of main() in a process.
    return build_parser()


# Positional arguments by their dest, as a person sees them in usage.
_POSITIONALS = {
    "ref": "EMAIL|ID",
    "assessment_ref": "NAME|ID",
    "name": "NAME",
    "address": "EMAIL|PHONE",
    "path": "FILE",
}


def _check_text(args: argparse.Namespace) -> None:
    """Refuse arguments that were not valid UTF-8 on the command line.

    Python hands such bytes over as lone surrogates, which no database or
    terminal can take.
    """
    for name, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and any("\ud800" <= ch <= "\udfff" for ch in item):
                option = _POSITIONALS.get(name) or "--" + name.replace("_", "-")
                raise CliError(f"{option} is not valid text (it has bytes that are not UTF-8).")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``crm`` command and return its exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        _check_text(args)
        return args.func(args)
    except CliError as exc:
        err(f"crm: error: {one_line(exc)}")
        return exc.code
    except Cancelled as exc:  # Ctrl-C, handled by the service at a safe point
        err(f"crm: interrupted; {one_line(exc)}")
        return EXIT_INTERRUPTED
    except (CrmError, ValidationError) as exc:
        err(f"crm: error: {one_line(exc)}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        err("crm: interrupted; the action in progress was not saved.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`crm prospect list | head`): stop quietly, and
        # keep Python's flush at exit from failing on the closed pipe again.
        with suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
