"""Colours come from the palette; View > Appearance picks System, Light or Dark."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QMenu
from reads_support import wait_for_reads

from crm_desktop.ui.common import appearance
from crm_desktop.ui.common.appearance import Scheme
from crm_desktop.ui.shell.app import configure_application

REPO = Path(__file__).resolve().parents[3]
HEX = re.compile(r"#[0-9a-fA-F]{3,8}\b")
# appearance.py is where the colours are chosen. (Documents made for paper, the
# access pack and the history PDF, stay black on white: they live in reports/.)
CHOOSER = "common/appearance.py"


@pytest.fixture(autouse=True)
def back_to_system(qapp):
    yield
    appearance.apply_scheme(qapp, Scheme.SYSTEM)
    qapp.setStyleSheet("")


def _luminance(colour: str) -> float:
    c = QColor(colour)

    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours."""
    low, high = sorted((_luminance(a), _luminance(b)))
    return (high + 0.05) / (low + 0.05)


def test_the_style_sheet_holds_no_colour_of_its_own():
    sheets = sorted((REPO / "resources").glob("*.qss"))
    assert sheets, REPO / "resources"
    for qss in sheets:
        text = re.sub(r"/\*.*?\*/", "", qss.read_text(encoding="utf-8"), flags=re.S)
        assert not HEX.findall(text), qss.name
        assert not re.search(r"\b(white|black|red|gr[ae]y)\b", text), qss.name


def test_no_widget_code_hard_codes_a_colour():
    offenders = []
    ui = REPO / "crm_desktop" / "ui"
    files = sorted(ui.rglob("*.py"))
    assert len(files) > 40, ui  # every feature folder, not one flat folder
    for path in files:
        if path.relative_to(ui).as_posix() == CHOOSER:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if HEX.search(line) or 'QColor("' in line or "GlobalColor." in line:
                offenders.append(f"{path.relative_to(ui)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize("scheme", [Scheme.LIGHT, Scheme.DARK])
def test_every_colour_reads_on_its_background(qapp, scheme):
    appearance.apply_scheme(qapp, scheme)
    c = appearance.colours()
    assert c.dark is (scheme is Scheme.DARK)
    for background in (c.window, c.base):
        for name in ("text", "muted", "error", "warning", "ok"):
            assert contrast(getattr(c, name), background) >= 4.5, (scheme, name, background)
    assert contrast(c.accent, c.window) >= 3  # the selected tab's underline
    assert contrast(c.selection_text, c.selection) >= 4.5
    assert contrast(c.text, c.error_background) >= 4.5  # the restriction banner
    assert contrast(c.text, c.warning_background) >= 4.5  # the opt-in notice
    # The style sheet in force is the one built from this palette.
    assert qapp.styleSheet() == appearance.style_sheet()
    assert f"color: {c.text};\n    border-bottom: 2px solid {c.accent}" in qapp.styleSheet()


def test_view_appearance_dark_makes_tabs_and_status_bar_readable(qtbot, make_window, settings):
    window = make_window()
    view = window.menuBar().findChild(QMenu, "menu_view")
    sub = window.menuBar().findChild(QMenu, "menu_appearance")
    assert sub.menuAction() in view.actions()
    assert [a.text() for a in sub.actions()] == ["&System", "&Light", "&Dark"]
    assert all(a.isCheckable() for a in sub.actions())
    assert window.commands.appearance[Scheme.SYSTEM].isChecked()

    window.commands.appearance[Scheme.DARK].trigger()
    assert window.commands.appearance[Scheme.DARK].isChecked()
    assert not window.commands.appearance[Scheme.SYSTEM].isChecked()  # exclusive
    assert settings.value(appearance.SCHEME_KEY) == "dark"

    background = window.palette().color(QPalette.ColorRole.Window)
    assert background.lightnessF() < 0.3
    c = appearance.colours()
    # What the user sees: the active tab's text and the status bar's labels.
    tab_text = window.tabs.tabBar().palette().color(QPalette.ColorRole.WindowText).name()
    assert contrast(tab_text, background.name()) >= 4.5
    user = window.statusBar().findChild(QLabel, "userLabel")
    user_text = user.palette().color(QPalette.ColorRole.WindowText).name()
    assert user_text == c.text and contrast(user_text, background.name()) >= 4.5
    count = window.statusBar().findChild(QLabel, "countLabel")
    count_text = count.palette().color(QPalette.ColorRole.WindowText).name()
    assert count_text == c.muted and contrast(count_text, background.name()) >= 4.5

    window.commands.appearance[Scheme.LIGHT].trigger()
    assert window.palette().color(QPalette.ColorRole.Window).lightnessF() > 0.7
    assert settings.value(appearance.SCHEME_KEY) == "light"


def test_the_detail_pane_redraws_in_the_new_colours(qtbot, make_window, ctx, add_prospect):
    pid = add_prospect("Ada", "Lovelace")
    from crm_desktop.domain.validation import ContactInput
    from crm_desktop.services import correspondence

    correspondence.log_contact(ctx, pid, ContactInput(kind="call", summary="Intro call"))
    window = make_window()
    window.prospects.select_prospect(pid)
    wait_for_reads(qtbot)  # the detail pane reads on a worker
    light_card = appearance.colours().card
    assert light_card in window.prospects.detail._browser.toHtml()
    window.set_appearance(Scheme.DARK)
    wait_for_reads(qtbot)
    dark_card = appearance.colours().card
    assert dark_card != light_card
    html = window.prospects.detail._browser.toHtml()
    assert dark_card in html and light_card not in html


def test_the_saved_choice_is_used_at_start(qapp, tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue(appearance.SCHEME_KEY, "dark")
    configure_application(qapp, settings)
    assert appearance.current_scheme() is Scheme.DARK
    assert appearance.is_dark(qapp.palette())
    settings.setValue(appearance.SCHEME_KEY, "nonsense")
    configure_application(qapp, settings)
    assert appearance.current_scheme() is Scheme.SYSTEM


def test_system_mode_follows_the_desktop_going_dark(qapp, monkeypatch):
    configure_application(qapp, QSettings())  # System; listens to the desktop
    assert not appearance.is_dark(qapp.palette())
    monkeypatch.setattr(appearance, "system_prefers_dark", lambda app: True)
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert appearance.is_dark(qapp.palette())
    assert appearance.colours().text in qapp.styleSheet()
    # An explicit choice is not overridden by the desktop.
    appearance.apply_scheme(qapp, Scheme.LIGHT)
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert not appearance.is_dark(qapp.palette())


def test_the_app_is_configured_once_per_listener(qapp):
    assert isinstance(QApplication.instance(), QApplication)
    configure_application(qapp, QSettings())
    configure_application(qapp, QSettings())
    redraws = []

    def count() -> None:
        redraws.append(1)

    appearance.notifier().changed.connect(count)
    try:
        qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    finally:
        appearance.notifier().changed.disconnect(count)
    assert len(redraws) == 1  # one listener, however often the app is configured
