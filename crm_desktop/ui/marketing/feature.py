"""The Marketing feature: the Marketing menu, the unsubscribe import, pending opt-outs.

Declared once here; the shell builds the menu, its items and the banner's
place above the tabs from :data:`FEATURE`.
"""

from __future__ import annotations

from crm_desktop.domain.roles import Action
from crm_desktop.services.email_sync import SyncReport
from crm_desktop.ui.common.changes import Kind
from crm_desktop.ui.common.registry import ActionSpec, Feature, MenuSpec, PaneSpec, Shell
from crm_desktop.ui.common.workers import BackgroundTask
from crm_desktop.ui.marketing.assessments_dialog import AssessmentsDialog
from crm_desktop.ui.marketing.marketing_panel import MarketingPanel, read_marketing
from crm_desktop.ui.marketing.pending_opt_outs import PendingOptOutsBanner
from crm_desktop.ui.marketing.suppression_dialog import SuppressionDialog
from crm_desktop.ui.marketing.unsubscribe_import import UnsubscribeImport

# The prospect's Marketing tab, built into the Prospects page's detail pane.
MARKETING_PANE = PaneSpec(make=MarketingPanel, read=read_marketing)


def setup(shell: Shell) -> None:
    """The unsubscribe import, and the banner of opt-outs the database could not take yet."""
    unsubscribes = UnsubscribeImport(shell.ctx, shell.window(), bus=shell.bus)
    shell.add_part("unsubscribes", unsubscribes)

    # Opt-outs the database could not take yet: shown until saved, retried meanwhile.
    pending = PendingOptOutsBanner(shell.ctx, shell.window(), bus=shell.bus, status=shell.status)
    shell.add_part("pending_opt_outs", pending)
    shell.add_banner(pending)
    shell.bus.changed.connect(lambda change: Kind.DATABASE in change.kinds and pending.refresh())


def close(shell: Shell) -> None:
    """Opt-outs being saved are finished before the window goes."""
    shell.part("pending_opt_outs").wait()


def import_unsubscribes(shell: Shell) -> BackgroundTask | None:
    task = shell.part("unsubscribes").start()
    if task is not None:  # the import says its opt-outs on the bus itself
        task.succeeded.connect(lambda report: shell.status(imported_text(report)))
    return task


def imported_text(report: SyncReport) -> str:
    return (
        f"Unsubscribes imported from {report.file}: {report.matched:,} opted out, "
        f"{report.new:,} added to the suppression list."
    )


def suppression_list(shell: Shell) -> SuppressionDialog:
    return shell.open_dialog(SuppressionDialog(shell.ctx, shell.window(), bus=shell.bus))


def li_assessments(shell: Shell) -> AssessmentsDialog:
    return shell.open_dialog(AssessmentsDialog(shell.ctx, shell.window(), bus=shell.bus))


FEATURE = Feature(
    name="marketing",
    menus=(MenuSpec("marketing", "&Marketing", 30),),
    actions=(
        ActionSpec(
            "import_unsubscribes",
            "&Import unsubscribes from email tool…",
            "marketing",
            20,
            import_unsubscribes,
            tip="Opt out everyone in the email tool's unsubscribe or bounce file",
            permission=Action.SYNC_EMAIL_TOOL,
            edits=True,
        ),
        ActionSpec(
            "suppression_list",
            "&Suppression list…",
            "marketing",
            30,
            suppression_list,
            tip="Addresses that must never be marketed to",
            separator_before=True,
            permission=Action.MANAGE_SUPPRESSION,
        ),
        ActionSpec(
            "li_assessments",
            "&Legitimate-interest assessments…",
            "marketing",
            40,
            li_assessments,
            tip="The written assessments that legitimate-interest marketing relies on",
            permission=Action.MANAGE_CONSENT,
        ),
    ),
    setup=setup,
    on_close=(close,),
    provides={"prospect.marketing": MARKETING_PANE},
)
