"""The Marketing tab of the detail pane: opt-outs, objection, consent, basis, toggles."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from reads_support import wait_for_reads

from crm_desktop.domain.enums import Channel
from crm_desktop.services import assessments, exports, marketing, suppression
from crm_desktop.services.exports import ExportRequest
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.marketing.basis_dialog import BasisDialog
from crm_desktop.ui.marketing.consent_dialog import ConsentDialog
from crm_desktop.ui.marketing.feature import MARKETING_PANE
from crm_desktop.ui.marketing.opt_out_dialog import OptOutDialog
from crm_desktop.ui.prospects.prospect_detail import MARKETING_TAB, ProspectDetail
from crm_desktop.ui.shell.main_window import MainWindow

EMAIL = "ada@oak.sch.uk"
PHONE = "07700 900123"
ALL_CHANNELS = [c.value for c in Channel]


def status(ctx, pid: int, channel: str) -> marketing.ChannelStatus:
    return next(c for c in marketing.marketing_view(ctx, pid).channels if c.channel == channel)


@pytest.fixture
def pid(add_prospect) -> int:
    return add_prospect("Ada", "Lovelace", email=EMAIL, phone=PHONE)


@pytest.fixture
def detail(qtbot, ctx, pid) -> ProspectDetail:
    """A detail pane on its own, ~500 px wide, showing Ada on the Marketing tab."""
    actions = [QAction(text) for text in ("Log contact", "Edit prospect", "Delete prospect")]
    pane = ProspectDetail(ctx, actions, marketing=MARKETING_PANE)
    pane._test_actions = actions  # keep them alive as long as the pane
    qtbot.addWidget(pane)
    pane.resize(500, 800)
    pane.show()
    qtbot.waitExposed(pane)
    pane.show_prospect(pid)
    wait_for_reads(qtbot)
    pane.show_marketing()
    return pane


def open_dialog(qtbot, window, cls, trigger):
    """Run ``trigger`` and return the ``cls`` dialog it opened over ``window``."""
    before = set(window.findChildren(cls))
    trigger()
    qtbot.waitUntil(lambda: _new_visible(window, cls, before) is not None)
    dialog = _new_visible(window, cls, before)
    qtbot.waitExposed(dialog)
    return dialog


def click_box(qtbot, box) -> None:
    """Click a check box or radio button on its indicator, as a person would."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def _new_visible(window, cls, before):
    return next((w for w in window.findChildren(cls) if w not in before and w.isVisible()), None)


# ------------------------------------------------------------------ opt-outs


def test_opt_out_of_everything_is_one_click_and_enter_from_the_prospect_list(
    qtbot, make_window, ctx, pid
):
    window: MainWindow = make_window()
    assert window.prospects.select_prospect(pid)
    wait_for_reads(qtbot)
    pane = window.prospects.detail
    assert pane.tabs.currentIndex() != MARKETING_TAB  # reachable from the Details tab too
    assert pane.opt_out_button.isVisible()

    dialog = open_dialog(
        qtbot,
        window,
        OptOutDialog,
        lambda: qtbot.mouseClick(pane.opt_out_button, Qt.MouseButton.LeftButton),
    )
    assert dialog.channels() == "all"
    with qtbot.waitSignal(
        window.bus.changed, check_params_cb=lambda c: Kind.MARKETING in c.kinds
    ) as changed:
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)

    # Said by the Prospects page, which shows it already (the window does not refresh it).
    assert changed.args[0] == Change.of(Kind.MARKETING, ids=(pid,), by="prospects")
    assert not dialog.isVisible()
    wait_for_reads(qtbot)
    view = marketing.marketing_view(ctx, pid)
    assert all(c.opted_out for c in view.channels)
    assert all("opted-out" in c.exclusions for c in view.channels)
    entries = suppression.lookup(ctx, EMAIL)
    wait_for_reads(qtbot)
    assert [(e.channel, e.reason) for e in entries] == [("all", "opt-out")]
    assert suppression.lookup(ctx, PHONE)  # the phone number too
    assert "Opted out of all channels" in pane.plain_text()
    text = pane.marketing.plain_text()
    wait_for_reads(qtbot)
    assert "On the suppression list (all channels)" in text
    assert "Opted out · All channels" in text  # the ledger, grouped


