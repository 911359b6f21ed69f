"""The detail pane shows a prospect's other addresses and where they came from (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from import_support import add_address, add_batch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QTextCursor
from PySide6.QtWidgets import QTextBrowser
from reads_support import wait_for_reads

from crm_desktop.services import audit, rights
from crm_desktop.services import prospects as P
from crm_desktop.ui.common.changes import Change, Kind
from crm_desktop.ui.marketing.feature import MARKETING_PANE
from crm_desktop.ui.prospects.prospect_detail import ProspectDetail

WHEN = datetime(2026, 1, 22, 10, 30, tzinfo=UTC)


@pytest.fixture
def ann(ctx, add_prospect) -> int:
    pid = add_prospect("Ann", "Lee", email="ann.lee@oak.sch.uk", phone="07700 900111")
    add_address(ctx, pid, "Ann.Lee@Home-Mail.example", position=1)
    add_address(ctx, pid, "07700 900222", position=1)
    add_batch(ctx, {pid: ("created", 7)}, created_at=WHEN)
    return pid


def make_pane(qtbot, ctx, pid) -> ProspectDetail:
    actions = [QAction(text) for text in ("Log contact", "Edit prospect", "Delete prospect")]
    pane = ProspectDetail(ctx, actions, marketing=MARKETING_PANE)
    pane._test_actions = actions  # keep them alive as long as the pane
    qtbot.addWidget(pane)
    pane.resize(520, 700)
    pane.show()
    qtbot.waitExposed(pane)
    pane.show_prospect(pid)
    wait_for_reads(qtbot)
    return pane


def link_position(browser: QTextBrowser, href: str) -> QPoint:
    """Where the link to ``href`` is drawn in the browser's viewport."""
    block = browser.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().anchorHref() == href:
                cursor = QTextCursor(browser.document())
                cursor.setPosition(fragment.position() + 1)
                return browser.cursorRect(cursor).center()
            it += 1
        block = block.next()
    raise AssertionError(f"no link to {href}")


def click_link(qtbot, pane: ProspectDetail, href: str) -> None:
    browser = pane.findChild(QTextBrowser, "prospectDetailText")
    qtbot.mouseClick(
        browser.viewport(), Qt.MouseButton.LeftButton, pos=link_position(browser, href)
    )


def test_the_pane_lists_other_addresses_and_the_origin(qtbot, ctx, ann):
    pane = make_pane(qtbot, ctx, ann)
    text = pane.plain_text()
    lines = [" ".join(line.split()) for line in text.splitlines()]
    at = lines.index("Other emails")
    assert lines[at + 1] == "Ann.Lee@Home-Mail.example Remove"
    assert lines[at + 2 : at + 4] == ["Other phones", "07700 900222 Remove"]
    at = lines.index("Origin")
    assert lines[at + 1] == (
        "Imported from bett-2026.csv (Bett 2026 stand sign-ups) on 22 Jan 2026 by alice"
    )
    assert "Source" not in lines  # an imported person with no typed-in source
    assert text.count("Remove") == 2


def test_someone_typed_in_shows_no_other_addresses_or_origin(qtbot, ctx, add_prospect):
    pid = add_prospect("Bo", "Ng", email="bo@ng.example", source="event", source_detail="Bett")
    text = make_pane(qtbot, ctx, pid).plain_text()
    assert "Other emails" not in text and "Other phones" not in text
    assert "Origin" not in text and "Imported" not in text
    assert "Source" in text and "Bett" in text


def test_removing_an_extra_address_with_the_mouse_asks_and_is_audited(qtbot, ctx, ann, prompter):
    pane = make_pane(qtbot, ctx, ann)
    said = []
    pane.bus.changed.connect(said.append)
    prompter.answers = [False]
    click_link(qtbot, pane, "crm-remove-address:email/0")
    assert P.get_prospect(ctx, ann).other_emails == ["Ann.Lee@Home-Mail.example"]
    assert "Ann.Lee@Home-Mail.example" in prompter.questions[0][1]
    assert said == []  # declined: nothing changed, nothing said
    prompter.answers = [True]
    click_link(qtbot, pane, "crm-remove-address:email/0")
    wait_for_reads(qtbot)
    assert said == [Change.of(Kind.PROSPECTS, ids=(ann,))]
    assert P.get_prospect(ctx, ann).other_emails == []
    assert "Home-Mail" not in pane.plain_text() and "Other emails" not in pane.plain_text()
    entry = audit.entries(ctx, entity="prospect", entity_id=ann)[0]
    assert entry.values == {"other_email": {"old": "Ann.Lee@Home-Mail.example", "new": None}}
    # The phone number's own link still works after the pane was drawn again.
    prompter.answers = [True]
    click_link(qtbot, pane, "crm-remove-address:phone/0")
    wait_for_reads(qtbot)
    assert P.get_prospect(ctx, ann).other_phones == []
    assert prompter.errors() == []


def test_a_restricted_persons_addresses_have_no_remove_link(qtbot, ctx, ann):
    rights.restrict(ctx, ann, "Accuracy contested")
    text = make_pane(qtbot, ctx, ann).plain_text()
    assert "Ann.Lee@Home-Mail.example" in text and "Remove" not in text
