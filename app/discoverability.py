"""What lets a new user find their way in the main window (issue 22, part A), installed by one call
from ``MainWindow.__init__`` (``install(window)``):

- icons (app/icons.py) on every tool and main action; a main toolbar; the tools bar as icons;
- the Engines menu: an entry with a shortcut for every engine action, each opening its task page;
- task pages: opening one selects the tool it needs, choosing that tool opens its page;
- View ▸ Theme (System / Light / Dark, app/theme.py);
- Tool Options shows only what the current tool uses;
- tooltips with the shortcut on every action, button and field (app/tooltips.py);
- the wheel over an unfocused field scrolls its panel (app/widgets/wheel_guard.py);
- the default dock layout: Engines and Labels share the full-height right column, so a task page
  fits without scrolling at 1280 x 800.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QToolBar, QToolButton

from . import tooltips
from .docks.engines import PAGE_TOOLS
from .icons import ACTION_ICONS, ICON_SIZE, TOOL_ICONS, set_icon
from .theme import MODES, ThemeController
from .widgets import wheel_guard

if TYPE_CHECKING:
    from .mainwindow import MainWindow


@dataclass(frozen=True)
class EngineEntry:
    id: str
    text: str
    shortcut: str
    page: str
    run: Callable[["MainWindow"], object]
    tip: str


# added to the Engines menu after Upscale / Fill mask / Colorize (which the window's table holds)
ENGINE_ENTRIES = (
    EngineEntry("synthesize", "&Synthesize (Generate)", "Ctrl+G", "synthesize", lambda w: w.engines_dock.synth.preview(),
                "Generate a photo from the label map as a preview (Apply keeps it)"),
    EngineEntry("synth_apply", "Apply s&ynthesis", "Ctrl+Shift+G", "synthesize", lambda w: w.engines_dock.synth.apply(),
                "Synthesize from the label map into the image (one undo step)"),
    EngineEntry("segment", "Segment &photo", "Ctrl+Alt+L", "synthesize", lambda w: w.engines_dock.synth.segment_photo(),
                "Label map from the photo (one undo step), to edit and re-synthesize"),
    EngineEntry("latent_project", "Latent: &project photo", "Ctrl+Alt+P", "latent", lambda w: w.engines_dock.latent.project(),
                "Find the GAN's latent code for the photo's square, to edit with strokes on the pad"),
    EngineEntry("latent_edit", "Latent: &edit (morph preview)", "Ctrl+E", "latent", lambda w: w.engines_dock.latent.edit(),
                "Move the latent code toward the pad's strokes and preview the morph on the photo"),
    EngineEntry("latent_apply", "Latent: &apply", "Ctrl+Shift+E", "latent", lambda w: w.engines_dock.latent.apply(),
                "Put the latent edit into the photo (one undo step)"),
)
# the window's own engine actions and the page each opens
ACTION_PAGES = {"upscale": "upscale", "fill": "fill", "colorize": "colorize"}
CANCEL_SHORTCUT = "Ctrl+."
TOOL_PAGES = {"hint": "colorize", "label": "synthesize", "label_fill": "synthesize", "label_rect": "synthesize"}

MAIN_TOOLBAR = ("open", "save", None, "undo", "redo", None, "zoom_out", "zoom_in", "fit", "actual", "compare", None,
                "fill", "upscale", "colorize", "synthesize", None, "cancel_job")
TEXT_BESIDE = {"fill", "upscale", "colorize", "synthesize"}  # the engine actions show their names too

# tooltips for fields the panels leave without one (the fallback would only repeat the form label)
FIELD_TIPS = {
    ("upscale", "model"): "Which network enlarges the photo (faithful models first, then sharp ones)",
    ("upscale", "scale"): "How many times larger the result is on each side",
    ("upscale", "tile"): "Tile size in pixels for large photos (auto: what fits in memory); tiles are blended",
    ("fill", "model"): "How the painted area is filled: the texture fill, a network, or a classical method",
    ("fill", "live"): "Fill again after each mask stroke, as a preview (nothing changes until Fill mask)",
    ("synth", "model"): "Which semantic-synthesis network turns the label map into a photo",
    ("latent", "model"): "Which GAN's latent space the edit moves in",
    ("labels", "combo"): "The label palette: the classes (and their colours) the label tools paint",
}


def _menu(window: "MainWindow", title: str) -> QMenu | None:
    for act in window.menuBar().actions():
        if act.menu() is not None and act.text().replace("&", "") == title:
            return act.menu()
    return None


def _open_page(window: "MainWindow", key: str) -> None:
    dock = window.engines_dock
    dock.show()
    dock.raise_()
    dock.open_page(key)


def _engines_menu(window: "MainWindow") -> None:
    acts = window.actions_by_id
    menu = _menu(window, "Engines")
    cancel = acts["cancel_job"]
    items = menu.actions()
    at = items.index(cancel)
    before = items[at - 1] if at > 0 and items[at - 1].isSeparator() else cancel
    for entry in ENGINE_ENTRIES:
        if entry.id in acts:
            continue  # another part of the window added it already
        act = QAction(entry.text, window)
        act.setObjectName(f"action_{entry.id}")
        act.setShortcut(QKeySequence(entry.shortcut))
        act.setStatusTip(entry.tip)
        act.setIconText(tooltips.plain(entry.text).split(" (")[0])  # "Synthesize" on the toolbar
        act.triggered.connect(lambda checked=False, e=entry: _run_entry(window, e))
        menu.insertAction(before, act)
        window.addAction(act)
        acts[entry.id] = act
    for action_id, page in ACTION_PAGES.items():
        acts[action_id].triggered.connect(lambda checked=False, k=page: _open_page(window, k))
    if cancel.shortcut().isEmpty():
        cancel.setShortcut(QKeySequence(CANCEL_SHORTCUT))
    cancel.setStatusTip(cancel.statusTip() or "Stop the running engine job")


def _run_entry(window: "MainWindow", entry: EngineEntry) -> None:
    _open_page(window, entry.page)
    result = entry.run(window)
    if result is None and window.canvas.doc is None:
        window._flash(f"{tooltips.plain(entry.text)}: open a photo first")


def _theme_menu(window: "MainWindow") -> None:
    window.theme = ThemeController(window.settings, window)
    view = _menu(window, "View")
    sub = QMenu("&Theme", window)
    sub.setObjectName("theme_menu")
    group = QActionGroup(window)
    window.theme_actions = {}
    for mode, text in zip(MODES, ("&System", "&Light", "&Dark")):
        act = QAction(text, window)
        act.setObjectName(f"action_theme_{mode}")
        act.setCheckable(True)
        act.setChecked(mode == window.theme.mode)
        act.setStatusTip({"system": "Follow the desktop's light or dark setting",
                          "light": "Light window colours", "dark": "Dark window colours"}[mode])
        act.triggered.connect(lambda checked=False, m=mode: window.theme.set_mode(m))
        group.addAction(act)
        sub.addAction(act)
        window.theme_actions[mode] = act
    view.addSeparator()
    view.addMenu(sub)
    window.theme.apply()


def _icons_and_toolbars(window: "MainWindow") -> None:
    acts = window.actions_by_id
    for action_id, name in ACTION_ICONS.items():
        if action_id in acts:
            set_icon(acts[action_id], name)
    for tool_id, act in window.tool_actions.items():
        if tool_id in TOOL_ICONS:
            set_icon(act, TOOL_ICONS[tool_id])
    tools_bar = window.findChild(QToolBar, "ToolsBar")
    if tools_bar is not None:
        tools_bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        tools_bar.setIconSize(ICON_SIZE)
    bar = QToolBar("Main", window)
    bar.setObjectName("MainBar")
    bar.setIconSize(ICON_SIZE)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    for action_id in MAIN_TOOLBAR:
        if action_id is None:
            bar.addSeparator()
        elif action_id in acts:
            bar.addAction(acts[action_id])
            if action_id in TEXT_BESIDE:
                button = bar.widgetForAction(acts[action_id])
                if isinstance(button, QToolButton):
                    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    window.main_bar = bar


def _pages_and_tools(window: "MainWindow") -> None:
    dock = window.engines_dock

    def page_opened(key: str) -> None:
        tool = PAGE_TOOLS.get(key)
        if tool is not None and window.state.tool != tool and tool in window.tools:
            window.set_tool(tool)

    def tool_changed(tool_id: str) -> None:
        page = TOOL_PAGES.get(tool_id)
        if page is not None and dock.current_page() != page:
            dock.open_page(page, emit=False)

    dock.page_opened.connect(page_opened)
    window.state.tool_changed.connect(tool_changed)
    window.tool_options.set_tools(window.tools)


def _default_layout(window: "MainWindow") -> None:
    """Tool options, colour and history on the left; Engines (task pages) and Labels share the
    right column at full height. Only for a first start: a saved layout is restored over it."""
    if window.settings.get("window/state"):
        return
    left = Qt.DockWidgetArea.LeftDockWidgetArea
    right = Qt.DockWidgetArea.RightDockWidgetArea
    for dock in (window.tool_options, window.palette_dock, window.history_dock):
        window.addDockWidget(left, dock)
    window.splitDockWidget(window.tool_options, window.palette_dock, Qt.Orientation.Vertical)
    window.splitDockWidget(window.palette_dock, window.history_dock, Qt.Orientation.Vertical)
    window.addDockWidget(right, window.engines_dock)
    window.tabifyDockWidget(window.engines_dock, window.labels_dock)
    window.engines_dock.raise_()
    window.resizeDocks([window.tool_options, window.engines_dock], [270, 380], Qt.Orientation.Horizontal)
    window.resizeDocks([window.tool_options, window.palette_dock, window.history_dock], [150, 420, 200],
                       Qt.Orientation.Vertical)


def _tooltips(window: "MainWindow") -> None:
    dock = window.engines_dock
    sections = {"upscale": dock.upscale, "fill": dock.fill, "synth": dock.synth, "latent": dock.latent,
                "colorize": dock.colorize, "labels": window.labels_dock}
    for (section, attr), tip in FIELD_TIPS.items():
        widget = getattr(sections[section], attr, None)
        if widget is not None and not widget.toolTip():
            widget.setToolTip(tip)
    tooltips.action_tooltips(window.findChildren(QAction))
    acts = window.actions_by_id
    window.shortcut_tips = tips = tooltips.ShortcutTips(window)
    for button, act in (
        (dock.upscale.button, acts.get("upscale")), (dock.fill.fill_button, acts.get("fill")),
        (dock.colorize.apply_button, acts.get("colorize")), (dock.synth.generate_button, acts.get("synthesize")),
        (dock.synth.apply_button, acts.get("synth_apply")), (dock.synth.segment_button, acts.get("segment")),
        (dock.latent.project_button, acts.get("latent_project")), (dock.latent.edit_button, acts.get("latent_edit")),
        (dock.latent.apply_button, acts.get("latent_apply")),
        (getattr(window.status, "cancel", None), acts.get("cancel_job")),
    ):
        tips.add(button, act)
    for key, button in dock.page_buttons.items():
        tool = PAGE_TOOLS.get(key)
        if tool in window.tools and "selects" not in button.toolTip():
            button.setToolTip(f"{button.toolTip()}; selects the {window.tools[tool].title.lower()}")
    tooltips.fill_missing(window)


def install(window: "MainWindow") -> None:
    _engines_menu(window)
    _icons_and_toolbars(window)
    _theme_menu(window)
    _pages_and_tools(window)
    _default_layout(window)
    _tooltips(window)
    wheel_guard.guard_focus(window)
    window.wheel_guard = wheel_guard.install(window)


def refresh_tooltips(window: "MainWindow") -> None:
    """After a part of the window added actions or widgets: tooltips for them too."""
    tooltips.action_tooltips(window.findChildren(QAction))
    tooltips.fill_missing(window)


__all__ = ["ENGINE_ENTRIES", "install", "refresh_tooltips"]
