"""The ``crm`` command: argument parsing and formatting over the services.

Each command opens the database named by ``--db`` (else ``CRM_DATABASE_URL``,
else the default file), calls the service functions for one action and
prints the result: aligned text for people, or one JSON document with
``--json``. Errors a person can act on become one ``crm: error:`` line on
stderr and exit status 1 (2 for usage errors); bugs still raise, so tests
see them.

Nothing here imports Qt: the command runs on servers and in scripts.

- ``app``: the top parser, the registry of command groups (``GROUP_MODULES``) and
  ``main``, the entry point (``crm = crm_desktop.cli:main``)
- ``parser``: how a group declares its commands (``register(commands)``), the parser class
- ``commands``: what every command shares: ``opened`` (open the database, sign in),
  ``CliError`` and the exit statuses
- one module per command group, each with its handlers and its ``register``:
  ``setup_commands`` (init, demo), ``prospect_commands`` (prospects, log, follow-ups),
  ``marketing_commands``, ``export_commands``, ``admin_commands`` (users, backup,
  restore, audit), ``request_commands``, ``sar_commands`` (subject access packs; the PDF
  through ``reports``, loaded lazily so the JSON pack needs no Qt), ``settings_commands``,
  ``history_commands``, ``rights_commands`` (restrict, erase), ``retention_commands``
- ``support``: option types, options to service arguments, Ctrl-C as a cancel, progress
- ``output``: terminal-safe text, aligned tables, JSON
"""

from __future__ import annotations

from .app import build_parser, main

__all__ = ["build_parser", "main"]
