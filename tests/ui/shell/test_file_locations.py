"""Where file dialogs open, and getting to a file just written (Open file / Open folder).

Nothing here launches a file manager: ``QDesktopServices`` is replaced by a
recorder, and the scripted prompter answers the file dialogs and records
where each one opened.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from export_support import build_population
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QWizard

from crm_desktop.services import exports, settings
from crm_desktop.ui.common import messages
from crm_desktop.ui.exports.export_wizard import ExportWizard

LEFT = Qt.MouseButton.LeftButton
TIMEOUT_MS = 20_000


class Opened:
    """Records the URLs the app asks the desktop to open."""

    def __init__(self) -> None:
        self.urls: list[QUrl] = []
        self.result = True

    def openUrl(self, url: QUrl) -> bool:  # noqa: N802 (Qt's name)
        self.urls.append(url)
        return self.result

    def paths(self) -> list[Path]:
        return [Path(u.toLocalFile()) for u in self.urls]


@pytest.fixture
def opened(monkeypatch) -> Opened:
    recorder = Opened()
    monkeypatch.setattr(messages, "QDesktopServices", recorder)
    return recorder


@pytest.fixture
def elsewhere(tmp_path, monkeypatch) -> Path:
    """The process runs in a folder no dialog may open in."""
    cwd = tmp_path / "working-folder"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def test_the_export_result_opens_the_file_and_its_folder(
    qtbot, ctx, tmp_path, prompter, opened, elsewhere
):
    build_population(ctx)
    out_dir = tmp_path / "lists"
    out_dir.mkdir()
    wizard = ExportWizard(ctx, folder=out_dir)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.channel_page.campaign_edit.setText("Spring term")
    wizard.next()
    wizard.next()
    qtbot.waitUntil(wizard.preview_page.isComplete, timeout=TIMEOUT_MS)
    wizard.next()

    # Choose… opens on the file offered, in the export folder.
    offered = Path(wizard.output_page.path_edit.text())
    target = out_dir / "spring.csv"
    prompter.files.append(str(target))
    qtbot.mouseClick(wizard.output_page.choose_button, LEFT)
    assert prompter.starts == [str(offered)]
    assert offered.parent == out_dir and offered.name.startswith("Spring-term-")

    with qtbot.waitSignal(wizard.bus.changed, timeout=TIMEOUT_MS):
        qtbot.mouseClick(wizard.button(QWizard.WizardButton.CommitButton), LEFT)
    qtbot.waitUntil(lambda: wizard.currentId() == wizard.RESULT_PAGE)
    result = wizard.result_page
    assert result.open_file_button.isVisible() and result.open_folder_button.isVisible()
    qtbot.mouseClick(result.open_file_button, LEFT)
    qtbot.mouseClick(result.open_folder_button, LEFT)
    assert opened.paths() == [target.resolve(), out_dir.resolve()]
    assert all(u.isLocalFile() for u in opened.urls)

    # A file gone since is reported, not opened.
    target.unlink()
    qtbot.mouseClick(result.open_file_button, LEFT)
    assert len(opened.urls) == 2
    assert "no longer there" in prompter.errors()[-1]
    assert exports.list_exports(ctx)[0].file_name == str(target.resolve())


def test_file_dialogs_start_in_documents_then_the_last_folder_used(
    qtbot, window, tmp_path, prompter, elsewhere
):
    documents = messages.documents_folder()
    backups = tmp_path / "backups"
    backups.mkdir()
    prompter.files.append(str(backups / "monday.db"))
    task = window.back_up()
    with qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS):
        pass
    assert (backups / "monday.db").exists()
    prompter.files.append(None)  # then cancels
    window.back_up()
    prompter.files.append(None)
    window.open_database()  # another purpose: its own folder (Documents, so far)
    first, second, other = prompter.starts
    assert Path(first).parent == documents or Path(first) == documents
    assert Path(second) == backups or Path(second).parent == backups
    assert Path(other) == documents
    for start in prompter.starts:
        assert not Path(start).is_relative_to(elsewhere), start
        assert start  # never "": Qt would open the working folder


def test_an_access_pack_is_offered_under_the_persons_name_and_can_be_opened(
    qtbot, ctx, make_window, add_prospect, tmp_path, prompter, opened, elsewhere
):
    settings.set_controller(
        ctx, name="Acme Learning Ltd", address="1 Park Row\nLeeds LS1 5AB",
        email="privacy@acme-learning.co.uk", dpo_name="Priya Shah",
    )  # fmt: skip
    jane = add_prospect("Jane", "Smith", email="jane.smith@oakfield.sch.uk")
    window = make_window()
    assert window.prospects.select_prospect(jane)
    packs = tmp_path / "packs"
    packs.mkdir()
    target = packs / "Jane Smith - access pack.pdf"
    prompter.files.append(str(target))
    prompter.open_choices.append("folder")
    task = window.subject_access_pack()
    with qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS):
        pass
    offered = Path(prompter.starts[-1])
    assert offered == messages.documents_folder() / "Jane Smith - access pack.pdf"
    title, text, path = prompter.offers[-1]
    assert title == "Subject access pack written" and path == str(target)
    assert str(target) in text
    assert opened.paths() == [packs]
    assert target.read_bytes().startswith(b"%PDF-")

    # The next pack is offered in the folder used last; Open file opens the file.
    second = packs / "again.pdf"
    prompter.files.append(str(second))
    prompter.open_choices.append("file")
    task = window.subject_access_pack()
    with qtbot.waitSignal(task.finished, timeout=TIMEOUT_MS):
        pass
    assert Path(prompter.starts[-1]) == packs / "Jane Smith - access pack.pdf"
    assert opened.paths()[-1] == second


def test_file_names_offered_are_safe_on_every_system():
    assert messages.safe_file_name("Jane Smith - access pack.pdf") == (
        "Jane Smith - access pack.pdf"
    )
    assert messages.safe_file_name('O\'Brien: "Ann"/B?* - access pack.pdf') == (
        "O'Brien Ann B - access pack.pdf"
    )
    assert messages.safe_file_name("../..") == "file"
