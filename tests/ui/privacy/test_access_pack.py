"""Prospect > Subject access pack in the window (the PDF itself: tests/reports)."""

from __future__ import annotations

import pytest
from pack_support import TIMEOUT, add_jane, assert_pdf, sar_entries, set_controller

from crm_desktop.domain.roles import Role
from crm_desktop.services.context import Context


@pytest.fixture(autouse=True)
def controller(ctx):
    set_controller(ctx)


@pytest.fixture
def jane(ctx, tmp_path, add_prospect):
    return add_jane(ctx, tmp_path, add_prospect)


def test_pack_from_the_prospect_menu(jane, window, tmp_path, qtbot, prompter, ctx):
    action = window.commands.subject_access_pack
    assert action.isVisible() and not action.isEnabled()  # nobody selected yet
    assert window.prospects.select_prospect(jane)
    assert action.isEnabled()
    prompter.files.append(str(tmp_path / "jane"))  # no extension: a PDF
    task = window.subject_access_pack()
    with qtbot.waitSignal(task.finished, timeout=TIMEOUT):
        pass
    assert_pdf((tmp_path / "jane.pdf").read_bytes())
    assert "Subject access pack written to" in window.statusBar().currentMessage()
    prompter.files.append(str(tmp_path / "jane.json"))
    task = window.subject_access_pack()
    with qtbot.waitSignal(task.finished, timeout=TIMEOUT):
        pass
    assert (tmp_path / "jane.json").read_bytes().startswith(b"{")
    formats = [e.values["format"] for e in sar_entries(ctx, jane)]
    assert formats == ["json", "pdf"]
    # An existing file is never replaced: the error is shown, the file kept.
    prompter.files.append(str(tmp_path / "jane.json"))
    before = (tmp_path / "jane.json").read_bytes()
    task = window.subject_access_pack()
    with qtbot.waitSignal(task.finished, timeout=TIMEOUT):
        pass
    assert "already exists" in prompter.errors()[-1]
    assert (tmp_path / "jane.json").read_bytes() == before


def test_cancelling_the_file_dialog_does_nothing(jane, window, prompter, ctx):
    assert window.prospects.select_prospect(jane)
    prompter.files.append(None)
    assert window.subject_access_pack() is None
    assert sar_entries(ctx, jane) == []


@pytest.mark.parametrize(
    "role, visible",
    [(Role.SALES, False), (Role.MARKETING, False), (Role.MANAGER, True), (Role.ADMIN, True)],
)
def test_only_managers_and_admins_see_the_action(make_window, ctx, role, visible):
    window = make_window(Context(ctx.db, user="u", role=role))
    assert window.commands.subject_access_pack.isVisible() is visible
