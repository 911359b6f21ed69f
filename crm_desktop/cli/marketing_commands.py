"""Marketing-permission commands: consent, opt-outs, lawful basis, assessments.

Each change goes through ``services.marketing`` (which keeps the consent
ledger) and prints the person's channel states afterwards, so the effect of
a change on who may be marketed to is visible at once.
"""

from __future__ import annotations

import argparse

from ..domain.eligibility import Exclusion
from ..domain.enums import Channel, ConsentMethod, LawfulBasis, OptOutSource, SubscriberType
from ..errors import DatabaseError
from ..services import assessments, marketing, prospects
from ..services.assessments import AssessmentView
from ..services.context import Context
from ..services.marketing import ChannelStatus, ConsentEventView, MarketingView
from ..services.results import ProspectView
from .commands import EXIT_USAGE, CliError, opened
from .output import Table, day, display, label, local_time, out, print_block, print_json
from .parser import Commands
from .support import REF_HELP, channels_option, option_errors

# The service's field names for the options of `crm consent`.
CONSENT_OPTIONS = {
    "channel": "--channel",
    "method": "--method",
    "evidence": "--evidence",
    "policy_version": "--policy-version",
    "given_by": "--given-by",
    "given_at": "--at",
}

ASSESSMENT_OPTIONS = {
    "name": "NAME",
    "purpose": "--purpose",
    "necessity": "--necessity",
    "balancing": "--balancing",
}


def _source(text: str | None) -> str:
    if text is None:
        return OptOutSource.OTHER.value
    try:
        return OptOutSource.parse(text).value
    except ValueError as exc:
        raise CliError(f"--source: {exc}") from None


def _who(view: ProspectView) -> str:
    email = f" <{view.email}>" if view.email else ""
    return display(f"{view.full_name}{email} (#{view.id})")


# ------------------------------------------------------------ printing


def _channel_dict(status: ChannelStatus) -> dict:
    return {**status.to_dict(), "may_market": not status.exclusions}


def _view_dict(view: MarketingView) -> dict:
    data = view.to_dict()
    data["channels"] = [_channel_dict(c) for c in view.channels]
    return data


def _reasons(values: list[str]) -> str:
    return "; ".join(label(Exclusion, v) for v in values)


def _consent_cell(c: ChannelStatus) -> str:
    if not c.consent:
        return "no"
    how = label(ConsentMethod, c.consent_method)
    return f"yes, {day(c.consent_at)} ({how})" if how else "yes"


def _opt_out_cell(c: ChannelStatus) -> str:
    if not c.opted_out:
        return "no"
    return f"yes, {day(c.opted_out_at)} ({label(OptOutSource, c.opt_out_source)})"


def print_channels(view: MarketingView) -> None:
    """One line per channel: consent, opt-out and whether they may be marketed to now."""
    table = Table(["Channel", "Consent", "Opted out", "May market now"], [16, 36, 56, 200])
    table.print_rows(
        [
            [
                label(Channel, c.channel),
                _consent_cell(c),
                _opt_out_cell(c),
                "yes" if not c.exclusions else f"no: {_reasons(c.exclusions)}",
            ]
            for c in view.channels
        ]
    )


def _basis_text(view: MarketingView) -> str:
    text = label(LawfulBasis, view.lawful_basis)
    if view.lawful_basis == LawfulBasis.LEGITIMATE_INTEREST.value:
        if view.li_assessment_id is not None:
            text += f"\nassessment: {view.li_assessment_name} (#{view.li_assessment_id})"
        if view.li_note:
            text += f"\nnote: {view.li_note}"
    return text


def _subscriber_text(view: MarketingView) -> str:
    how = "inferred from the email address" if view.subscriber_type_inferred else "set by hand"
    return f"{label(SubscriberType, view.subscriber_type)} ({how})"


def _suppression_text(view: MarketingView) -> str:
    if not view.suppressed:
        return "not on the suppression list"
    names = ["all channels" if c == "all" else label(Channel, c) for c in view.suppressed]
    return "suppressed for " + ", ".join(names)


def _print_after(message: str, view: MarketingView, args: argparse.Namespace) -> int:
    if args.json:
        print_json(_view_dict(view))
        return 0
    out(message)
    print_channels(view)
    return 0


def _event_text(event: ConsentEventView) -> str:
    what = event.action.replace("-", " ").capitalize()
    if event.channel:
        what += f" ({label(Channel, event.channel)})"
    details = "; ".join(
        f"{key.replace('_', ' ')}: {value}"
        for key, value in event.details.items()
        if value not in (None, "")
    )
    line = f"{local_time(event.recorded_at)}  {what} by {event.recorded_by}"
    return f"{line}: {details}" if details else line


# ------------------------------------------------------------ commands


def _find(ctx: Context, ref: str) -> ProspectView:
    return prospects.find_prospect(ctx, ref)


