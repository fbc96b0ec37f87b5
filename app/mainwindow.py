"""The main window composes the canvas, docks, actions, worker and autosave; it holds no tool logic."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget, QFileDialog, QInputDialog, QMainWindow, QMenu, QMessageBox, QToolBar, QUndoView, QWidget,
)

from engines.core import EngineError, Task

from .actions import ActionSpec, build_actions
from .canvas import mask_ops
from .canvas.canvas import Canvas
from .dialogs.batch_dialog import show_batch_dialog
from .dialogs import help as help_menu, preferences
from .docks.engines import EnginesDock
from .docks.labels import LabelsDock
from .docks.palette import PaletteDock
from .docks.tool_options import ToolOptionsDock
from .document.commands import layer_change
from .document.document import Document, Layer
from .document.files import OPEN_FILTER, SAVE_FILTER, open_document, save_document
from .document.recovery import Autosaver
from .document.save_state import photo_modified
from .discoverability import install as install_discoverability
from .engine_controller import EngineController
from .feedback import Feedback
from .file_flow import ask_quality, export_start, needs_quality, recent_entry
from .image_ops.menu import ImageOps
from .job_control import JobControl
from .jobs import JobRunner
from .settings import Settings, bind_tool_state
from .statusbar import StatusBar
from .tools import TOOL_CLASSES, ToolContext
from .tools.brush import StrokeTool
from .tools.toolstate import ToolState

log = logging.getLogger(__name__)
SK = QKeySequence.StandardKey
TITLE = "GAN Studio"


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.setAcceptDrops(True)
        self.settings = settings or Settings()
        self.path: Path | None = None
        self.original = None  # the image as opened, for the before/after view

        self.state = ToolState(self)
        self.undo = QUndoStack(self)
        self.canvas = Canvas(self)
        self.setCentralWidget(self.canvas)
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.runner = JobRunner(self)
        self.job_control = JobControl(self, self.runner, self.status)  # Cancelling… at once; quit asks (app/job_control.py)
        self.engines = EngineController(self.runner, self.undo, lambda: self.canvas.doc, self)
        self.autosaver = Autosaver(lambda: self.canvas.doc, self.settings, self)

        self.tools = {cls.id: cls(ToolContext(self.canvas, self.undo, self.state, self._flash)) for cls in TOOL_CLASSES}
        self._build_docks()
        self._build_actions()
        self.image_ops = ImageOps(self)  # the Image menu: crop, rotate, flip, resize, canvas size, extend + fill
        self._build_toolbar()
        self._connect()
        self.feedback = Feedback(self)  # honest feedback (app/feedback.py): previews, view, notices
        self._restore_settings()
        self.set_tool(self.state.tool)
        self._update_title()
        preferences.install(self)  # Edit ▸ Preferences… (Ctrl+,): device picker, autosave (app/dialogs/preferences.py)
        help_menu.install(self)  # the Help menu, last in the menu bar (app/dialogs/help.py)
        install_discoverability(self)  # icons, task pages, Engines menu, theme, tooltips (app/discoverability.py); last: it covers every action

    # ------------------------------------------------------------------ composition
    def _build_docks(self) -> None:
        self.tool_options = ToolOptionsDock(self.state, self)
        self.palette_dock = PaletteDock(self.state, self.settings, self)
        self.labels_dock = LabelsDock(self.state, self.settings, self)
        self.history_dock = QDockWidget("History", self)
        self.history_dock.setObjectName("HistoryDock")
        self.history_view = QUndoView(self.undo)
        self.history_view.setEmptyLabel("Opened")
        self.history_dock.setWidget(self.history_view)
        self.engines_dock = EnginesDock(self.engines, self)
        right = Qt.DockWidgetArea.RightDockWidgetArea
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        self.addDockWidget(right, self.tool_options)
        self.addDockWidget(right, self.palette_dock)
        self.addDockWidget(right, self.engines_dock)
        self.addDockWidget(right, self.labels_dock)
        # A saved layout is restored later; tabifying first as well leaves Qt's first tab bar
        # orphaned and drawn over the menu bar, so tabify only for the default layout.
        if not self.settings.get("window/state"):
            self.tabifyDockWidget(self.engines_dock, self.labels_dock)
            self.engines_dock.raise_()
        self.addDockWidget(left, self.history_dock)
        self.resizeDocks([self.history_dock], [200], Qt.Orientation.Horizontal)

    def _action_specs(self) -> list[ActionSpec]:
        F, E, M, V, T = "&File", "&Edit", "&Mask", "&View", "&Engines"
        return [
            ActionSpec("open", "&Open…", F, self.open_dialog, SK.Open),
            ActionSpec("save", "&Save", F, self.save, SK.Save, separator_before=True),
            ActionSpec("save_as", "Save &As…", F, self.save_as, SK.SaveAs),
            ActionSpec("export", "&Export…", F, self.export, "Ctrl+Alt+E", tip="Write a copy in another format"),
            ActionSpec("lossy_quality", "JPEG / WebP &quality…", F, lambda: ask_quality(self, self.settings, force=True),
                       tip="The quality JPEG and WebP saves use (asked once, remembered)"),
            ActionSpec("batch", "&Batch…", F, lambda: show_batch_dialog(self), "Ctrl+Alt+B",
                       tip="Process a folder of photos with any engine", separator_before=True),
            ActionSpec("quit", "&Quit", F, self.close, SK.Quit, separator_before=True),
            ActionSpec("undo", "&Undo", E, self.undo.undo, SK.Undo),
            ActionSpec("redo", "&Redo", E, self.undo.redo, SK.Redo),
            ActionSpec("history", "&History", E, lambda: self.history_dock.setVisible(not self.history_dock.isVisible()), "Ctrl+H"),
            ActionSpec("brush_smaller", "Brush smaller", E, lambda: self.state.grow(1 / 1.2), "[", separator_before=True),
            ActionSpec("brush_larger", "Brush larger", E, lambda: self.state.grow(1.2), "]"),
            ActionSpec("mask_invert", "&Invert mask", M, lambda: self.mask_op("invert"), "Ctrl+I"),
            ActionSpec("mask_clear", "&Clear mask", M, lambda: self.mask_op("clear"), "Ctrl+Shift+A"),
            ActionSpec("mask_grow", "&Grow mask…", M, lambda: self.mask_op("grow")),
            ActionSpec("mask_shrink", "&Shrink mask…", M, lambda: self.mask_op("shrink")),
            ActionSpec("mask_feather", "&Feather mask…", M, lambda: self.mask_op("feather")),
            ActionSpec("mask_load", "&Load mask from file…", M, self.load_mask_dialog, separator_before=True),
            ActionSpec("mask_source", "Paint &sample-from area", M, self._paint_source, "Shift+M", checkable=True,
                       separator_before=True,
                       tip="The mask tools paint where a fill may take texture from (green) instead of the "
                           "area to fill; the Mask menu's operations then apply to it"),
            ActionSpec("source_clear", "Clear sa&mple-from area", M, lambda: self.engines_dock.fill.clear_source(),
                       tip="Sample from the whole photo again"),
            ActionSpec("zoom_in", "Zoom &in", V, lambda: self.canvas.zoom_by(1.25), SK.ZoomIn),
            ActionSpec("zoom_out", "Zoom &out", V, lambda: self.canvas.zoom_by(0.8), SK.ZoomOut),
            ActionSpec("fit", "&Fit in window", V, lambda: self.canvas.fit(upscale=True), "Ctrl+0"),
            ActionSpec("actual", "&100 %", V, self.canvas.actual_size, "Ctrl+1"),
            ActionSpec("compare", "&Before / after", V, self.set_compare, "Ctrl+B", checkable=True,
                       tip="Split view: the photo as opened on the left, now on the right", separator_before=True),
            ActionSpec("show_mask", "Show &mask", V, self._show_layer("mask"), checkable=True, separator_before=True),
            ActionSpec("show_hints", "Show &hints", V, self._show_layer("hints"), checkable=True),
            ActionSpec("show_labels", "Show &labels", V, self._show_layer("labels"), checkable=True),
            ActionSpec("upscale", "&Upscale", T, self.engines_dock.run_upscale, "Ctrl+U"),
            ActionSpec("fill", "&Fill mask", T, self.engines_dock.run_inpaint, "Ctrl+F"),
            ActionSpec("colorize", "C&olorize", T, self.engines_dock.colorize.apply, "Ctrl+K",
                       tip="Colorize from the hint points at full resolution (one undo step)"),
            ActionSpec("cancel_job", "&Cancel job", T, self.job_control.cancel, separator_before=True),
            ActionSpec("models", "&Models…", T, self.open_models_dialog, separator_before=True,
                       tip="Download, import, verify or remove models"),
        ]

    def _build_actions(self) -> None:
        self.actions_by_id = build_actions(self, self.menuBar(), self._action_specs())
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.setObjectName("recent_menu")
        self.menuBar().actions()[0].menu().insertMenu(self.actions_by_id["save"], self.recent_menu)
        self._rebuild_recent_menu()
        self.undo.canUndoChanged.connect(self.actions_by_id["undo"].setEnabled)
        self.undo.canRedoChanged.connect(self.actions_by_id["redo"].setEnabled)
        self.actions_by_id["undo"].setEnabled(False)
        self.actions_by_id["redo"].setEnabled(False)
        panels = self.menuBar().addMenu("&Window")
        for dock in (self.tool_options, self.palette_dock, self.labels_dock, self.engines_dock, self.history_dock):
            panels.addAction(dock.toggleViewAction())

    def _build_toolbar(self) -> None:
        bar = QToolBar("Tools", self)
        bar.setObjectName("ToolsBar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, bar)
        group = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}
        for tool_id, tool in self.tools.items():
            act = QAction(tool.title, self)
            act.setObjectName(f"tool_{tool_id}")
            act.setCheckable(True)
            act.setShortcut(QKeySequence(tool.shortcut))
            act.setToolTip(f"{tool.title} ({tool.shortcut}) — {tool.tooltip}")
            act.triggered.connect(lambda checked=False, t=tool_id: self.set_tool(t))
            group.addAction(act)
            bar.addAction(act)
            self.tool_actions[tool_id] = act

    def _connect(self) -> None:
        self.canvas.cursor_moved.connect(self.status.set_cursor_info)
        self.canvas.zoom_changed.connect(self.status.set_zoom)
        self.state.label_opacity_changed.connect(self._set_label_opacity)
        self.labels_dock.palette_changed.connect(lambda pal: self.canvas.set_label_colors(pal.color_lut()))
        self.canvas.set_label_colors(self.labels_dock.palette().color_lut())
        self.canvas.label_opacity = self.state.label_opacity
        self.status.cancel_clicked.connect(self.job_control.cancel)
        # bound methods, not lambdas: Qt drops them when the window is destroyed
        self.runner.started.connect(self._job_started)
        self.runner.progress.connect(self._job_progress)
        self.runner.idle.connect(self._jobs_idle)
        self.engines.error.connect(self.show_error)
        self.engines.message.connect(self._flash)
        self.engines.preview_ready.connect(self.canvas.set_preview)
        self.engines.region_preview_ready.connect(self.canvas.set_preview)
        self.engines_dock.upscale.visible_rect = self.canvas.visible_image_rect
        self.engines_dock.synth.bind_labels(self.labels_dock.palette, self.labels_dock.set_palette)
        self.engines_dock.colorize.selected_hint = self._selected_hint
        self.engines_dock.colorize.set_colour = self.state.set_color
        self.engines_dock.fill.bind_tools(self.state, self.set_tool)
        self.state.mask_target_changed.connect(self._mask_target_changed)
        self.undo.cleanChanged.connect(self._update_title)
        self.undo.indexChanged.connect(self._after_edit)

    def _job_started(self, job_id: int, label: str) -> None:
        self._job_label = label
        self.status.set_job(label)

    def _job_progress(self, job_id: int, fraction: float, message: str) -> None:
        self.status.set_job(getattr(self, "_job_label", "Working"), fraction, message)

    def _jobs_idle(self) -> None:
        self.status.set_job(None)

    def _after_edit(self, index: int = 0) -> None:
        self._update_title()
        tool = self.tools.get(self.state.tool)
        if tool is not None and tool.id in ("mask", "mask_rect", "mask_lasso"):
            self.engines_dock.stroke_finished()
        elif tool is not None and tool.id in ("label", "label_fill", "label_rect"):
            self.engines_dock.synth.stroke_finished()  # live synthesis preview, or drop a stale one
        elif not self.feedback.keeps_preview():  # the latent edit's stays until Apply / Discard
            self.canvas.set_preview(None)

    def _show_layer(self, name: str):
        def toggle(on: bool) -> None:
            setattr(self.canvas, f"show_{name}", on)  # the three flags are plain attributes
            self.settings.set(f"view/show_{name}", on)
            self.canvas.update()
        return toggle

    def _set_label_opacity(self, value: float) -> None:
        self.canvas.label_opacity = value
        self.canvas.update()

    # ------------------------------------------------------------------ tools
    def set_tool(self, tool_id: str) -> None:
        if tool_id not in self.tools:
            tool_id = "brush"
        old = self.canvas.tool
        if old is not None and old.id != tool_id:
            old.deactivate()
        tool = self.tools[tool_id]
        self.canvas.tool = tool
        tool.activate()
        self.state.set_tool(tool_id)
        self.tool_actions[tool_id].setChecked(True)
        self.canvas.update()

    # ------------------------------------------------------------------ files
    def open_path(self, path: str | Path, ask: bool = True) -> bool:
        """Open a photo; ``ask=False`` when the caller already asked about unsaved changes."""
        if ask and not self.maybe_save():
            return False
        try:
            doc = open_document(path)
        except EngineError as exc:
            self.show_error(str(exc))
            return False
        self.set_document(doc, Path(path))
        self.settings.add_recent_file(str(path))
        self._rebuild_recent_menu()
        if doc.meta.notes:  # e.g. an animated GIF: only its first frame was opened
            self._flash(f"Opened {Path(path).name}: " + "; ".join(doc.meta.notes), 8000)
        return True

    def set_document(self, doc: Document | None, path: Path | None = None) -> None:
        self.runner.cancel_all()
        self.undo.clear()
        self.path = path
        self.original = None if doc is None else doc.image.copy()
        self.canvas.set_document(doc)
        self.engines_dock.fill.document_changed(doc)
        self.autosaver.reset()
        self.actions_by_id["compare"].setChecked(False)
        if doc is not None:
            self.status.set_image_size(doc.width, doc.height, doc.meta.bit_depth)
            doc.add_listener(lambda layer, rect: self._doc_resized(doc) if layer == Layer.ALL else None)
        self.undo.setClean()
        self._update_title()
        self.feedback.document_opened(doc)  # the panels forget the last photo
        if self.engines_dock.colorize.document_opened(doc):  # greyscale: straight into colorizing
            self.set_tool("hint")
            self.engines_dock.raise_()

    def _selected_hint(self) -> int | None:
        return getattr(self.tools.get("hint"), "selected", None)

    def _doc_resized(self, doc: Document) -> None:
        self.status.set_image_size(doc.width, doc.height, doc.meta.bit_depth)

    def open_dialog(self) -> None:
        if not self.maybe_save():  # ask about unsaved changes before the file dialog, not after
            return
        start = str(self.path.parent) if self.path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open photo", start, OPEN_FILTER)
        if path:
            self.open_path(path, ask=False)

    def save(self) -> bool:
        if self.canvas.doc is None:
            return False
        if self.path is None:
            return self.save_as()
        return self._write(self.path, mark_clean=True)

    def save_as(self) -> bool:
        if self.canvas.doc is None:
            return False
        path, _ = QFileDialog.getSaveFileName(self, "Save photo as", str(self.path or "untitled.png"), SAVE_FILTER)
        if not path:
            return False
        if self._write(Path(path), mark_clean=True):
            self.path = Path(path)
            self.settings.add_recent_file(path)
            self._rebuild_recent_menu()
            self._update_title()
            return True
        return False

    def export(self) -> bool:
        if self.canvas.doc is None:
            return False
        path, _ = QFileDialog.getSaveFileName(self, "Export a copy", export_start(self.path), SAVE_FILTER)
        return bool(path) and self._write(Path(path), mark_clean=False)

    def _write(self, path: Path, mark_clean: bool) -> bool:
        quality = ask_quality(self, self.settings) if needs_quality(path) else 95
        if quality is None:
            return False  # the quality question was cancelled: nothing written
        try:
            notes = save_document(self.canvas.doc, path, quality=quality)
        except (EngineError, OSError) as exc:
            self.show_error(f"Could not save {path.name}: {exc}")
            return False
        if mark_clean:
            self.undo.setClean()
            self.canvas.doc.modified = False
            self._update_title()
        extra = f" (quality {quality})" if needs_quality(path) else ""
        self._flash(f"Saved {path}{extra}" + ("; " + "; ".join(notes) if notes else ""), 8000 if notes else 4000)
        return True

    def maybe_save(self) -> bool:
        """Ask before losing unsaved edits. True when it is fine to go on."""
        if self.canvas.doc is None or not photo_modified(self.undo):  # mask / labels only: nothing to save
            return True
        answer = QMessageBox.question(
            self, TITLE, f"Save changes to {self.path.name if self.path else 'the photo'}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def _rebuild_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        menu.setToolTipsVisible(True)
        for path in self.settings.recent_files():
            text, tip = recent_entry(path)  # "facade_10.png — …/facades/test"
            act = menu.addAction(text)
            act.setToolTip(tip)
            act.triggered.connect(lambda checked=False, p=path: self.open_path(p))
        menu.setEnabled(not menu.isEmpty())

    def load_mask_dialog(self) -> None:
        if self.canvas.doc is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Load mask", "", OPEN_FILTER)
        if path:
            self.load_mask(path)

    def load_mask(self, path: str | Path) -> bool:
        """A mask image: white (or opaque) = fill. It must have the photo's size."""
        from engines.imageio import load_image

        doc = self.canvas.doc
        try:
            img = load_image(path)
        except EngineError as exc:
            self.show_error(str(exc))
            return False
        if img.rgb.shape[:2] != (doc.height, doc.width):
            h, w = img.rgb.shape[:2]
            self.show_error(f"The mask is {w}×{h} but the photo is {doc.width}×{doc.height}.")
            return False
        mask = img.rgb.mean(axis=2) if img.alpha is None or img.alpha.min() >= 1.0 else img.alpha
        cmd = layer_change(doc, Layer.MASK, mask.astype("float32"), "Load mask")
        if cmd is not None:
            self.undo.push(cmd)
        return True

    # ------------------------------------------------------------------ mask operations
    def _paint_source(self, on: bool) -> None:
        self.engines_dock.fill.paint_target("source" if on else "fill")

    def _mask_target_changed(self, target: str) -> None:
        self.actions_by_id["mask_source"].setChecked(target == "source")
        self.canvas.update()  # the brush outline shows the target
        self._flash("Mask tools paint the sample-from area (green); Shift+M for the area to fill"
                    if target == "source" else "Mask tools paint the area to fill")

    def mask_op(self, op: str) -> None:
        """Invert / clear / grow / shrink / feather what the mask tools paint: the fill mask, or the
        sample-from area while that is the target (Shift+M)."""
        doc = self.canvas.doc
        if doc is None:
            return
        layer = Layer.SOURCE if self.state.mask_target == "source" else Layer.MASK
        current = doc.layer_array(layer)
        if op == "invert":
            new, text = mask_ops.invert(current), "Invert mask"
        elif op == "clear":
            new, text = mask_ops.clear(current), "Clear mask"
        else:
            label = {"grow": "Grow by (pixels)", "shrink": "Shrink by (pixels)", "feather": "Feather radius (pixels)"}[op]
            value, ok = QInputDialog.getInt(self, TITLE, label, 8, 1, 500)
            if not ok:
                return
            if op == "feather":
                new, text = mask_ops.feather(current, value), f"Feather mask {value}px"
            else:
                px = value if op == "grow" else -value
                new, text = mask_ops.grow(current, px), f"{'Grow' if px > 0 else 'Shrink'} mask {value}px"
        if layer == Layer.SOURCE:
            text = text.replace("mask", "sample-from area")
        cmd = layer_change(doc, layer, new, text)
        if cmd is not None:
            self.undo.push(cmd)

    # ------------------------------------------------------------------ view
    def set_compare(self, on: bool) -> None:
        self.canvas.set_compare_image(self.original if on and self.original is not None else None)

    # ------------------------------------------------------------------ models
    def open_models_dialog(self) -> None:
        """Engines ▸ Models…: one non-modal dialog; its installs and removals refresh the Engines dock."""
        from .dialogs.models_dialog import ModelsDialog

        if getattr(self, "models_dialog", None) is None:
            self.models_dialog = ModelsDialog(self)
            self.models_dialog.models_changed.connect(self.engines_dock.refresh_models)
        self.models_dialog.reload()
        self.models_dialog.show()
        self.models_dialog.raise_()

    # ------------------------------------------------------------------ messages
    def show_error(self, message: str) -> None:
        log.info("error shown: %s", message)
        self._flash(message, 8000)
        if not getattr(self, "quiet_errors", False):
            QMessageBox.warning(self, TITLE, message)

    def _flash(self, message: str, ms: int = 4000) -> None:
        self.status.showMessage(message, ms)

    def _update_title(self, *_ignored) -> None:
        name = self.path.name if self.path else ("untitled" if self.canvas.doc else "")
        dirty = " •" if photo_modified(self.undo) else ""
        self.setWindowTitle(f"{name}{dirty} — {TITLE}" if name else TITLE)

    # ------------------------------------------------------------------ settings and life cycle
    def _restore_settings(self) -> None:
        s = self.settings
        self.resize(1400, 900)
        s.restore_geometry(self)
        self._pending_state = s.get("window/state")
        bind_tool_state(s, self.state)  # size, hardness, opacity, colour: restored and kept in sync
        self.state.set_label_opacity(s.get("labels/opacity"))
        for name in ("mask", "hints", "labels"):
            on = bool(s.get(f"view/show_{name}"))
            self.actions_by_id[f"show_{name}"].setChecked(on)
            setattr(self.canvas, f"show_{name}", on)

    def _save_settings(self) -> None:
        s = self.settings
        s.set("window/geometry", bytes(self.saveGeometry()))
        s.set("window/state", bytes(self.saveState()))
        s.set("labels/opacity", self.state.label_opacity)
        s.sync()

    def showEvent(self, event) -> None:
        # Dock layout is restored once the window is shown: restored before, Qt leaves a stray
        # tab bar drawn over the menu bar.
        state, self._pending_state = getattr(self, "_pending_state", None), None
        if state:
            self.restoreState(QByteArray(state))
        super().showEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.job_control.confirm_quit() or not self.maybe_save():  # a running job: Quit anyway?
            event.ignore()
            return
        self._save_settings()
        self.job_control.shut_down_for_quit()  # hidden first: no frozen window while the worker stops
        if getattr(self, "batch_dialog", None) is not None:
            self.batch_dialog.close()  # cancels a running batch and waits for its thread
        if getattr(self, "models_dialog", None) is not None:
            self.models_dialog.close()  # cancels a running download (its .part is kept) and waits
        self.autosaver.clean_exit()
        event.accept()

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, e) -> None:
        if e.mimeData().hasUrls() and any(u.isLocalFile() for u in e.mimeData().urls()):
            e.acceptProposedAction()

    def dropEvent(self, e) -> None:
        for url in e.mimeData().urls():
            if url.isLocalFile():
                self.open_path(url.toLocalFile())
                e.acceptProposedAction()
                return