def test_opt_out_of_one_channel_from_the_menu(qtbot, ctx, pid, detail):
    sms_only = next(a for a in detail.marketing.opt_out_menu.actions() if a.text() == "SMS only…")
    dialog = open_dialog(qtbot, detail, OptOutDialog, sms_only.trigger)
    wait_for_reads(qtbot)
    assert dialog.channels() == "sms"
    dialog.source.setCurrentIndex(dialog.source.findData("phone"))
    qtbot.keyClicks(dialog.reason, "Texts are a nuisance")
    with qtbot.waitSignal(detail.bus.changed) as said:
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    assert said.args[0] == Change.of(Kind.MARKETING, ids=(pid,))

    sms = status(ctx, pid, "sms")
    wait_for_reads(qtbot)
    assert sms.opted_out and sms.opt_out_source == "phone"
    assert sms.opt_out_reason == "Texts are a nuisance"
    assert not status(ctx, pid, "email").opted_out
    assert [e.channel for e in suppression.lookup(ctx, PHONE)] == ["sms"]
    assert suppression.lookup(ctx, EMAIL) == []
    row = detail.marketing.channel_rows["sms"]
    wait_for_reads(qtbot)
    assert row.status.text().startswith("Opted out on ")
    assert "Phone" in row.status.text() and "Texts are a nuisance" in row.status.text()
    assert "Opted out" in row.reasons
    assert "Opted out" not in detail.marketing.channel_rows["email"].reasons


def test_a_reason_that_cannot_be_stored_never_delays_the_opt_out(qtbot, ctx, pid, detail):
    dialog = open_dialog(qtbot, detail, OptOutDialog, detail.marketing.opt_out)
    dialog.reason.setText("bell \x07 character")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    wait_for_reads(qtbot)
    assert all(c.opted_out for c in marketing.marketing_view(ctx, pid).channels)
    assert dialog.isVisible()  # open to fix the reason
    assert "control characters" in dialog.errors()["reason"]
    assert "opted out now" in dialog.errors()["_form"]
    dialog.reason.setText("Asked to stop")
    with qtbot.waitSignal(detail.bus.changed) as said:
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert said.args[0] == Change.of(Kind.MARKETING, ids=(pid,))
    assert status(ctx, pid, "email").opt_out_reason == "Asked to stop"
    assert not dialog.isVisible()
    wait_for_reads(qtbot)
    assert "Asked to stop" in detail.marketing.channel_rows["email"].status.text()


def test_closing_with_a_reason_that_cannot_be_stored_keeps_and_shows_the_opt_out(
    qtbot, ctx, pid, detail
):
    dialog = open_dialog(qtbot, detail, OptOutDialog, detail.marketing.opt_out)
    dialog.reason.setText("bell \x07 character")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    close = dialog.buttons.button(dialog.buttons.StandardButton.Cancel)
    assert close.text() == "Close"
    with qtbot.waitSignal(detail.bus.changed) as said:
        qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    assert said.args[0] == Change.of(Kind.MARKETING, ids=(pid,))
    assert not dialog.isVisible()
    wait_for_reads(qtbot)
    assert status(ctx, pid, "email").opted_out
    assert status(ctx, pid, "email").opt_out_reason is None
    assert detail.marketing.channel_rows["email"].status.text().startswith("Opted out on ")
    assert "Opted out of all channels" in detail.plain_text()  # the Details tab's summary


def test_cancelling_the_opt_out_changes_nothing_and_says_nothing(qtbot, ctx, pid, detail):
    dialog = open_dialog(qtbot, detail, OptOutDialog, detail.marketing.opt_out)
    said = []
    detail.bus.changed.connect(said.append)
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Escape)
    wait_for_reads(qtbot)
    assert not dialog.isVisible()
    assert said == []
    assert not status(ctx, pid, "email").opted_out


