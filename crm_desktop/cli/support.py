"""Helpers shared by the command modules: option types, options to service arguments,
Ctrl-C, progress.

Service refusals name their fields as the services know them ("evidence",
"given_at"); on the command line a person typed options, so
:func:`option_errors` re-labels the fields as those options and keeps the
service's own message.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date

from ..domain.enums import Channel
from ..domain.validation import ValidationError, clean_text, error_sentence, field_label, parse_date
from ..services import marketing
from .commands import CliError
from .output import Progress

REF_HELP = "the prospect's id (12 or #12) or email address"


# ------------------------------------------------------------ option types
# argparse calls these on the text typed; an ArgumentTypeError becomes a usage
# error naming the option (exit status 2).


def whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None


def positive(text: str) -> int:
    value = whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def request_id(text: str) -> int:
    """A data-subject request's id, as 12 or #12."""
    try:
        value = int(text.strip().lstrip("#"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a request id") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a request id")
    return value


def import_id(text: str) -> int:
    """An import's id, as 12 or #12 (``crm import`` says "import #12"; ``crm imports`` lists them)."""
    try:
        value = int(text.strip().lstrip("#"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not an import id (see 'crm imports')"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not an import id (see 'crm imports')")
    return value


# ----------------------------------------------- options to service arguments


@contextmanager
def option_errors(options: Mapping[str, str]) -> Iterator[None]:
    """Report a service's ValidationError with fields named as the options typed.

    ``options`` maps a service field ("given_at") to its option ("--at");
    fields not in it keep the service's label.
    """
    try:
        yield
    except ValidationError as exc:
        if not any(field in options for field in exc.errors):
            raise
        parts = [
            error_sentence(options.get(field, field_label(field)), message)
            for field, message in exc.errors.items()
        ]
        raise CliError("; ".join(parts)) from None


def channels_option(values: Iterable[str], option: str = "--channel") -> list[Channel]:
    """Channels named by a repeatable option ('all' meaning every one)."""
    try:
        return marketing.parse_channels(list(values))
    except ValueError as exc:
        raise CliError(f"{option}: {exc}") from None


def text_option(value: str | None, option: str, *, max_len: int) -> str | None:
    """A single-line text option cleaned as the services clean text (None if blank)."""
    try:
        return clean_text(value, max_len=max_len)
    except ValueError as exc:
        raise CliError(f"{option}: {exc}") from None


def date_option(value: str | None, option: str) -> date | None:
    try:
        return parse_date(value)
    except ValueError as exc:
        raise CliError(f"{option}: {exc}") from None


@contextmanager
def progress_on_tty(text: str) -> Iterator[Progress | None]:
    """A progress line on stderr when it is a terminal; None (silence) otherwise."""
    progress = Progress(text) if sys.stderr.isatty() else None
    try:
        yield progress
    finally:
        if progress is not None:
            progress.finish()


@contextmanager
def cancel_on_interrupt() -> Iterator[Callable[[], bool]]:
    """A ``should_cancel`` for a long service call, set by the first Ctrl-C.

    The service then stops at its next check and cleans up after itself (no
    partial file, nothing recorded) instead of being interrupted at an
    arbitrary point. A second Ctrl-C interrupts at once, as usual.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous == signal.SIG_IGN:
        yield lambda: False  # signals go to the main thread; an ignored Ctrl-C stays ignored
        return
    requested = threading.Event()

    def on_interrupt(signum: int, frame: object) -> None:
        requested.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield requested.is_set
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
