"""The Engines dock: one page per task (app/tasks/<task>/panel.py) in task-first order — Fill,
Upscale, Colorize, Synthesize, Latent — chosen from a row of icon buttons, each page in its own
vertical scroll, plus a "no model installed" line under each section's model list.

Opening a page emits ``page_opened(key)``; the main window selects the tool that page needs
(``PAGE_TOOLS``: Fill -> mask brush, Colorize -> hint points, Synthesize -> label brush)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup, QDockWidget, QFormLayout, QFrame, QHBoxLayout, QLabel, QScrollArea, QSizePolicy,
    QStackedWidget, QToolButton, QVBoxLayout, QWidget,
)

from engines.core import Task

from ..engine_controller import EngineController
from ..icons import TASK_ICONS, set_icon
from ..tasks.colorize.panel import ColorizeSection
from ..tasks.fill.panel import FillSection
from ..tasks.latent.panel import LatentSection
from ..tasks.synthesize.panel import SynthesisSection
from ..tasks.upscale.panel import UpscaleSection
from ..widgets.model_combo import ModelCombo


class _VerticalScroll(QScrollArea):
    """Scrolls up and down only, so it asks for the width of its widest row (plus the scroll bar):
    else a narrow dock draws the right-hand buttons of the sections cut off."""

    def minimumSizeHint(self):
        hint = super().minimumSizeHint()
        body = self.widget()
        if body is not None:
            need = body.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()
            hint.setWidth(max(hint.width(), need))
        return hint


# (key, button text, what the page is for) in task-first order
PAGES = (
    ("fill", "Fill", "Fill a painted area from its surroundings (inpainting)"),
    ("upscale", "Upscale", "Enlarge the photo with a super-resolution network"),
    ("colorize", "Colorize", "Colour a greyscale photo from hint points"),
    ("synthesize", "Synthesize", "Paint labels, generate a photo from them (semantic synthesis)"),
    ("latent", "Latent", "Edit the photo in a GAN's latent space with colour strokes (iGAN)"),
)
PAGE_TOOLS = {"fill": "mask", "colorize": "hint", "synthesize": "label"}


class EnginesDock(QDockWidget):
    page_opened = Signal(str)  # a page key of PAGES, when a page is opened (by the user or a menu entry)

    def __init__(self, controller: EngineController, parent: QWidget | None = None):
        super().__init__("Engines", parent)
        self.setObjectName("EnginesDock")
        self.controller = controller
        self.upscale = UpscaleSection(controller)
        self.fill = FillSection(controller)
        self.colorize = ColorizeSection(controller)
        self.synth = SynthesisSection(controller)
        self.latent = LatentSection(controller)
        self.sections = {"fill": self.fill, "upscale": self.upscale, "colorize": self.colorize,
                         "synthesize": self.synth, "latent": self.latent}
        # the widgets the main window, its actions and the tests reach through the dock
        self.upscale_model, self.upscale_scale, self.upscale_tile = self.upscale.model, self.upscale.scale, self.upscale.tile
        self.upscale_card, self.upscale_kinds = self.upscale.card, self.upscale.kinds
        self.upscale_button, self.upscale_preview_button = self.upscale.button, self.upscale.preview_button
        self.inpaint_model, self.inpaint_live, self.inpaint_button = self.fill.model, self.fill.live, self.fill.fill_button
        self.setWidget(self._build_pages())
        self._add_missing_model_hints()
        self.open_page("fill", emit=False)

    # ------------------------------------------------------------------ task pages
    def _build_pages(self) -> QWidget:
        outer = QWidget()
        column = QVBoxLayout(outer)
        column.setContentsMargins(0, 2, 0, 0)
        column.setSpacing(2)
        header = QHBoxLayout()
        header.setContentsMargins(4, 0, 4, 0)
        header.setSpacing(2)
        self.page_group = QButtonGroup(self)
        self.page_group.setExclusive(True)
        self.page_buttons: dict[str, QToolButton] = {}
        self.page_scrolls: dict[str, QScrollArea] = {}
        self.stack = QStackedWidget()
        for key, text, tip in PAGES:
            button = QToolButton()
            button.setObjectName(f"page_{key}")
            button.setText(text)
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setIconSize(QSize(20, 20))
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setToolTip(tip)
            set_icon(button, TASK_ICONS[key])
            button.clicked.connect(lambda checked=False, k=key: self.open_page(k))
            self.page_group.addButton(button)
            header.addWidget(button)
            self.page_buttons[key] = button
            body = QWidget()
            layout = QVBoxLayout(body)
            layout.setContentsMargins(4, 0, 4, 4)
            layout.addWidget(self.sections[key])
            layout.addStretch(1)
            scroll = _VerticalScroll()  # a page taller than a small screen scrolls; most fit
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # rows wrap instead
            scroll.setWidget(body)
            scroll.setObjectName(f"page_scroll_{key}")
            self.stack.addWidget(scroll)
            self.page_scrolls[key] = scroll
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        column.addLayout(header)
        column.addWidget(line)
        column.addWidget(self.stack, 1)
        return outer

    def open_page(self, key: str, emit: bool = True) -> None:
        """Show the page ``key`` (one of PAGES); ``emit``: tell the window (which selects its tool)."""
        if key not in self.sections:
            raise KeyError(f"no task page {key!r}; pages: {', '.join(k for k, _, _ in PAGES)}")
        self.stack.setCurrentWidget(self.page_scrolls[key])
        self.page_buttons[key].setChecked(True)
        if emit:
            self.page_opened.emit(key)

    def current_page(self) -> str:
        current = self.stack.currentWidget()
        return next(k for k, scroll in self.page_scrolls.items() if scroll is current)

    # ------------------------------------------------------------------ installed models
    def _add_missing_model_hints(self) -> None:
        """Under each section's model list, a line saying how to get a model when none is installed.

        Found by walking the sections' model combos, so a section added later gets its line too.
        """
        self.missing_model_hints: dict[Task, QLabel] = {}
        for combo in self.findChildren(ModelCombo):
            form = combo.parentWidget().layout() if combo.parentWidget() is not None else None
            if not isinstance(form, QFormLayout) or combo.task in self.missing_model_hints:
                continue
            row, _ = form.getWidgetPosition(combo)
            # one short line (a word-wrapped label in a form row is drawn clipped); the rest in the tooltip
            hint = QLabel("No model installed — Engines ▸ Models… to get one")
            hint.setToolTip("Only the classical methods are available for this task. Engines ▸ Models… "
                            "downloads an official model, or imports a .pth / .safetensors file or an "
                            "ncnn folder you already have.")
            hint.setObjectName(f"missing_model_{combo.task.value}")
            hint.setStyleSheet("color: palette(mid); font-style: italic;")
            form.insertRow(row + 1, hint)
            self.missing_model_hints[combo.task] = hint
        self._update_missing_model_hints()

    def _update_missing_model_hints(self) -> None:
        for combo in self.findChildren(ModelCombo):
            hint = self.missing_model_hints.get(combo.task)
            if hint is not None:
                hint.setVisible(not combo.has_network())

    def refresh_models(self) -> None:
        """Re-list every section's models (after Engines ▸ Models… installed or removed one)."""
        for combo in self.findChildren(ModelCombo):
            combo.reload()
        self.synth.reload_models()
        self.latent.reload_models()
        self._update_missing_model_hints()

    # ------------------------------------------------------------------ the main window's entry points
    def run_upscale(self) -> int | None:
        return self.upscale.run()

    def preview_upscale(self) -> int | None:
        return self.upscale.preview()

    def run_inpaint(self) -> int | None:
        return self.fill.run()

    def stroke_finished(self) -> None:
        """Called after each mask edit: the Fill section's live preview."""
        self.fill.stroke_finished()