def test_object_to_marketing_opts_out_of_everything_and_suppresses(
    qtbot, ctx, pid, detail, prompter
):
    prompter.answers = [False]
    # Also on the Opt out button's menu, next to the opt-outs.
    menu_item = next(
        a for a in detail.marketing.opt_out_menu.actions() if a.text() == "Object to marketing…"
    )
    menu_item.trigger()
    wait_for_reads(qtbot)
    assert len(prompter.questions) == 1
    assert not any(c.opted_out for c in marketing.marketing_view(ctx, pid).channels)
    assert marketing.consent_history(ctx, pid) == []

    prompter.answers = [True]
    with qtbot.waitSignal(detail.bus.changed) as said:
        qtbot.mouseClick(detail.marketing.object_button, Qt.MouseButton.LeftButton)
    assert said.args[0] == Change.of(Kind.MARKETING, ids=(pid,))
    wait_for_reads(qtbot)
    assert "objects to direct marketing" in prompter.questions[-1][1]
    view = marketing.marketing_view(ctx, pid)
    wait_for_reads(qtbot)
    assert all(c.opted_out for c in view.channels)
    assert [e.reason for e in suppression.lookup(ctx, EMAIL)] == ["objection"]
    assert "Objected to direct marketing" in detail.marketing.plain_text()


# ------------------------------------------------------------------- consent


def fill_consent(dialog: ConsentDialog, wording: str, method: str = "web-form") -> None:
    dialog.method.setCurrentIndex(dialog.method.findData(method))
    dialog.wording.setPlainText(wording)
    dialog.policy_version.setText("v3")


def test_record_consent_with_evidence_makes_the_channel_ok(qtbot, ctx, pid, detail):
    row = detail.marketing.channel_rows["email"]
    wait_for_reads(qtbot)
    assert row.reasons == ["No lawful basis"]
    assert "Not to be marketed to on any channel now (no lawful basis)" in detail.plain_text()
    dialog = open_dialog(
        qtbot, detail, ConsentDialog, lambda: detail.marketing.record_consent(["email"])
    )
    wait_for_reads(qtbot)
    assert dialog.given_by.text() == "Ada Lovelace"
    assert dialog.opt_in_notice.isHidden()
    qtbot.keyClicks(dialog.wording, "Yes, email me news about your products")
    dialog.method.setCurrentIndex(dialog.method.findData("web-form"))
    qtbot.keyClicks(dialog.policy_version, "v3")
    with qtbot.waitSignal(detail.bus.changed) as said:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert said.args[0] == Change.of(Kind.MARKETING, ids=(pid,))

    email = status(ctx, pid, "email")
    wait_for_reads(qtbot)
    assert email.consent and email.consent_method == "web-form"
    assert email.consent_wording == "Yes, email me news about your products"
    assert email.consent_policy_version == "v3" and email.consent_given_by == "Ada Lovelace"
    assert email.exclusions == []
    assert row.reasons == []  # the grid shows OK now
    assert "OK" in row.eligibility.text()
    assert row.status.text().startswith("Consent given on ")
    assert "web form, privacy notice v3" in row.status.text()
    assert detail.marketing.channel_rows["phone"].reasons == ["No lawful basis"]
    assert "Consent given · Email" in detail.marketing.plain_text()
    # The Details tab's summary follows at once.
    wait_for_reads(qtbot)
    assert "OK: Email · Not now: SMS, Phone, Online audiences" in detail.plain_text()


def test_consent_for_all_channels_on_a_legitimate_interest_person(qtbot, ctx, pid, detail):
    marketing.set_lawful_basis(ctx, pid, "legitimate-interest", note="Met at Bett")
    detail.reload()
    wait_for_reads(qtbot)
    dialog = open_dialog(qtbot, detail, ConsentDialog, detail.marketing.record_consent)
    click_box(qtbot, dialog.all_channels)
    wait_for_reads(qtbot)
    assert dialog.chosen_channels() == ALL_CHANNELS
    fill_consent(dialog, "Signed the sign-up sheet")
    with qtbot.waitSignal(detail.bus.changed) as said:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert said.args[0] == Change.of(Kind.MARKETING, ids=(pid,))
    view = marketing.marketing_view(ctx, pid)
    wait_for_reads(qtbot)
    assert all(c.consent and c.exclusions == [] for c in view.channels)


