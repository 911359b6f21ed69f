"""Issue 10 items 12-14 in the desktop app: answering a request from the Requests tab,
the exact-name erase confirmation, File > Settings, and the suppressed-address warning."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from reads_support import wait_for_reads
from ui_tabs import REQUESTS_TAB

from crm_desktop.domain.roles import Role
from crm_desktop.services import marketing, prospects, settings
from crm_desktop.services import requests as request_service
from crm_desktop.services.context import Context
from crm_desktop.ui.admin.settings_dialog import SettingsDialog
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.privacy.feature import forget_expired_requests

TIMEOUT = 30_000
CONTROLLER = {
    "name": "Acme Learning Ltd", "address": "1 Park Row\nLeeds LS1 5AB",
    "email": "privacy@acme-learning.co.uk", "dpo_name": "Priya Shah",
}  # fmt: skip


def click(qtbot, button) -> None:
    assert button.isVisible() and button.isEnabled(), button.objectName()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def open_request(window, qtbot, request_id: int):
    window.tabs.setCurrentIndex(REQUESTS_TAB)
    view = window.requests
    view.refresh()
    wait_for_reads(qtbot)  # the register is read on a worker
    assert view.select_request(request_id)
    wait_for_reads(qtbot)  # its prospect and what was done: the answer buttons wait for them
    return view


def test_erasing_from_the_request_keeps_it_and_the_status_bar_says_so(
    window, ctx, add_prospect, qtbot
):
    pid = add_prospect("Jane", "Smith", email="jane@oak.sch.uk")
    r = request_service.add_request(ctx, "erasure", prospect_ref=pid, identity_verified=True)
    view = open_request(window, qtbot, r.id)
    assert not view.pack_button.isEnabled()  # not an access request
    click(qtbot, view.erase_button)
    dialog = view.rights_dialog
    qtbot.keyClicks(dialog.confirm, "jane smith")  # not as shown: refused
    assert not dialog.erase_button.isEnabled()
    dialog.confirm.clear()
    qtbot.keyClicks(dialog.confirm, "Jane Smith")
    with qtbot.waitSignal(dialog.bus.changed, timeout=TIMEOUT):
        click(qtbot, dialog.erase_button)
    qtbot.waitUntil(lambda: "Erased Jane Smith" in window.statusBar().currentMessage())
    assert f"recorded on request #{r.id}" in window.statusBar().currentMessage()
    wait_for_reads(qtbot)  # the register is read again on a worker
    assert prospects.get_prospect(ctx, pid).erased_at is not None
    kept = request_service.get_request(ctx, r.id)
    assert (kept.requester_name, kept.requester_email) == ("Jane Smith", "jane@oak.sch.uk")
    detail = view.detail_text()
    assert "Jane Smith <jane@oak.sch.uk>" in detail and "jane@oak.sch.uk" in detail
    assert f"Erased prospect #{pid}" in detail  # what was done to answer it
    assert not view.erase_button.isEnabled()
    # The manager can still close it with the outcome.
    click(qtbot, view.close_button)
    close = view.dialog
    qtbot.keyClicks(close.outcome, "Erased; confirmed to Jane by email")
    close.accept()
    assert request_service.get_request(ctx, r.id).status == "completed"


def test_restricting_from_the_request_is_recorded_on_it(window, ctx, add_prospect, qtbot):
    pid = add_prospect("Ada", "Lovelace", email="ada@oak.sch.uk")
    r = request_service.add_request(ctx, "restriction", prospect_ref=pid)
    view = open_request(window, qtbot, r.id)
    assert not view.erase_button.isEnabled() and not view.pack_button.isEnabled()
    click(qtbot, view.restrict_button)
    dialog = view.rights_dialog
    assert dialog.reason.toPlainText() == f"Restriction request #{r.id}"
    qtbot.keyClicks(dialog.reason, ": accuracy contested")
    assert dialog.bus is window.bus
    with qtbot.waitSignal(window.bus.changed) as changed:
        dialog.accept()
    assert changed.args[0] == Change.of(Kind.PROSPECTS, ids=(pid,), select=pid, by="requests")
    assert prospects.get_prospect(ctx, pid).restricted_at is not None
    actions = request_service.request_actions(ctx, r.id)
    assert [a.text for a in actions] == [
        f"Processing restricted: Restriction request #{r.id}: accuracy contested"
    ]
    qtbot.waitUntil(lambda: "Restricted Ada Lovelace" in window.statusBar().currentMessage())
    wait_for_reads(qtbot)  # the register is read again on a worker
    assert not view.restrict_button.isEnabled()  # already restricted


def test_make_access_pack_refuses_until_settings_then_links_the_pack(
    window, ctx, add_prospect, qtbot, prompter, tmp_path
):
    from crm_desktop.domain.models import User
    from crm_desktop.domain.types import utcnow

    with ctx.db.transaction() as session:  # the signed-in admin, known by login so far
        session.add(User(username="alice", display_name="alice", role="admin", created_at=utcnow()))
    pid = add_prospect("Jane", "Smith", email="jane@oak.sch.uk")
    r = request_service.add_request(ctx, "access", prospect_ref=pid)
    view = open_request(window, qtbot, r.id)
    click(qtbot, view.pack_button)  # no controller yet: no file dialog, a clear message
    assert view.pack_task is None
    [message] = prompter.errors()
    assert "Company name, Company address, Contact email, Data protection officer" in message
    assert "File > Settings" in message
    # The admin fills in File > Settings.
    window.commands.settings.trigger()
    dialog = window.findChild(SettingsDialog, "settingsDialog")
    wait_for_reads(qtbot)  # what is stored, read on a worker
    qtbot.keyClicks(dialog.name, CONTROLLER["name"])
    dialog.accept()  # incomplete: stays open, says what is missing
    assert dialog.isVisible()
    assert "Give the company address" in dialog.errors()["address"]
    first, second = CONTROLLER["address"].split("\n")
    qtbot.keyClicks(dialog.address, first)
    QTest.keyClick(dialog.address, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.address, second)
    qtbot.keyClicks(dialog.email, CONTROLLER["email"])
    qtbot.keyClicks(dialog.dpo_name, CONTROLLER["dpo_name"])
    dialog.display_name.clear()
    qtbot.keyClicks(dialog.display_name, "Sam Taylor")
    click(qtbot, dialog.buttons.button(dialog.buttons.StandardButton.Save))
    assert not dialog.isVisible(), (dialog.errors(), prompter.errors())
    assert settings.get_controller(ctx).missing() == []
    # Now the pack is written in the background and recorded on the request.
    out = tmp_path / "jane.json"
    prompter.files.append(str(out))
    click(qtbot, view.pack_button)
    with qtbot.waitSignal(view.pack_task.succeeded, timeout=TIMEOUT):
        pass
    pack = json.loads(out.read_text(encoding="utf-8"))
    assert pack["controller"]["name"] == "Acme Learning Ltd"
    assert pack["generated_by"] == "Sam Taylor"
    assert [(a["action"], a["values"]["file"]) for a in pack["requests"][0]["actions"]] == []
    qtbot.waitUntil(lambda: "jane.json" in view.detail_text())
    assert "Access pack made: jane.json (JSON)" in view.detail_text()
    assert request_service.get_request(ctx, r.id).status == "in-progress"
    assert f"recorded on request #{r.id}" in window.statusBar().currentMessage()


def test_settings_are_hidden_from_managers(make_window, ctx):
    window = make_window(Context(ctx.db, user="mo", role=Role.MANAGER))
    assert not window.commands.settings.isVisible()
    assert window.commands.subject_access_pack.isVisible()


def test_the_form_warns_of_a_suppressed_address_before_and_after_saving(window, ctx, qtbot):
    from crm_desktop.services import suppression

    suppression.suppress(ctx, "gone@oak.sch.uk", channel="all", source="Erased earlier")
    dialog = window.new_prospect()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClicks(dialog.first_name, "Gus")
    qtbot.keyClicks(dialog.last_name, "Gone")
    QTest.mouseClick(dialog.email, Qt.MouseButton.LeftButton)  # into the field, as a user
    assert dialog.email.hasFocus()
    qtbot.keyClicks(dialog.email, "gone@oak.sch.uk")
    assert not dialog.suppression_note.isVisible()
    QTest.keyClick(dialog.email, Qt.Key.Key_Tab)  # editing finished: checked at once
    assert dialog.suppression_note.isVisible()
    assert dialog.suppression_note.text() == (
        "gone@oak.sch.uk is on the suppression list for Email and Online audiences: saving "
        "records this person as opted out of those channels."
    )
    with qtbot.waitSignal(dialog.accepted):
        dialog.accept()
    message = window.statusBar().currentMessage()
    assert "gone@oak.sch.uk is on the suppression list for Email and Online audiences: saved" in (
        message
    )
    saved = prospects.find_prospect(ctx, "gone@oak.sch.uk")
    view = marketing.marketing_view(ctx, saved.id)
    assert {c.channel for c in view.channels if c.opted_out} == {"email", "online"}


def test_on_start_the_window_forgets_who_asked_on_long_closed_requests(make_window, ctx, qtbot):
    from datetime import timedelta

    from crm_desktop.domain.models import DataSubjectRequest
    from crm_desktop.domain.requests import REQUEST_RETENTION_YEARS

    v = request_service.add_request(
        ctx, "access", requester_name="Old Asker", identity_verified=True
    )
    request_service.close_request(ctx, v.id, "Pack sent")
    with ctx.db.transaction() as session:
        session.get(DataSubjectRequest, v.id).closed_at -= timedelta(
            days=366 * (REQUEST_RETENTION_YEARS + 1)
        )
    sales = make_window(Context(ctx.db, user="sam", role=Role.SALES))
    assert forget_expired_requests(sales) is None  # not theirs to handle
    assert request_service.get_request(ctx, v.id).requester_name == "Old Asker"

    window = make_window()
    task = forget_expired_requests(window)
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    assert request_service.get_request(ctx, v.id).requester_name is None
    assert "Forgot who asked on 1 request" in window.statusBar().currentMessage()
