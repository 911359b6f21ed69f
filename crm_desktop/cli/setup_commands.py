"""``crm init`` and ``crm demo``: create or upgrade the database, fill it with demo data."""

from __future__ import annotations

import argparse
import sys

from ..persistence import sqlite_file
from ..services.demo import DEFAULT_PROSPECTS as DEMO_PROSPECTS
from .commands import CliError, opened
from .output import Progress, out, print_json
from .parser import Commands
from .support import whole


def cmd_init(args: argparse.Namespace) -> int:
    # Opening without migrating first tells a new (empty) file from an old one.
    path = sqlite_file(args.db)
    created = path is not None and (not path.exists() or path.stat().st_size == 0)
    with opened(args, create=True) as ctx:
        where = ctx.db.display_name
    if args.json:
        print_json({"database": where, "path": str(path) if path else None, "created": created})
    elif created:
        out(f"Created a new database at {where}")
    else:
        out(f"The database at {where} is ready (schema up to date).")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    try:
        from ..services import demo
    except ModuleNotFoundError as exc:
        if exc.name != "crm_desktop.services.demo":
            raise
        raise CliError("This version of CRM Desktop has no demo data generator.") from None
    count, most = args.prospects, demo.MAX_DEMO_PROSPECTS
    if not 1 <= count <= most:
        raise CliError(f"--prospects must be between 1 and {most:,} (got {count:,}).")
    progress = Progress("Generating demo data") if sys.stderr.isatty() else None
    with opened(args) as ctx:
        try:
            result = demo.generate_demo(ctx, count, seed=args.seed, progress=progress)
        finally:
            if progress is not None:
                progress.finish()
        where = ctx.db.display_name
    if args.json:
        print_json(
            {
                "schools": result.schools,
                "prospects": result.prospects,
                "contacts": result.contacts,
                "database": where,
            }
        )
    else:
        out(
            f"Added {result.prospects:,} prospects at {result.schools:,} schools "
            f"with {result.contacts:,} logged contacts to {where}"
        )
    return 0


def register(commands: Commands) -> None:
    """Register ``crm init`` and ``crm demo`` (see app.build_parser)."""
    commands.command("init", cmd_init, "Create the database, or upgrade it, and say where.")
    demo = commands.command("demo", cmd_demo, "Fill the database with made-up demo data.")
    demo.add_argument(
        "--prospects",
        type=whole,
        default=DEMO_PROSPECTS,
        metavar="N",
        help=f"how many (default: {DEMO_PROSPECTS}, as File > Load demo data adds)",
    )
    demo.add_argument("--seed", type=whole, metavar="S", help="the same seed makes the same data")