def test_consent_without_wording_is_refused_beside_the_field(qtbot, ctx, pid, detail):
    dialog = open_dialog(
        qtbot, detail, ConsentDialog, lambda: detail.marketing.record_consent(["email"])
    )
    dialog.method.setCurrentIndex(dialog.method.findData("phone"))
    dialog.wording.setPlainText("   \n  ")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    wait_for_reads(qtbot)
    assert dialog.isVisible()
    errors = dialog.errors()
    wait_for_reads(qtbot)
    assert set(errors) == {"evidence"}
    assert errors["evidence"].startswith("What they were told is required")
    assert dialog.findChild(type(dialog.opt_in_notice), "error_evidence").isVisible()
    assert not status(ctx, pid, "email").consent
    assert marketing.consent_history(ctx, pid) == []


def test_consent_without_a_channel_or_method_says_which(qtbot, ctx, pid, detail):
    dialog = open_dialog(qtbot, detail, ConsentDialog, detail.marketing.record_consent)
    dialog.wording.setPlainText("Ticked the box")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    wait_for_reads(qtbot)
    assert "channel" in dialog.errors()
    dialog.channel_boxes["email"].setChecked(True)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    wait_for_reads(qtbot)
    assert dialog.errors() == {"method": "How they agreed is required."}
    assert marketing.consent_history(ctx, pid) == []


def test_consent_after_an_opt_out_is_an_explicit_opt_in_that_needs_evidence(
    qtbot, ctx, pid, detail
):
    marketing.opt_out(ctx, pid, "email", source="email-reply")
    detail.reload()
    wait_for_reads(qtbot)
    assert suppression.lookup(ctx, EMAIL)
    dialog = open_dialog(
        qtbot, detail, ConsentDialog, lambda: detail.marketing.record_consent(["email"])
    )
    wait_for_reads(qtbot)
    assert dialog.opt_in_notice.isVisible()
    assert "explicit opt-in that lifts the opt-out" in dialog.opt_in_notice.text()
    assert dialog.save_button.text() == "Record opt-in"
    dialog.channel_boxes["email"].setChecked(False)
    wait_for_reads(qtbot)
    assert not dialog.opt_in_notice.isVisible()  # only when an opted-out channel is chosen
    assert dialog.save_button.text() == "Record consent"
    dialog.channel_boxes["email"].setChecked(True)

    dialog.method.setCurrentIndex(dialog.method.findData("email-reply"))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)  # no evidence
    wait_for_reads(qtbot)
    assert "evidence" in dialog.errors()
    assert status(ctx, pid, "email").opted_out  # still opted out

    dialog.wording.setPlainText("Emailed: 'please put me back on your newsletter'")
    with qtbot.waitSignal(detail.bus.changed) as said:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert said.args[0] == Change.of(Kind.MARKETING, ids=(pid,))
    email = status(ctx, pid, "email")
    wait_for_reads(qtbot)
    assert not email.opted_out and email.consent and email.exclusions == []
    assert suppression.lookup(ctx, EMAIL) == []  # the opt-out entry is lifted
    assert "Opt-out lifted by an explicit opt-in · Email" in detail.marketing.plain_text()


# ------------------------------------------------------------- lawful basis


