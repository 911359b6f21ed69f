"""Light, dark or the system's colour scheme, and every colour the app draws with.

No widget hard-codes a colour: the style sheet (``resources/style.qss``) is a
template filled from the application palette, and views that draw their own
text (rich-text panes, overdue dates) ask :func:`colours` at the time they
draw. :func:`apply_scheme` sets the palette for View > Appearance (System,
Light, Dark) and rebuilds the style sheet; in System mode the app follows
``QStyleHints.colorScheme`` as the desktop switches between light and dark.

Signals (on :func:`notifier`):
    changed(): the palette changed; anything that painted colours into
        HTML should draw again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from string import Template

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

SCHEME_KEY = "appearance/scheme"
RESOURCES = "crm_desktop.resources"


class Scheme(StrEnum):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"

    @property
    def label(self) -> str:
        return {"system": "&System", "light": "&Light", "dark": "&Dark"}[self.value]


@dataclass(frozen=True)
class Colours:
    """Named colours for one palette, as ``#rrggbb`` strings (ready for HTML and QSS)."""

    dark: bool
    text: str
    muted: str  # secondary text: hints, labels of label/value pairs, empty states
    line: str  # grid lines and rules
    base: str
    window: str
    header: str  # table header background
    alternate: str  # alternate row background
    card: str  # a quietly set-off panel inside a text pane
    accent: str  # the selected tab's underline
    selection: str
    selection_text: str
    error: str  # overdue, refused, "must not"
    error_background: str
    warning: str  # due today, "could be fixed"
    warning_background: str
    ok: str


class _Notifier(QObject):
    changed = Signal()


_notifier: _Notifier | None = None
_native_style: str | None = None
_current = Scheme.SYSTEM
_following = False


def notifier() -> _Notifier:
    """The object whose ``changed`` signal fires after the palette changes."""
    global _notifier
    if _notifier is None:
        _notifier = _Notifier()
    return _notifier


def _mix(a: QColor, b: QColor, share_of_b: float) -> QColor:
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * share_of_b,
        a.greenF() + (b.greenF() - a.greenF()) * share_of_b,
        a.blueF() + (b.blueF() - a.blueF()) * share_of_b,
    )


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5


