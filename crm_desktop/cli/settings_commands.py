"""``crm settings``: the details an admin sets once (the data controller, your name).

``crm settings show`` prints them (and what is still missing before a subject
access pack can be made); ``crm settings set --controller-name ...`` changes
the ones given (admins), each change audited.
"""

from __future__ import annotations

import argparse

from ..services import settings, users
from .commands import EXIT_USAGE, CliError, opened
from .output import display, out, print_json
from .parser import Commands


def _show(controller: settings.Controller, me: str, args: argparse.Namespace) -> None:
    missing = controller.missing()
    if args.json:
        print_json({"controller": controller.to_dict(), "missing": missing, "your_name": me})
        return
    width = max(len(label) for label, _ in settings.FIELDS.values())
    for field, (label, _option) in settings.FIELDS.items():
        value = getattr(controller, field)
        shown = " / ".join(value.splitlines()) if value else "(not set)"
        out(f"{label + ':':<{width + 1}} {display(shown)}")
    out(f"{'Your name:':<{width + 1}} {display(me)}")
    if missing:
        out(settings.missing_message(missing))


def cmd_settings_show(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        controller = settings.get_controller(ctx)
        me = users.display_name(ctx)
    _show(controller, me, args)
    return 0


def cmd_settings_set(args: argparse.Namespace) -> int:
    changes = {
        field: getattr(args, field) for field in settings.FIELDS if getattr(args, field) is not None
    }
    if changes.get("address"):
        changes["address"] = changes["address"].replace("\\n", "\n")
    if not changes and args.my_name is None:
        raise CliError(
            "nothing to set: give at least one option (see 'crm settings set --help').",
            EXIT_USAGE,
        )
    with opened(args) as ctx:
        controller = settings.set_controller(ctx, **changes) if changes else None
        if args.my_name is not None:
            settings.set_display_name(ctx, args.my_name)
        controller = controller or settings.get_controller(ctx)
        me = users.display_name(ctx)
    _show(controller, me, args)
    return 0


def register(commands: Commands) -> None:
    """Register ``crm settings show|set`` on ``crm``'s parser (see app.build_parser)."""
    actions = commands.group("settings", "The data controller's details, for access packs.")
    actions.command("show", cmd_settings_show, "Show the settings and what is missing.")
    setting = actions.command(
        "set", cmd_settings_set, "Set the data controller's details (admins)."
    )
    helps = {
        "name": "the company's legal name",
        "address": "its postal address (use \\n or a quoted newline between lines)",
        "email": "where people write about their data",
        "dpo_name": "the data protection officer (or privacy lead)",
        "dpo_email": "the DPO's own email address (optional; else the contact email)",
    }
    for field, (_label, option) in settings.FIELDS.items():
        setting.add_argument(option, dest=field, metavar="TEXT", help=helps[field])
    setting.add_argument(
        "--my-name", metavar="TEXT", help="your own name as colleagues and access packs show it"
    )
    setting.epilog = (
        "Only the options given change; an empty value ('') clears one. No subject access "
        "pack is made until the company name, address, contact email and DPO are set."
    )
