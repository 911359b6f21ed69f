"""The Privacy feature: the Requests tab, the rights actions, retention review.

Declared once here; the shell builds the tab, menu items, shortcuts and the
overdue badge's place in the status bar from :data:`FEATURE`.
"""

from __future__ import annotations

from crm_desktop.domain.requests import REQUEST_RETENTION_YEARS
from crm_desktop.domain.roles import Action
from crm_desktop.services import requests as request_service
from crm_desktop.ui.common import messages
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.common.registry import ActionSpec, Feature, PageSpec, Shell, named_controls
from crm_desktop.ui.common.workers import BackgroundTask, run_with_progress
from crm_desktop.ui.privacy import access_pack
from crm_desktop.ui.privacy.request_dialogs import RequestDialog
from crm_desktop.ui.privacy.requests_page import PAGE, OverdueBadge, RequestsView
from crm_desktop.ui.privacy.retention_page import RetentionDialog
from crm_desktop.ui.privacy.rights_dialogs import EraseDialog, RestrictDialog

# What other features change that the requests list shows (names, restrictions).
CARES = frozenset(
    {Kind.PROSPECTS, Kind.CONTACTS, Kind.MARKETING, Kind.REQUESTS, Kind.DATABASE}
    | {Kind.APPEARANCE}
)
BADGE_CARES = frozenset({Kind.REQUESTS, Kind.SIGN_IN, Kind.DATABASE})


def make_page(shell: Shell) -> RequestsView:
    page = RequestsView(shell.ctx, shell.window(), bus=shell.bus)
    page.load_on_show = False  # read when the window first shows it (see refresh)
    page.statusMessage.connect(shell.status)
    return page


def refresh(page: RequestsView, _change: Change | None) -> None:
    page.refresh()


def editing_controls(page: RequestsView) -> list:
    names = ("new_button", "verify_button", "start_button", "edit_button", "extend_button",
             "close_button", "pack_button", "restrict_button", "erase_button")  # fmt: skip
    return named_controls(page, names)


def setup(shell: Shell) -> None:
    """The overdue badge in the status bar: refreshed by changes, a click shows the tab."""
    badge = OverdueBadge(shell.ctx, shell.window())
    shell.add_part("overdue", badge)
    shell.add_status_widget(badge, 10)
    badge.clicked.connect(shell.action("show_requests").trigger)
    shell.bus.changed.connect(lambda change: change.touches(BADGE_CARES) and badge.refresh())


# ----------------------------------------------------------------- actions


def restrict(shell: Shell, *, lifting: bool) -> RestrictDialog | None:
    prospect = shell.selected()
    if prospect is None:
        return None
    dialog = RestrictDialog(
        shell.ctx, prospect, lifting=lifting, parent=shell.window(), bus=shell.bus
    )
    return shell.open_dialog(dialog)


def restrict_prospect(shell: Shell) -> RestrictDialog | None:
    return restrict(shell, lifting=False)


def unrestrict_prospect(shell: Shell) -> RestrictDialog | None:
    return restrict(shell, lifting=True)


def erase_prospect(shell: Shell) -> EraseDialog | None:
    prospect = shell.selected()
    if prospect is None:
        return None
    dialog = EraseDialog(shell.ctx, prospect, shell.window(), bus=shell.bus)
    dialog.accepted.connect(
        lambda: shell.status(
            f"Erased {prospect.full_name} (prospect #{prospect.id}): anonymised and their "
            "addresses suppressed."
        )
    )
    return shell.open_dialog(dialog)


def subject_access_pack(shell: Shell) -> BackgroundTask | None:
    """Prospect > Subject access pack: a PDF (or .json) file, written in the background."""
    prospect = shell.selected()
    if prospect is None:
        return None
    task = access_pack.start_access_pack(
        shell.window(), shell.ctx, prospect.id, name=prospect.full_name
    )
    if task is None:
        return None
    task.succeeded.connect(lambda path: shell.status(f"Subject access pack written to {path}."))
    task.cancelled.connect(lambda: shell.status("Cancelled; no pack was written."))
    return task