def colours(palette: QPalette | None = None) -> Colours:
    """The app's colours for ``palette`` (default: the application's, now)."""
    if palette is None:
        palette = QGuiApplication.palette()
    role = QPalette.ColorRole
    text = palette.color(role.WindowText)
    window = palette.color(role.Window)
    base = palette.color(role.Base)
    highlight = palette.color(role.Highlight)
    dark = is_dark(palette)
    if dark:
        error, error_bg = QColor("#ff9b93"), QColor("#4a1f1c")
        warning, warning_bg = QColor("#f3c26b"), QColor("#43341a")
        ok = QColor("#8fd694")
    else:
        error, error_bg = QColor("#b3261e"), QColor("#fdecea")
        warning, warning_bg = QColor("#8a5300"), QColor("#fff4e0")
        ok = QColor("#256d2a")
    return Colours(
        dark=dark,
        text=text.name(),
        muted=_mix(text, window, 0.38).name(),
        line=_mix(text, window, 0.82).name(),
        base=base.name(),
        window=window.name(),
        header=_mix(text, window, 0.92).name(),
        alternate=palette.color(role.AlternateBase).name(),
        card=_mix(text, base, 0.95).name(),
        accent=highlight.name(),
        selection=_mix(highlight, base, 0.55 if dark else 0.75).name(),
        selection_text=palette.color(role.Text).name(),
        error=error.name(),
        error_background=error_bg.name(),
        warning=warning.name(),
        warning_background=warning_bg.name(),
        ok=ok.name(),
    )


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style (readable text, disabled text greyed)."""
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    p = QPalette()
    window, base, text = QColor("#202326"), QColor("#17191b"), QColor("#e6e8eb")
    for r, c in (
        (role.Window, window),
        (role.WindowText, text),
        (role.Base, base),
        (role.AlternateBase, QColor("#23272b")),
        (role.ToolTipBase, QColor("#2b2f33")),
        (role.ToolTipText, text),
        (role.PlaceholderText, QColor("#8b9299")),
        (role.Text, text),
        (role.Button, QColor("#2b2f33")),
        (role.ButtonText, text),
        (role.BrightText, QColor("#ff6b6b")),
        (role.Light, QColor("#3a3f44")),
        (role.Midlight, QColor("#32363a")),
        (role.Mid, QColor("#2a2e32")),
        (role.Dark, QColor("#111314")),
        (role.Shadow, QColor("#000000")),
        (role.Highlight, QColor("#3d8bfd")),
        (role.HighlightedText, QColor("#ffffff")),
        (role.Link, QColor("#7fb2ff")),
        (role.LinkVisited, QColor("#b79cff")),
        (role.Accent, QColor("#3d8bfd")),
    ):
        p.setColor(r, c)
    muted = QColor("#7d848b")
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, muted)
    p.setColor(group.Disabled, role.Highlight, QColor("#3a3f44"))
    p.setColor(group.Disabled, role.HighlightedText, muted)
    return p


def style_sheet(palette: QPalette | None = None) -> str:
    """``resources/style.qss`` with its ``$name`` colours filled from ``palette``."""
    item = resources.files(RESOURCES).joinpath("style.qss")
    if not item.is_file():
        return ""
    values = vars(colours(palette)).copy()
    values.pop("dark")
    return Template(item.read_text(encoding="utf-8")).substitute(values)


def saved_scheme(settings: QSettings) -> Scheme:
    try:
        return Scheme(str(settings.value(SCHEME_KEY, Scheme.SYSTEM.value)))
    except ValueError:
        return Scheme.SYSTEM


def current_scheme() -> Scheme:
    return _current


def system_prefers_dark(app: QGuiApplication) -> bool:
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_scheme(app: QApplication, scheme: Scheme) -> None:
    """Set the palette for ``scheme`` and rebuild the style sheet from it.

    Light and Dark use the Fusion style with an explicit palette, which looks
    the same on every platform; System keeps the platform's own style and
    palette, switching to Fusion only when the desktop asks for dark and the
    platform style cannot draw it.
    """
    global _native_style, _current
    _current = scheme
    if _native_style is None:
        _native_style = app.style().name()
    hints = app.styleHints()
    if scheme is Scheme.SYSTEM:
        hints.unsetColorScheme()
        _set_style(app, _native_style)
        app.setPalette(QPalette())  # nothing set: the platform's own palette
        palette = app.palette()
        if system_prefers_dark(app) and not is_dark(palette):
            _set_style(app, "fusion")
            palette = dark_palette()
    else:
        hints.setColorScheme(Qt.ColorScheme.Dark if scheme is Scheme.DARK else Qt.ColorScheme.Light)
        _set_style(app, "fusion")
        palette = dark_palette() if scheme is Scheme.DARK else app.style().standardPalette()
    app.setPalette(palette)
    app.setStyleSheet(style_sheet(palette))
    notifier().changed.emit()


def follow_system(app: QApplication) -> None:
    """In System mode, follow the desktop when it switches between light and dark."""
    global _following
    if _following:
        return
    app.styleHints().colorSchemeChanged.connect(
        lambda _scheme: _current is Scheme.SYSTEM and apply_scheme(app, Scheme.SYSTEM)
    )
    _following = True


def _set_style(app: QApplication, name: str) -> None:
    available = [key.lower() for key in QStyleFactory.keys()]  # noqa: SIM118 (a list, not a dict)
    if app.style().name().lower() != name.lower() and name.lower() in available:
        app.setStyle(name)


def overdue_color() -> QColor:
    """Text of anything past its date (follow-ups, request deadlines), in this palette."""
    return QColor(colours().error)


def due_soon_color() -> QColor:
    """Text of anything due today or soon, in this palette."""
    return QColor(colours().warning)


def overdue_background() -> QColor:
    return QColor(colours().error_background)


def due_soon_background() -> QColor:
    return QColor(colours().warning_background)
