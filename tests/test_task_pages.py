"""Issue 22, part A (discoverability): task pages, icons, tooltips, the Engines menu, the theme,
tool options per tool and the wheel guard — on the real main window, offscreen."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QPalette, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractButton, QAbstractSlider, QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QScrollArea,
    QScrollBar, QVBoxLayout, QWidget,
)

from app import icons, theme, tooltips
from app.discoverability import ENGINE_ENTRIES
from app.docks.engines import PAGES, PAGE_TOOLS
from app.mainwindow import MainWindow
from app.settings import Settings
from app.widgets import wheel_guard
from engines.imageio import save_image


@pytest.fixture(scope="module")
def win(qapp, tmp_path_factory):
    """One window for the module (a window costs seconds on two shared cores); each test leaves it
    usable. Settings, data and state point at a temporary folder, as conftest does per test."""
    home = tmp_path_factory.mktemp("task_pages")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANSTUDIO_SETTINGS", str(home / "settings.ini"))
        mp.setenv("GANSTUDIO_DATA", str(home / "data"))
        mp.setenv("XDG_CACHE_HOME", str(home / "cache"))
        y, x = np.mgrid[0:96, 0:128].astype(np.float32)
        photo = home / "photo.png"
        save_image(photo, np.stack([x / 128, y / 96, np.full_like(x, 0.4)], axis=2))
        w = MainWindow(Settings(home / "settings.ini"))
        w.quiet_errors = True
        w.resize(1600, 1000)
        w.show()
        QApplication.processEvents()
        assert w.open_path(photo)
        yield w
        w.theme.set_mode("light")  # the palette is the application's: leave it as the next test expects
        w.undo.setClean()
        w.close()
        w.deleteLater()
        QApplication.processEvents()


# ---------------------------------------------------------------------- task pages
def test_pages_are_in_task_first_order(win):
    dock = win.engines_dock
    assert [k for k, _, _ in PAGES] == ["fill", "upscale", "colorize", "synthesize", "latent"]
    order = [dock.stack.widget(i).objectName() for i in range(dock.stack.count())]
    assert order == [f"page_scroll_{k}" for k, _, _ in PAGES]
    assert [dock.page_buttons[k].text() for k, _, _ in PAGES] == ["Fill", "Upscale", "Colorize", "Synthesize", "Latent"]


@pytest.mark.parametrize("page", ["fill", "colorize", "synthesize"])
def test_opening_a_page_selects_its_tool(win, qtbot, page):
    win.set_tool("brush")
    win.engines_dock.open_page("upscale")
    qtbot.mouseClick(win.engines_dock.page_buttons[page], Qt.MouseButton.LeftButton)
    assert win.engines_dock.current_page() == page
    assert win.state.tool == PAGE_TOOLS[page]
    assert win.tool_actions[PAGE_TOOLS[page]].isChecked()


def test_upscale_and_latent_pages_keep_the_tool(win, qtbot):
    win.set_tool("eraser")
    for page in ("upscale", "latent"):
        qtbot.mouseClick(win.engines_dock.page_buttons[page], Qt.MouseButton.LeftButton)
        assert win.state.tool == "eraser"


def test_choosing_the_hint_or_label_tool_opens_its_page(win):
    win.engines_dock.open_page("upscale", emit=False)
    win.set_tool("hint")
    assert win.engines_dock.current_page() == "colorize"
    win.set_tool("label_fill")
    assert win.engines_dock.current_page() == "synthesize"


def _clipped(dock) -> list[str]:
    """Buttons and fields of the current page whose right edge lies outside the dock."""
    page = dock.stack.currentWidget()
    right = dock.mapToGlobal(QPoint(dock.width(), 0)).x()
    out = []
    for w in page.findChildren(QWidget):
        if w.isVisible() and isinstance(w, (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit)):
            if w.mapToGlobal(QPoint(w.width(), 0)).x() > right + 1:
                out.append(f"{w.metaObject().className()} {getattr(w, 'text', lambda: '')()}")
    return out


@pytest.mark.parametrize("size", [(1600, 1000), (1280, 800)])
def test_no_page_is_clipped_or_scrolls_far(win, qtbot, size):
    win.resize(*size)
    qtbot.wait(50)
    win.engines_dock.show()
    win.engines_dock.raise_()
    dock = win.engines_dock
    report = {}
    for key, _, _ in PAGES:
        dock.open_page(key, emit=False)
        QApplication.processEvents()
        assert _clipped(dock) == [], key
        scroll = dock.page_scrolls[key]
        body = scroll.widget()
        report[key] = (body.minimumSizeHint().height(), scroll.viewport().height())
    # "no long scroll": every page's content is at most 1.5 viewports tall at the default sizes
    for key, (need, have) in report.items():
        assert need <= 1.5 * have, (key, need, have)


# ---------------------------------------------------------------------- Engines menu
def test_engines_menu_has_every_engine_action_with_a_shortcut(win):
    ids = ["upscale", "fill", "colorize", "cancel_job"] + [e.id for e in ENGINE_ENTRIES]
    for action_id in ids:
        act = win.actions_by_id[action_id]
        assert not act.shortcut().isEmpty(), action_id
        assert act.toolTip().endswith(f"({act.shortcut().toString(act.shortcut().SequenceFormat.NativeText)})")
    menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Engines")
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    for wanted in ("&Upscale", "&Fill mask", "C&olorize", "&Synthesize (Generate)", "Segment &photo",
                   "Latent: &project photo", "Latent: &edit (morph preview)", "Latent: &apply", "&Cancel job"):
        assert wanted in texts


@pytest.mark.parametrize("entry", ENGINE_ENTRIES, ids=lambda e: e.id)
def test_engine_entries_open_their_page(win, monkeypatch, entry):
    calls = []
    section = {"synthesize": win.engines_dock.synth, "latent": win.engines_dock.latent}[entry.page]
    name = {"synthesize": "preview", "synth_apply": "apply", "segment": "segment_photo",
            "latent_project": "project", "latent_edit": "edit", "latent_apply": "apply"}[entry.id]
    monkeypatch.setattr(section, name, lambda: calls.append(name) or 1)
    win.engines_dock.open_page("upscale", emit=False)
    win.actions_by_id[entry.id].trigger()
    assert win.engines_dock.current_page() == entry.page
    assert calls == [name]


def test_window_engine_actions_open_their_page(win, monkeypatch):
    monkeypatch.setattr(win.engines_dock.colorize, "apply", lambda: None)
    win.engines_dock.open_page("latent", emit=False)
    win.actions_by_id["colorize"].trigger()
    assert win.engines_dock.current_page() == "colorize"


def test_no_two_actions_share_a_shortcut(win):
    seen: dict[str, str] = {}
    for act in win.findChildren(QAction):
        for seq in act.shortcuts():
            key = seq.toString()
            if key:
                assert key not in seen or seen[key] == act.objectName(), (key, seen.get(key), act.objectName())
                seen[key] = act.objectName()


# ---------------------------------------------------------------------- tooltips
def test_every_action_button_and_field_has_a_tooltip(win):
    missing = []
    for act in win.findChildren(QAction):
        if act.isSeparator() or not act.text() or act.menu() is not None:
            continue
        if not act.toolTip().strip():
            missing.append(f"action {act.objectName() or act.text()}")
        elif not act.shortcut().isEmpty():
            keys = act.shortcut().toString(act.shortcut().SequenceFormat.NativeText)
            if f"({keys})" not in act.toolTip():
                missing.append(f"action {act.objectName()} lacks its shortcut: {act.toolTip()!r}")
    for w in win.findChildren(QWidget):
        if not isinstance(w, (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QAbstractSlider)):
            continue
        if isinstance(w, QScrollBar) or w.objectName().startswith("qt_") or \
                type(w).__name__ in ("QToolBarExtension", "QDockWidgetTitleButton"):
            continue  # Qt's own chrome
        if isinstance(w, QLineEdit) and isinstance(w.parentWidget(), (QAbstractSpinBox, QComboBox)):
            continue  # the editor inside a spin box or combo box
        if type(w).__name__ == "QToolButton" and w.defaultAction() is not None:
            continue  # a toolbar button shows its action's tooltip (checked above)
        if not w.toolTip().strip():
            where, chain = w.parentWidget(), []
            while where is not None and len(chain) < 6:
                chain.append(f"{type(where).__name__}:{where.objectName()}")
                where = where.parentWidget()
            where = w.parentWidget()
            missing.append(f"{type(w).__name__} {w.objectName()!r} {getattr(w, 'text', lambda: '')()!r} in "
                           f"{' < '.join(chain)}")
    assert missing == [], "\n".join(missing)


def test_tool_tooltips_and_engine_buttons_show_the_shortcut(win):
    assert "(B)" in win.tool_actions["brush"].toolTip() and "Paint" in win.tool_actions["brush"].toolTip()
    tips, dock = win.shortcut_tips, win.engines_dock
    assert "(Ctrl+U)" in tips.tip(dock.upscale.button)
    assert "(Ctrl+F)" in tips.tip(dock.fill.fill_button)
    assert "(Ctrl+G)" in tips.tip(dock.synth.generate_button)
    # the panel's own tooltip (it says why a button is disabled) stays the panel's
    dock.synth.generate_button.setToolTip("Needs a model")
    assert tips.tip(dock.synth.generate_button) == "Needs a model (Ctrl+G)"
    assert dock.synth.generate_button.toolTip() == "Needs a model"


def test_with_shortcut_helper():
    assert tooltips.with_shortcut("Upscale", "Ctrl+U") == "Upscale (Ctrl+U)"
    assert tooltips.with_shortcut("Upscale (Ctrl+U)", "Ctrl+U") == "Upscale (Ctrl+U)"
    assert tooltips.with_shortcut("Upscale", None) == "Upscale"
    assert tooltips.plain("Save &As…") == "Save As"


# ---------------------------------------------------------------------- icons
def test_every_tool_and_main_action_has_an_icon(win):
    for tool_id, act in win.tool_actions.items():
        assert not act.icon().isNull(), tool_id
    for action_id in ("open", "save", "undo", "redo", "zoom_in", "zoom_out", "fit", "actual", "upscale", "fill",
                      "colorize", "synthesize", "segment", "cancel_job", "models"):
        assert not win.actions_by_id[action_id].icon().isNull(), action_id
    for key, button in win.engines_dock.page_buttons.items():
        assert not button.icon().isNull(), key


def _ink(pixmap) -> tuple[float, float]:
    """Mean lightness of the drawn (opaque) pixels and the share of pixels drawn."""
    img = pixmap.toImage()
    vals, drawn = [], 0
    for y in range(img.height()):
        for x in range(img.width()):
            c = img.pixelColor(x, y)
            if c.alpha() > 128:
                drawn += 1
                vals.append(c.lightness())
    return (sum(vals) / max(1, len(vals)), drawn / (img.width() * img.height()))


def test_icons_follow_the_theme(win):
    win.theme.set_mode("light")
    light, share = _ink(win.tool_actions["brush"].icon().pixmap(24, 24))
    assert light < 100 and share > 0.03  # dark strokes on a light window
    win.theme.set_mode("dark")
    dark, _ = _ink(win.tool_actions["brush"].icon().pixmap(24, 24))
    assert dark > 180  # light strokes on a dark window
    assert theme.is_dark()


def test_every_svg_renders(qapp):
    names = icons.icon_names()
    assert len(names) >= 30
    for name in names:
        _, share = _ink(icons.render(name, "#000000", 24))
        assert 0.02 < share < 0.6, name  # some ink, not a filled square


# ---------------------------------------------------------------------- theme
def test_theme_toggle_is_remembered(win, qtbot):
    win.theme_actions["dark"].trigger()
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).lightness() < 80
    assert win.settings.get("view/theme") == "dark"
    win.theme_actions["light"].trigger()
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).lightness() > 200
    win.theme_actions["system"].trigger()
    assert win.settings.get("view/theme") == "system"
    with pytest.raises(ValueError):
        win.theme.set_mode("purple")


def test_theme_from_settings_on_start(qtbot):
    first = MainWindow()
    first.theme.set_mode("dark")
    first.settings.sync()
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    try:
        assert second.theme.mode == "dark" and second.theme_actions["dark"].isChecked()
        assert theme.is_dark()
    finally:
        second.theme.set_mode("light")
        second.close()


# ---------------------------------------------------------------------- tool options per tool
@pytest.mark.parametrize("tool, shown", [
    ("brush", ("size", "hardness", "opacity")), ("eraser", ("size", "hardness", "opacity")),
    ("mask", ("size", "hardness", "opacity")), ("label", ("size",)), ("hint", ()), ("picker", ()),
    ("mask_rect", ()), ("mask_lasso", ()), ("label_fill", ()), ("label_rect", ()),
])
def test_tool_options_show_only_what_the_tool_uses(win, tool, shown):
    win.set_tool(tool)
    assert win.tool_options.shown_options() == shown
    help_text = win.tool_options.help.text()
    assert help_text and (("No settings" in help_text) == (not shown))


# ---------------------------------------------------------------------- wheel guard
def _wheel(widget, dy=-120):
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    ev = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(0, 0), QPoint(0, dy), Qt.MouseButton.NoButton,
                     Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def test_wheel_over_an_unfocused_combo_scrolls_the_panel(qtbot):
    scroll = QScrollArea()
    body = QWidget()
    layout = QVBoxLayout(body)
    combos = []
    for _ in range(30):
        c = QComboBox()
        c.addItems(["Telea", "Navier-Stokes", "Texture"])
        layout.addWidget(c)
        combos.append(c)
    scroll.setWidget(body)
    scroll.resize(200, 150)
    qtbot.addWidget(scroll)
    guard = wheel_guard.install(scroll)
    wheel_guard.guard_focus(scroll)
    scroll.show()
    qtbot.waitExposed(scroll)
    combo = combos[1]
    assert combo.focusPolicy() == Qt.FocusPolicy.StrongFocus
    bar = scroll.verticalScrollBar()
    assert bar.value() == 0 and bar.maximum() > 0
    _wheel(combo)
    assert combo.currentIndex() == 0  # the method did not change
    assert bar.value() > 0  # the panel scrolled instead
    # focused (clicked or tabbed to), the wheel changes the value as usual
    scroll.activateWindow()
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus, timeout=2000)
    before = bar.value()
    _wheel(combo)
    assert combo.currentIndex() == 1
    assert bar.value() == before
    QApplication.instance().removeEventFilter(guard)


def test_wheel_over_the_fill_method_scrolls_the_engines_dock(win):
    win.resize(1280, 800)
    dock = win.engines_dock
    dock.open_page("latent", emit=False)  # the tallest page: the one most likely to scroll
    QApplication.processEvents()
    spins = [w for w in dock.page_scrolls["latent"].widget().findChildren(QAbstractSpinBox) if w.isVisible()] + \
            [w for w in dock.page_scrolls["latent"].widget().findChildren(QComboBox) if w.isVisible()]
    assert spins
    field = spins[0]
    value = field.currentIndex() if isinstance(field, QComboBox) else field.value()
    _wheel(field)
    assert (field.currentIndex() if isinstance(field, QComboBox) else field.value()) == value


def test_hovering_a_button_shows_the_shortcut(win, qtbot):
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    win.engines_dock.open_page("upscale", emit=False)
    button = win.engines_dock.upscale.button
    QApplication.processEvents()
    ev = QHelpEvent(QHelpEvent.Type.ToolTip, QPoint(5, 5), button.mapToGlobal(QPoint(5, 5)))
    QApplication.sendEvent(button, ev)
    assert QToolTip.text().endswith("(Ctrl+U)")
    QToolTip.hideText()


def test_dark_sheet_comes_and_goes(win):
    win.theme.set_mode("dark")
    assert theme.DARK_SHEET in QApplication.instance().styleSheet()
    win.theme.set_mode("light")
    assert theme.DARK_SHEET not in QApplication.instance().styleSheet()


def test_a_long_method_title_is_elided_in_the_box_and_whole_in_the_tooltip(qtbot):
    """The Fill page's default title ("Default: Texture fill (PatchMatch, structure from …)") was cut
    mid-word at the default dock width; the box now ends it with "…" and the tooltip keeps it whole."""
    from app.widgets.model_combo import ModelCombo
    from engines.core import Task

    combo = ModelCombo(Task.INPAINT)
    qtbot.addWidget(combo)
    title = combo.currentText()
    assert len(title) > 30
    combo.resize(180, combo.sizeHint().height())
    combo.show()
    shown = combo.elided_text()
    assert shown.endswith("…") and len(shown) < len(title)
    assert title.startswith(shown[:-1])
    assert title in combo.toolTip()
    combo.resize(combo.fontMetrics().horizontalAdvance(title) + 120, combo.height())
    assert combo.elided_text() == title
    combo.grab()  # the custom paint runs without error
