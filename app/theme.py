"""Light / dark theme: follow the system (Qt 6.5+ ``QStyleHints.colorScheme``) or a choice in
View ▸ Theme, remembered in Settings ("view/theme": "system", "light" or "dark").

Both themes use the Fusion style: light with Fusion's own palette, dark with ``dark_palette()``.
The canvas keeps its neutral grey surround in both (a photo is judged against grey, not against
the window colour); icons are re-rendered in the new text colour (``icons.refresh_icons``).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from . import icons
from .settings import KEYS, Key, Settings

MODES = ("system", "light", "dark")
THEME = Key("view/theme", str, "system")
# Declared here, beside the only code that reads it; registered in the settings table so that
# Settings.get/set accept it like every other declared key.
KEYS.setdefault(THEME.name, THEME)

_DARK = {
    QPalette.ColorRole.Window: (45, 45, 48),
    QPalette.ColorRole.WindowText: (225, 225, 225),
    QPalette.ColorRole.Base: (34, 34, 37),
    QPalette.ColorRole.AlternateBase: (52, 52, 56),
    QPalette.ColorRole.ToolTipBase: (60, 60, 64),
    QPalette.ColorRole.ToolTipText: (235, 235, 235),
    QPalette.ColorRole.PlaceholderText: (140, 140, 140),
    QPalette.ColorRole.Text: (225, 225, 225),
    QPalette.ColorRole.Button: (55, 55, 59),
    QPalette.ColorRole.ButtonText: (225, 225, 225),
    QPalette.ColorRole.BrightText: (255, 90, 90),
    QPalette.ColorRole.Light: (75, 75, 80),
    QPalette.ColorRole.Midlight: (62, 62, 66),
    QPalette.ColorRole.Dark: (25, 25, 27),
    QPalette.ColorRole.Mid: (140, 140, 146),  # also the panels' muted note text: legible on Window
    QPalette.ColorRole.Shadow: (10, 10, 10),
    QPalette.ColorRole.Highlight: (42, 130, 218),
    QPalette.ColorRole.HighlightedText: (255, 255, 255),
    QPalette.ColorRole.Link: (90, 160, 240),
    QPalette.ColorRole.LinkVisited: (170, 130, 230),
}
_DARK_DISABLED = {
    QPalette.ColorRole.WindowText: (120, 120, 124),
    QPalette.ColorRole.Text: (120, 120, 124),
    QPalette.ColorRole.ButtonText: (120, 120, 124),
    QPalette.ColorRole.Highlight: (80, 80, 84),
    QPalette.ColorRole.HighlightedText: (160, 160, 160),
}


# Fusion draws a checked push button only 10 % darker than an unchecked one: on a dark window the
# two "Paint: Area to fill / Sample from" toggles then look alike, so dark gives checked ones the
# highlight colour (a rule for the checked state only; every other state stays Fusion's)
DARK_SHEET = ("QPushButton:checked { background-color: #2d5c8c; border: 1px solid #4a8ad0; "
              "border-radius: 3px; padding: 3px 8px; }")


def dark_palette() -> QPalette:
    pal = QPalette()
    for role, rgb in _DARK.items():
        pal.setColor(role, QColor(*rgb))
    for role, rgb in _DARK_DISABLED.items():
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(*rgb))
    return pal


def light_palette() -> QPalette:
    return QStyleFactory.create("Fusion").standardPalette()


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)  # Qt 6.5+
    return scheme is not None and scheme() == Qt.ColorScheme.Dark


def is_dark(palette: QPalette | None = None) -> bool:
    pal = palette or QApplication.instance().palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


class ThemeController(QObject):
    """Applies the chosen theme to the application and follows the system when asked to."""

    changed = Signal(str)  # the theme in effect: "light" or "dark"

    def __init__(self, settings: Settings, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings
        mode = str(settings.get(THEME))
        self._mode = mode if mode in MODES else "system"
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self._system_changed)

    @property
    def mode(self) -> str:
        return self._mode

    def effective(self) -> str:
        if self._mode == "system":
            return "dark" if system_is_dark() else "light"
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"theme must be one of {', '.join(MODES)}, not {mode!r}")
        self._mode = mode
        self.settings.set(THEME, mode)
        self.apply()

    def apply(self) -> str:
        app = QApplication.instance()
        which = self.effective()
        app.setStyle(QStyleFactory.create("Fusion"))  # re-polishes: style sheets re-read palette()
        app.setPalette(dark_palette() if which == "dark" else light_palette())
        sheet = app.styleSheet().replace(DARK_SHEET, "").strip()
        app.setStyleSheet(f"{sheet}\n{DARK_SHEET}".strip() if which == "dark" else sheet)
        icons.refresh_icons()
        self.changed.emit(which)
        return which

    def _system_changed(self, *_ignored) -> None:
        if self._mode == "system":
            self.apply()