def test_legitimate_interest_needs_a_note_or_an_assessment(qtbot, ctx, pid, detail):
    a = assessments.create_assessment(
        ctx, "SBM newsletter", purpose="News", necessity="Needed", balancing="Fair"
    )
    dialog = open_dialog(qtbot, detail, BasisDialog, detail.marketing.change_basis)
    wait_for_reads(qtbot)
    assert not dialog.note.isEnabled()
    click_box(qtbot, dialog.radios["legitimate-interest"])
    wait_for_reads(qtbot)
    assert dialog.note.isEnabled() and dialog.assessment.isEnabled()
    qtbot.mouseClick(dialog.buttons.buttons()[0], Qt.MouseButton.LeftButton)  # Save
    wait_for_reads(qtbot)
    assert dialog.isVisible()
    assert dialog.errors()["note"].startswith("Legitimate interest needs a written note")
    assert marketing.marketing_view(ctx, pid).lawful_basis == "none"

    assert dialog.choose_assessment(a.id)
    assert dialog.assessment.currentText() == "SBM newsletter (0 prospects)"
    with qtbot.waitSignal(detail.bus.changed) as said:
        dialog.accept()
    assert said.args[0] == Change.of(Kind.MARKETING, ids=(pid,))
    view = marketing.marketing_view(ctx, pid)
    wait_for_reads(qtbot)
    assert view.lawful_basis == "legitimate-interest" and view.li_assessment_id == a.id
    assert all(c.exclusions == [] for c in view.channels)  # corporate: LI is enough
    assert detail.marketing.basis_text.text() == "Legitimate interest"
    assert "Assessment: SBM newsletter" in detail.marketing.basis_detail.text()
    assert "Assessment: SBM newsletter" in detail.marketing.plain_text()  # in the ledger too


def test_an_assessment_written_from_the_basis_dialog_is_picked(qtbot, ctx, pid, detail):
    dialog = open_dialog(qtbot, detail, BasisDialog, detail.marketing.change_basis)
    dialog.set_basis("legitimate-interest")
    manager = dialog.manage_assessments()
    form = manager.new_assessment()
    form.name.setText("Webinar invitations")
    for edit in form.texts.values():
        edit.setPlainText("Written down")
    with qtbot.waitSignal(manager.bus.changed) as said:
        form.accept()
    assert manager.bus is detail.bus  # the window's, for a pane in a window
    assert said.args[0] == Change.of(
        Kind.ASSESSMENTS, ids=(form.created.id,), select=form.created.id
    )
    wait_for_reads(qtbot)
    assert dialog.assessment.currentText() == "Webinar invitations (0 prospects)"
    manager.close()
    with qtbot.waitSignal(detail.bus.changed) as said:
        dialog.accept()
    assert said.args[0] == Change.of(Kind.MARKETING, ids=(pid,))
    wait_for_reads(qtbot)
    assert marketing.marketing_view(ctx, pid).li_assessment_name == "Webinar invitations"


def test_leaving_legitimate_interest_asks_first(qtbot, ctx, pid, detail, prompter):
    marketing.set_lawful_basis(ctx, pid, "legitimate-interest", note="Met at Bett")
    detail.reload()
    wait_for_reads(qtbot)
    dialog = open_dialog(qtbot, detail, BasisDialog, detail.marketing.change_basis)
    wait_for_reads(qtbot)
    assert dialog.note.toPlainText() == "Met at Bett"
    dialog.set_basis("consent")
    prompter.answers = [False]
    dialog.accept()
    wait_for_reads(qtbot)
    assert marketing.marketing_view(ctx, pid).lawful_basis == "legitimate-interest"
    prompter.answers = [True]
    with qtbot.waitSignal(detail.bus.changed) as said:
        dialog.accept()
    assert said.args[0] == Change.of(Kind.MARKETING, ids=(pid,))
    view = marketing.marketing_view(ctx, pid)
    wait_for_reads(qtbot)
    assert (view.lawful_basis, view.li_note) == ("consent", None)


# --------------------------------------------------- subscriber type, toggles


