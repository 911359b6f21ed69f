"""``crm user``, ``crm backup``, ``crm restore`` and ``crm audit``."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from ..domain.roles import Role
from ..errors import CrmError
from ..persistence import open_database
from ..services import audit, backups, users
from .commands import CliError, opened
from .output import err, out, print_json


def _new_password(prompt: str) -> str:
    """From CRM_NEW_PASSWORD, else asked twice at the terminal."""
    password = os.environ.get("CRM_NEW_PASSWORD")
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise CliError("Give the new password in CRM_NEW_PASSWORD (no terminal to ask at).")
    first = getpass.getpass(prompt)
    if getpass.getpass("Again: ") != first:
        raise CliError("The two passwords differ; nothing was changed.")
    return first


def cmd_user_list(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        rows = users.list_users(ctx)
    if args.json:
        print_json([u.to_dict() for u in rows])
        return 0
    for u in rows:
        state = "active" if u.active else "deactivated"
        password = "password set" if u.has_password else "no password"
        out(f"{u.username:<24} {Role(u.role).label:<10} {state:<12} {password}")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        password = _new_password(f"Password for {args.name}: ")
        view = users.add_user(ctx, args.name, args.role, password, display_name=args.display_name)
    if args.json:
        print_json(view.to_dict())
    else:
        out(f"Added {view.username} ({Role(view.role).label.lower()}). Everyone now signs in.")
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        if args.name and args.name.strip().lower() != ctx.user:
            users.reset_password(ctx, args.name, _new_password(f"New password for {args.name}: "))
            who = args.name.strip().lower()
        else:
            old = os.environ.get("CRM_PASSWORD")
            if old is None and users.has_password(ctx) and sys.stdin.isatty():
                old = getpass.getpass("Current password: ")
            users.change_password(ctx, _new_password("New password: "), old_password=old)
            who = ctx.user
    if args.json:
        print_json({"username": who, "changed": True})
    else:
        out(f"Password changed for {who}.")
    return 0


def cmd_user_deactivate(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        view = users.deactivate_user(ctx, args.name)
    if args.json:
        print_json(view.to_dict())
    else:
        out(f"{view.username} can no longer sign in; their history stays.")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        path = backups.back_up(ctx, args.out)
    if args.json:
        print_json({"file": str(path)})
    else:
        out(f"Backed up to {path} (checked: integrity ok).")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    if not args.yes:
        raise CliError("Restoring replaces the database: add --yes to go ahead.")
    with opened(args) as ctx:
        safety = backups.restore(ctx, args.path)
        where = ctx.db.display_name
    # Open again: the schema is checked (and upgraded if the backup is older).
    try:
        open_database(where).dispose()
    except CrmError as exc:
        raise CliError(f"Restored, but the database does not open: {exc}") from None
    if args.json:
        print_json({"database": where, "previous_copy": str(safety)})
    else:
        out(f"Restored {where} from {args.path}. The previous database is kept at {safety}.")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        result = audit.verify(ctx)
    if args.json:
        print_json(result.to_dict())
    elif result.ok:
        out(f"The audit trail is intact ({result.entries} entries).")
    else:
        err(f"crm: the audit trail is broken: entry {result.first_bad_id} {result.problem}.")
    return 0 if result.ok else 1


def add_parsers(top, command, command_group) -> None:
    """Register the commands on ``crm``'s parser (see app.build_parser)."""
    group = command_group("user", "Users and their roles (admins), and your own password.")
    command(group, "list", cmd_user_list, "List users.")
    add = command(group, "add", cmd_user_add, "Add a user (password: CRM_NEW_PASSWORD or asked).")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, help=", ".join(r.value for r in Role))
    add.add_argument("--display-name", metavar="TEXT")
    passwd = command(
        group, "passwd", cmd_user_passwd, "Change your password, or (admins) reset someone's."
    )
    passwd.add_argument("name", metavar="NAME", nargs="?")
    deactivate = command(group, "deactivate", cmd_user_deactivate, "Stop a user signing in.")
    deactivate.add_argument("name", metavar="NAME")

    backup = command(top, "backup", cmd_backup, "Back up the database (safe while in use).")
    backup.add_argument("--out", metavar="FILE", help="default: the backups folder beside it")
    restore = command(top, "restore", cmd_restore, "Replace the database with a backup (admin).")
    restore.add_argument("path", metavar="FILE")
    restore.add_argument("--yes", action="store_true", help="yes, replace the database")

    audit_group = command_group("audit", "The tamper-evident audit trail.")
    command(audit_group, "verify", cmd_audit_verify, "Check no entry was altered or removed.")
