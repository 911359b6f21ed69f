"""``crm user``, ``crm backup``, ``crm restore`` and ``crm audit``."""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys

from ..domain.roles import Role
from ..errors import CrmError
from ..persistence import open_database
from ..services import audit, audit_key, backups, users
from .commands import CliError, opened
from .output import err, out, print_json
from .parser import Commands


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
        result = audit.verify(ctx, expect_head=args.expect_head)
    if args.json:
        print_json({**result.to_dict(), "complete": result.complete, "key": result.key_report})
    elif result.ok:
        # The head, for a person to note and give to --expect-head later.
        if result.entries:
            out(f"The audit trail is intact: {result.entries:,} entries, last {result.last_hash}.")
        else:
            out("The audit trail is intact: it has no entries yet.")
        if result.head_note:
            out(result.head_note)
    elif result.first_bad_id is None:
        err(f"crm: the audit trail {result.problem}.")
    else:
        err(f"crm: the audit trail is broken: entry {result.first_bad_id} {result.problem}.")
    if result.ok and not args.json:
        # What the audit key let this check cover: exit 1 unless it covered everything.
        if result.complete:
            out(result.key_report)
        else:
            err(f"crm: intact only as far as this computer can check. {result.key_report}")
    return 0 if result.complete else 1


def cmd_audit_key_show(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        status = audit_key.key_status(ctx)
    if args.json:
        print_json(
            {
                "database_id": status.database_id,
                "key_id": status.key_id,
                "held": status.held,
                "file": str(status.file) if status.file else None,
            }
        )
    else:
        out(status.sentence)
    return 0


def cmd_audit_key_export(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        count = audit_key.export_key(ctx, args.path, overwrite=args.overwrite)
    if args.json:
        print_json({"file": args.path, "keys": count})
    else:
        out(
            f"Wrote {count} audit key{'s' if count != 1 else ''} to {args.path} (readable by you "
            "only). Whoever has this file can rewrite the audit trail: move it by hand, import "
            "it with 'crm audit key import FILE' on the other computer, then delete it."
        )
    return 0


def cmd_audit_key_import(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        result = audit_key.import_key(ctx, args.path)
    if args.json:
        print_json({"added": result.added, "already_held": result.already})
    elif result.added:
        out(
            f"Imported {result.added} audit key{'s' if result.added != 1 else ''}: this "
            "computer now checks the entries signed with them. You may delete the file."
        )
    else:
        out("This computer already held every key in that file; nothing was added.")
    return 0


def _head_hash(text: str) -> str:
    value = text.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{8,64}", value):
        raise argparse.ArgumentTypeError(
            "give the last hash 'crm audit verify' printed (at least its first 8 characters)"
        )
    return value


def register(commands: Commands) -> None:
    """Register the commands on ``crm``'s parser (see app.build_parser)."""
    group = commands.group("user", "Users and their roles (admins), and your own password.")
    group.command("list", cmd_user_list, "List users.")
    add = group.command("add", cmd_user_add, "Add a user (password: CRM_NEW_PASSWORD or asked).")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, help=", ".join(r.value for r in Role))
    add.add_argument("--display-name", metavar="TEXT")
    passwd = group.command(
        "passwd", cmd_user_passwd, "Change your password, or (admins) reset someone's."
    )
    passwd.add_argument("name", metavar="NAME", nargs="?")
    deactivate = group.command("deactivate", cmd_user_deactivate, "Stop a user signing in.")
    deactivate.add_argument("name", metavar="NAME")

    backup = commands.command("backup", cmd_backup, "Back up the database (safe while in use).")
    backup.add_argument("--out", metavar="FILE", help="default: the backups folder beside it")
    restore = commands.command(
        "restore", cmd_restore, "Replace the database with a backup (admin)."
    )
    restore.add_argument("path", metavar="FILE")
    restore.add_argument("--yes", action="store_true", help="yes, replace the database")

    audit_group = commands.group("audit", "The tamper-evident audit trail.")
    verify = audit_group.command(
        "verify", cmd_audit_verify, "Check no entry was altered or removed."
    )
    verify.add_argument(
        "--expect-head", type=_head_hash, metavar="HASH",
        help="a last hash noted earlier: the trail must still hold that entry",
    )  # fmt: skip
    key_group = audit_group.group(
        "key",
        "Move the audit key between computers (managers and admins).",
        description=(
            "The audit trail is signed with a key kept outside the database, in your "
            "configuration folder. A computer without it cannot check the entries it signed; "
            "export it where it is, import it on the other computer."
        ),
        dest="key_action",
    )
    key_group.command("show", cmd_audit_key_show, "Say whether this computer holds the key.")
    export = key_group.command("export", cmd_audit_key_export, "Write the key to a file.")
    export.add_argument("path", metavar="FILE")
    export.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    imp = key_group.command("import", cmd_audit_key_import, "Add the key from a file.")
    imp.add_argument("path", metavar="FILE")