def test_subscriber_type_override_and_back_to_inferred(qtbot, ctx, add_prospect):
    pid = add_prospect("Kat", "Johnson", email="kat.johnson@gmail.com")
    marketing.set_lawful_basis(ctx, pid, "legitimate-interest", note="Asked about SEND tools")
    pane = ProspectDetail(ctx, marketing=MARKETING_PANE)
    qtbot.addWidget(pane)
    pane.show()
    pane.show_prospect(pid)
    wait_for_reads(qtbot)
    pane.show_marketing()
    panel = pane.marketing
    combo = panel.subscriber
    wait_for_reads(qtbot)
    assert combo.currentText() == "Individual (inferred from the email domain)"
    assert "Individual subscriber without consent" in panel.channel_rows["email"].reasons

    combo.setFocus()
    with qtbot.waitSignal(pane.bus.changed):
        qtbot.keyClick(combo, Qt.Key.Key_Down)  # Corporate (set by a person)
    view = marketing.marketing_view(ctx, pid)
    wait_for_reads(qtbot)
    assert (view.subscriber_type, view.subscriber_type_inferred) == ("corporate", False)
    assert combo.currentText() == "Corporate (set by a person)"
    assert panel.channel_rows["email"].reasons == []

    with qtbot.waitSignal(pane.bus.changed):
        qtbot.keyClick(combo, Qt.Key.Key_Up)  # back to inferring
    view = marketing.marketing_view(ctx, pid)
    wait_for_reads(qtbot)
    assert (view.subscriber_type, view.subscriber_type_inferred) == ("individual", True)
    assert "Individual subscriber without consent" in panel.channel_rows["email"].reasons
    history = [e.action for e in marketing.consent_history(ctx, pid)]
    wait_for_reads(qtbot)
    assert history[:2] == ["subscriber-type-set", "subscriber-type-set"]


def test_personalisation_toggle(qtbot, ctx, pid, detail):
    box = detail.marketing.personalisation
    wait_for_reads(qtbot)
    assert box.isChecked()
    with qtbot.waitSignal(detail.bus.changed) as said:
        click_box(qtbot, box)
    assert said.args[0] == Change.of(Kind.MARKETING, ids=(pid,))
    wait_for_reads(qtbot)
    assert marketing.marketing_view(ctx, pid).personalisation_refused
    assert not box.isChecked() and "Refused" in box.text()
    with qtbot.waitSignal(detail.bus.changed) as said:
        click_box(qtbot, box)
    assert said.args[0] == Change.of(Kind.MARKETING, ids=(pid,))
    wait_for_reads(qtbot)
    assert not marketing.marketing_view(ctx, pid).personalisation_refused
    assert [e.action for e in marketing.consent_history(ctx, pid)] == [
        "personalisation-allowed",
        "personalisation-refused",
    ]


# ---------------------------------------------------------- history, exports


def test_campaign_lists_the_person_was_in(qtbot, ctx, pid, detail, tmp_path):
    marketing.set_lawful_basis(ctx, pid, "legitimate-interest", note="Met at Bett")
    exports.run_export(
        ctx, ExportRequest(channel="email", campaign="Spring newsletter"), tmp_path / "a.csv"
    )
    detail.reload()
    wait_for_reads(qtbot)
    assert [r.campaign for r in detail.marketing.export_records] == ["Spring newsletter"]
    assert "Spring newsletter · Email" in detail.marketing.plain_text()
    assert detail.marketing.exports_heading.text() == "Campaign lists they were in (1)"


def test_no_prospect_disables_the_actions(qtbot, ctx, detail):
    detail.show_prospect(None)
    wait_for_reads(qtbot)
    assert not detail.marketing.opt_out_action.isEnabled()
    assert detail.marketing.opt_out() is None
    assert not detail.marketing.consent_button.isEnabled()


@pytest.mark.parametrize("width", [500, 340])
def test_the_marketing_tab_fits_a_narrow_pane(qtbot, ctx, pid, detail, width):
    """Nothing forces the pane wider: long text wraps and the buttons flow onto new lines."""
    marketing.opt_out(ctx, pid, "all", reason="a long reason " * 30)
    detail.reload()
    wait_for_reads(qtbot)
    detail.resize(width, 800)
    panel = detail.marketing
    content = panel.scroll.widget()
    qtbot.waitUntil(lambda: content.width() <= panel.scroll.viewport().width())
    wait_for_reads(qtbot)
    assert not panel.scroll.horizontalScrollBar().isVisible()
    for button in (panel.consent_button, panel.basis_button, panel.object_button):
        wait_for_reads(qtbot)
        assert button.geometry().right() <= content.width()
    if width < 400:  # the three buttons no longer fit on one line
        wait_for_reads(qtbot)
        assert panel.object_button.y() > panel.consent_button.y()