def cmd_consent(args: argparse.Namespace) -> int:
    channels = channels_option(args.channel)
    evidence = marketing.ConsentEvidence(
        method=args.method,
        wording=args.evidence,
        policy_version=args.policy_version,
        given_by=args.given_by,
        given_at=args.at,
    )
    with opened(args) as ctx:
        person = _find(ctx, args.ref)
        before = marketing.marketing_view(ctx, person.id)
        with option_errors(CONSENT_OPTIONS):
            view = marketing.grant_consent(ctx, person.id, [c.value for c in channels], evidence)
    names = ", ".join(label(Channel, c) for c in channels)
    message = f"Recorded consent from {_who(person)} for {names}."
    chosen = {c.value for c in channels}
    lifted = [
        label(Channel, c.channel) for c in before.channels if c.opted_out and c.channel in chosen
    ]
    if lifted:
        message += f" This lifts their opt-out from {', '.join(lifted)}."
    return _print_after(message, view, args)


def _not_saved(what: str, exc: DatabaseError) -> CliError:
    """An opt-out the database would not take (busy beyond the wait, read-only, full)."""
    return CliError(
        f"NOT SAVED: {what}. {exc} Until it is saved, do not market to them: run the "
        "same command again (or record it in the app, which keeps it and retries)."
    )


def cmd_opt_out(args: argparse.Namespace) -> int:
    channels = channels_option(args.channel or ["all"])
    source = _source(args.source)
    every = len(channels) == len(Channel)
    names = "every channel" if every else ", ".join(label(Channel, c) for c in channels)
    with opened(args) as ctx:
        person = _find(ctx, args.ref)
        with option_errors({"reason": "--reason"}):
            try:
                view = marketing.opt_out(
                    ctx, person.id, [c.value for c in channels], source=source, reason=args.reason
                )
            except DatabaseError as exc:
                raise _not_saved(f"the opt-out of {_who(person)} from {names}", exc) from None
    return _print_after(f"Opted {_who(person)} out of {names}.", view, args)


def cmd_object(args: argparse.Namespace) -> int:
    source = _source(args.source)
    with opened(args) as ctx:
        person = _find(ctx, args.ref)
        with option_errors({"reason": "--reason"}):
            try:
                view = marketing.object_to_marketing(
                    ctx, person.id, source=source, reason=args.reason
                )
            except DatabaseError as exc:
                what = f"the objection of {_who(person)} to direct marketing"
                raise _not_saved(what, exc) from None
    message = (
        f"Recorded the objection of {_who(person)} to direct marketing: "
        "opted out of every channel and suppressed."
    )
    return _print_after(message, view, args)


def cmd_basis(args: argparse.Namespace) -> int:
    basis = args.basis
    if basis != LawfulBasis.LEGITIMATE_INTEREST.value and (args.note or args.assessment):
        raise CliError("--note and --assessment go with --legitimate-interest.", EXIT_USAGE)
    with opened(args) as ctx:
        person = _find(ctx, args.ref)
        assessment_id = None
        if args.assessment is not None:
            assessment_id = assessments.get_assessment(ctx, args.assessment).id
        with option_errors({"note": "--note", "assessment": "--assessment"}):
            view = marketing.set_lawful_basis(
                ctx, person.id, basis, li_assessment_id=assessment_id, note=args.note
            )
    message = f"Lawful basis for {_who(person)}: {label(LawfulBasis, view.lawful_basis)}."
    return _print_after(message, view, args)


