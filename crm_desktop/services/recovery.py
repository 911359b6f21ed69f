"""Finishing, on the next start, work that a killed or failed run left unfinished.

A process can be killed at any moment (power cut, ``kill -9``, a full disk).
Each kind of work that cannot be made one atomic step leaves a trace of
where it stood (an export record still "writing", a clean-up still owed)
and registers a step here that finishes or undoes it. The command line runs
the steps whenever it opens a database; the window runs them in the
background after it opens.

A step takes the signed-in :class:`Context`, does nothing when there is
nothing to finish (that check must be cheap: it runs on every start), and
returns one plain sentence per thing it finished, for the user to read.
Steps never raise for work they cannot finish now (the database is busy,
read-only, the disk still full): they leave it for the next start.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from .context import Context

Step = Callable[[Context], list[str]]

_STEPS: list[tuple[str, Step]] = []


def register(name: str) -> Callable[[Step], Step]:
    """Decorator: run ``step`` on every start (in registration order)."""

    def add(step: Step) -> Step:
        if all(existing != name for existing, _ in _STEPS):
            _STEPS.append((name, step))
        return step

    return add


def steps() -> list[str]:
    return [name for name, _ in _STEPS]


def recover(ctx: Context) -> list[str]:
    """Run every registered step; what each finished, as sentences."""
    if ctx.db.read_only:
        return []
    _load_steps()
    done: list[str] = []
    for _name, step in _STEPS:
        done.extend(step(ctx))
    return done


# The modules that register a step when imported (they import this one);
# imported here so that every step runs whichever parts of the program the
# command happened to load.
STEP_MODULES: tuple[str, ...] = (".exports", ".backups", ".pending", ".cleanup", ".audit")


def _load_steps() -> None:
    for module in STEP_MODULES:
        importlib.import_module(module, __package__)
