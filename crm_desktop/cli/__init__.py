"""The ``crm`` command: argument parsing and formatting over the services.

Each command opens the database named by ``--db`` (else ``CRM_DATABASE_URL``,
else the default file), calls the service functions for one action and
prints the result: aligned text for people, or one JSON document with
``--json``. Errors a person can act on become one ``crm: error:`` line on
stderr and exit status 1 (2 for usage errors); bugs still raise, so tests
see them.

Nothing here imports Qt: the command runs on servers and in scripts.

- ``app``: the parser and ``main``, the entry point (``crm = crm_desktop.cli:main``)
- ``commands``: prospects, correspondence, init and demo; ``opened`` and ``CliError``
- ``marketing_commands``: consent, opt-outs, lawful basis, permissions, assessments
- ``export_commands``: campaign exports, export records, suppression, unsubscribes
- ``sar_commands``: subject access packs (JSON, or PDF through the GUI's Qt, loaded lazily)
- ``support``: options to service arguments, Ctrl-C as a cancel, progress on a terminal
- ``output``: terminal-safe text, aligned tables, JSON
"""

from __future__ import annotations

from .app import build_parser, main

__all__ = ["build_parser", "main"]