def cmd_subscriber_type(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        person = _find(ctx, args.ref)
        view = marketing.set_subscriber_type(ctx, person.id, args.subscriber_type)
    return _print_after(f"Subscriber type of {_who(person)}: {_subscriber_text(view)}.", view, args)


def cmd_personalisation(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        person = _find(ctx, args.ref)
        view = marketing.set_personalisation(ctx, person.id, refused=args.refuse)
    if view.personalisation_refused:
        message = f"{_who(person)} refuses personalised marketing: left out of personalised lists."
    else:
        message = f"{_who(person)} may receive personalised marketing."
    return _print_after(message, view, args)


def cmd_permissions(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        person = _find(ctx, args.ref)
        view = marketing.marketing_view(ctx, person.id)
        history = marketing.consent_history(ctx, person.id)
    if args.json:
        print_json({**_view_dict(view), "history": [e.to_dict() for e in history]})
        return 0
    out(f"Marketing permissions of {_who(person)}")
    print_block(
        [
            ("Lawful basis", _basis_text(view)),
            ("Subscriber type", _subscriber_text(view)),
            (
                "Personalisation",
                "refused (left out of personalised campaigns)"
                if view.personalisation_refused
                else "allowed",
            ),
            ("Suppression", _suppression_text(view)),
        ]
    )
    out()
    print_channels(view)
    out()
    if not history:
        out("No consent history yet.")
        return 0
    out("Consent history (newest first):")
    for event in history:
        lines = display(_event_text(event), multiline=True).splitlines() or [""]
        out(f"- {lines[0]}")
        for more in lines[1:]:
            out(f"  {more}".rstrip())
    return 0


# --------------------------------------------------------- assessments


def _print_assessment(a: AssessmentView) -> None:
    out(f"Legitimate-interest assessment #{a.id}")
    print_block(
        [
            ("Name", a.name),
            ("Purpose", a.purpose),
            ("Necessity", a.necessity),
            ("Balancing", a.balancing),
            ("Prospects", f"{a.prospect_count:,}"),
            ("Written by", a.created_by),
            ("Added", local_time(a.created_at)),
        ]
    )


def cmd_assessment_add(args: argparse.Namespace) -> int:
    with opened(args) as ctx, option_errors(ASSESSMENT_OPTIONS):
        made = assessments.create_assessment(
            ctx,
            args.name,
            purpose=args.purpose,
            necessity=args.necessity,
            balancing=args.balancing,
        )
    if args.json:
        print_json(made.to_dict())
    else:
        out(f"Added legitimate-interest assessment #{made.id}: {display(made.name)}")
    return 0


def cmd_assessment_list(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        items = assessments.list_assessments(ctx)
    if args.json:
        print_json([a.to_dict() for a in items])
        return 0
    if not items:
        out("No legitimate-interest assessments yet ('crm assessment add' writes one).")
        return 0
    table = Table(["ID", "Name", "Prospects", "Written by", "Added"], [10, 50, 9, 16, 16], {0})
    table.print_rows(
        [
            [str(a.id), a.name, f"{a.prospect_count:,}", a.created_by, local_time(a.created_at)]
            for a in items
        ]
    )
    return 0


def cmd_assessment_show(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        found = assessments.get_assessment(ctx, args.assessment_ref)
    if args.json:
        print_json(found.to_dict())
    else:
        _print_assessment(found)
    return 0


# ----------------------------------------------------------------- parsers

_CHANNELS = ", ".join(c.value for c in Channel)
_SOURCE_HELP = "how they told us: " + ", ".join(s.value for s in OptOutSource) + " (default: other)"


def register(commands: Commands) -> None:
    """Register the marketing-permission commands (see app.build_parser)."""
    consent = commands.command(
        "consent",
        cmd_consent,
        "Record consent to marketing (an explicit opt-in).",
    )
    consent.add_argument("ref", metavar="EMAIL|ID", help=REF_HELP)
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

    opt_out = commands.command(
        "opt-out",
        cmd_opt_out,
        "Opt a prospect out of marketing (never refused).",
    )
    opt_out.add_argument("ref", metavar="EMAIL|ID", help=REF_HELP)
    opt_out.add_argument(
        "--channel",
        action="append",
        metavar="CH",
        help=f"{_CHANNELS}, or all (the default); repeat for more",
    )
    opt_out.add_argument("--source", metavar="S", help=_SOURCE_HELP)
    opt_out.add_argument("--reason", metavar="TEXT", help="what they said, if anything")

    objection = commands.command(
        "object",
        cmd_object,
        "Object to direct marketing: opt out of all, suppress.",
    )
    objection.add_argument("ref", metavar="EMAIL|ID", help=REF_HELP)
    objection.add_argument("--source", metavar="S", help=_SOURCE_HELP)
    objection.add_argument("--reason", metavar="TEXT", help="what they said, if anything")

    basis = commands.command(
        "basis", cmd_basis, "Set the lawful basis for marketing to a prospect."
    )
    basis.add_argument("ref", metavar="EMAIL|ID", help=REF_HELP)
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

    subscriber = commands.command(
        "subscriber-type",
        cmd_subscriber_type,
        "Set a corporate or individual subscriber (PECR).",
    )
    subscriber.add_argument("ref", metavar="EMAIL|ID", help=REF_HELP)
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

    personal = commands.command(
        "personalisation",
        cmd_personalisation,
        "Record whether personalised marketing is accepted.",
    )
    personal.add_argument("ref", metavar="EMAIL|ID", help=REF_HELP)
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

    permissions = commands.command(
        "permissions",
        cmd_permissions,
        "Show whether a prospect may be marketed to, and why.",
    )
    permissions.add_argument("ref", metavar="EMAIL|ID", help=REF_HELP)

    actions = commands.group("assessment", "Add, list and show legitimate-interest assessments.")
    add = actions.command(
        "add",
        cmd_assessment_add,
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
    actions.command("list", cmd_assessment_list, "List the assessments by name.")
    show = actions.command("show", cmd_assessment_show, "Show an assessment.")
    show.add_argument("assessment_ref", metavar="NAME|ID", help="its id or name (any case)")