def new_request(shell: Shell) -> RequestDialog:
    """Record a data-subject request, for the selected prospect if there is one."""
    return shell.page(PAGE).new_request(shell.selected())


def retention_review(shell: Shell) -> RetentionDialog:
    return shell.open_dialog(RetentionDialog(shell.ctx, shell.window(), bus=shell.bus))


def forget_expired_requests(shell: Shell) -> BackgroundTask | None:
    """On start, blank who asked on requests closed longer ago than they are kept.

    Only for those who handle requests, and never on a read-only database.
    """
    ctx = shell.ctx
    if ctx.db.read_only or not ctx.may(Action.DATA_SUBJECT_REQUESTS):
        return None
    task = run_with_progress(
        shell.window(), "Request register", "Forgetting who asked on old requests…",
        lambda progress, should_cancel: request_service.forget_expired(ctx),
    )  # fmt: skip

    def forgotten(count: int) -> None:
        if count:
            shell.bus.publish(Change.of(Kind.REQUESTS))
            shell.status(
                f"Forgot who asked on {count:,} request{'' if count == 1 else 's'} "
                f"closed more than {REQUEST_RETENTION_YEARS} years ago."
            )

    task.succeeded.connect(forgotten)
    task.failed.connect(
        lambda text: messages.show_error(shell.window(), text, "Old requests could not be tidied")
    )
    return task


# What the selected prospect allows (None: it was not found, as when just deleted).
def _restrictable(record) -> bool:
    return record is None or (record.restricted_at is None and record.erased_at is None)


def _restricted(record) -> bool:
    return record is not None and record.restricted_at is not None


def _erasable(record) -> bool:
    return record is None or record.erased_at is None


FEATURE = Feature(
    name="privacy",
    pages=(
        PageSpec(
            name=PAGE,
            title="Requests",
            order=50,
            factory=make_page,
            show_text="&Requests",
            shortcut="Ctrl+5",
            tip="Data-subject requests by deadline",
            permission=Action.DATA_SUBJECT_REQUESTS,
            cares=CARES,
            refresh=refresh,
            editing_controls=editing_controls,
        ),
    ),
    actions=(
        ActionSpec(
            "retention_review",
            "&Retention review…",
            "file",
            100,
            retention_review,
            tip="People we have not contacted for a long time: keep them or anonymise them",
            permission=Action.RETENTION_REVIEW,
            edits=True,
        ),
        ActionSpec(
            "subject_access_pack",
            "Subject &access pack…",
            "prospect",
            50,
            subject_access_pack,
            tip="Everything we hold on the selected person, as a PDF or JSON file to send them",
            separator_before=True,
            permission=Action.DATA_SUBJECT_REQUESTS,
            edits=True,
            on_selection=True,
        ),
        ActionSpec(
            "new_request",
            "Record data-subject &request…",
            "prospect",
            70,
            new_request,
            tip="Log a request to see, correct, erase or move data, restrict it or "
            "object to marketing; the deadline is set from the day it arrived",
            permission=Action.DATA_SUBJECT_REQUESTS,
            edits=True,
        ),
        ActionSpec(
            "restrict_prospect",
            "Re&strict processing…",
            "prospect",
            80,
            restrict_prospect,
            tip="Keep the selected person's data but stop its use until the restriction is lifted",
            permission=Action.RESTRICT,
            edits=True,
            on_selection=True,
            enabled_for=_restrictable,
        ),
        ActionSpec(
            "unrestrict_prospect",
            "&Lift restriction…",
            "prospect",
            90,
            unrestrict_prospect,
            permission=Action.RESTRICT,
            edits=True,
            on_selection=True,
            enabled_for=_restricted,
        ),
        ActionSpec(
            "erase_prospect",
            "E&rase person…",
            "prospect",
            100,
            erase_prospect,
            tip="Anonymise the selected person for good; their addresses stay suppressed",
            permission=Action.ERASE,
            edits=True,
            on_selection=True,
            enabled_for=_erasable,
        ),
    ),
    setup=setup,
    on_start=(forget_expired_requests,),
)
