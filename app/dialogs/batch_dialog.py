"""File ▸ Batch…: process a folder with any installed engine, watch it, review the results.

The dialog builds :class:`engines.batch.BatchOptions` from its widgets, checks them with
``BatchRun.prepare()`` (usage errors are shown at once), then a :class:`BatchWorker` QThread drives
the run. Per-file and overall progress with ETA, Pause/Resume and Cancel; the review gallery
shows before/after thumbnails of every file (failed ones with their reason), opens a result in the
editor on double-click, and re-runs the files marked to redo (their outputs are replaced).
Tasks and models come from ``engines.batch.tasks.TASKS`` and the registry: nothing is listed by name.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QCoreApplication, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
    QLineEdit, QListView, QListWidget, QListWidgetItem, QProgressBar, QPushButton, QSpinBox,
    QVBoxLayout, QWidget,
)

from engines.batch import BatchOptions, BatchRun, BatchUsageError
from engines.batch.plan import FORMATS
from engines.batch.progress import format_duration
from engines.batch.tasks import TASKS, engines_for

from ..qt_names import display, from_qt, to_qt
from ..widgets.model_list import fill_model_combo
from .batch_worker import THUMB, BatchWorker

TASK_TITLES = {"upscale": "Upscale", "inpaint": "Fill masked regions", "colorize": "Colorize",
               "synthesize": "Synthesize from label maps"}
REL_ROLE = Qt.ItemDataRole.UserRole
OUTPUT_ROLE = Qt.ItemDataRole.UserRole + 1
MARK = "↻ "
IDLE_FILE_TEXT = "Current file: —"


def _pixmap(rgba: np.ndarray | None, edge: int = THUMB) -> QPixmap:
    """A THUMB-square tile with the image centred (a grey cross when there is none)."""
    tile = QPixmap(edge, edge)
    tile.fill(QColor(60, 60, 60))
    painter = QPainter(tile)
    if rgba is None:
        painter.setPen(QColor(200, 80, 80))
        painter.drawLine(16, 16, edge - 16, edge - 16)
        painter.drawLine(edge - 16, 16, 16, edge - 16)
    else:
        h, w = rgba.shape[:2]
        img = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        painter.drawImage((edge - w) // 2, (edge - h) // 2, img)
    painter.end()
    return tile


def short_reason(message: str, limit: int = 34) -> str:
    """The reason part of "Cannot open a.png: the file is empty", cut to fit under a thumbnail."""
    reason = message.split(": ", 1)[1] if ": " in message else message
    return reason if len(reason) <= limit else reason[: limit - 1].rstrip() + "…"


def before_after_icon(before: np.ndarray | None, after: np.ndarray | None) -> QIcon:
    pair = QPixmap(THUMB * 2 + 4, THUMB)
    pair.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pair)
    painter.drawPixmap(0, 0, _pixmap(before))
    painter.drawPixmap(THUMB + 4, 0, _pixmap(after))
    painter.end()
    return QIcon(pair)


class _Folder(QWidget):
    """A line edit with a Browse… button."""

    def __init__(self, title: str, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self.pick)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse)

    def pick(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.title, self.edit.text())
        if folder:
            self.edit.setText(folder)

    def path(self) -> Path | None:
        text = self.edit.text().strip()
        return Path(text) if text else None


class BatchDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, open_file: Callable[[str], object] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("BatchDialog")
        self.setWindowTitle("Batch — GAN Studio")
        self.open_file = open_file
        self.worker: BatchWorker | None = None
        self._started = 0.0
        self._kept = 0
        self._total = 0
        self._build()
        self._task_changed()
        self._set_running(False)
        self.resize(760, 680)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.input = _Folder("Folder of photos", "photos to process (never modified)")
        self.output = _Folder("Output folder", "results go here, with a journal to resume")
        self.masks = _Folder("Folder of masks", "one mask per photo, same name (white = fill)")
        self.task = QComboBox()
        for task in TASKS:
            installed = bool(engines_for(task))
            label = TASK_TITLES.get(task.value, task.value.title())
            self.task.addItem(label if installed else f"{label} (no engine installed yet)", task.value)
            if not installed:
                self.task.model().item(self.task.count() - 1).setEnabled(False)
        self.task.currentIndexChanged.connect(self._task_changed)
        self.model = QComboBox()
        self.scale = QSpinBox()
        self.scale.setRange(2, 8)
        self.scale.setValue(4)
        self.scale.setPrefix("×")
        self.scale.setMaximumWidth(90)
        self.format = QComboBox()
        for fmt in FORMATS:
            self.format.addItem("Same as input" if fmt == "keep" else fmt.upper(), fmt)
        self.quality = QSpinBox()
        self.quality.setRange(1, 100)
        self.quality.setValue(95)
        self.recursive = QCheckBox("Include sub-folders")
        self.overwrite = QCheckBox("Replace existing files")
        self.overwrite.setToolTip("Off: a name already taken by another file gets -1, -2…")
        self.jobs = QSpinBox()
        self.jobs.setRange(1, 16)
        self.jobs.setToolTip("Files read and written in parallel (networks still run one at a time)")
        # Cluster (issue 23): off by default; Ray is imported only when a cluster run starts
        self.cluster = QCheckBox("Ray cluster:")
        self.cluster.setToolTip("Process the files on Ray workers (needs the cluster extra: "
                                "pip install 'ganstudio[cluster]'); this editor still writes the output folder")
        self.cluster_address = QLineEdit("ray")
        self.cluster_address.setPlaceholderText("ray (this machine) · ray:auto · ray:HOST:PORT")
        self.cluster_address.setEnabled(False)
        self.cluster.toggled.connect(self.cluster_address.setEnabled)

        form = QFormLayout()
        form.addRow("Photos:", self.input)
        form.addRow("Output:", self.output)
        form.addRow("Task:", self.task)
        form.addRow("Model:", self.model)
        form.addRow("Scale:", self.scale)
        form.addRow("Masks:", self.masks)
        fmt_row = QHBoxLayout()
        fmt_row.addWidget(self.format)
        fmt_row.addWidget(QLabel("Quality:"))
        fmt_row.addWidget(self.quality)
        fmt_row.addStretch(1)
        form.addRow("Format:", fmt_row)
        opts = QHBoxLayout()
        opts.addWidget(self.recursive)
        opts.addWidget(self.overwrite)
        opts.addWidget(QLabel("Parallel files:"))
        opts.addWidget(self.jobs)
        opts.addStretch(1)
        form.addRow("", opts)
        cluster_row = QHBoxLayout()
        cluster_row.addWidget(self.cluster)
        cluster_row.addWidget(self.cluster_address, 1)
        form.addRow("Cluster:", cluster_row)
        self._form = form

        self.file_label = QLabel(IDLE_FILE_TEXT)
        self.file_label.setObjectName("batch_file_label")
        self.file_bar = QProgressBar()
        self.file_bar.setRange(0, 1000)
        self.file_bar.setTextVisible(False)
        self.overall_label = QLabel("Choose a folder of photos and an output folder.")
        self.overall_label.setObjectName("batch_overall_label")
        self.overall_bar = QProgressBar()
        self.overall_bar.setFormat("%v / %m")
        self.start = QPushButton("Start")
        self.start.setDefault(True)
        self.start.clicked.connect(self.start_run)
        self.pause = QPushButton("Pause")
        self.pause.setCheckable(True)
        self.pause.toggled.connect(self.set_paused)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancel_run)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.start, self.pause, self.cancel):
            buttons.addWidget(b)
        progress = QVBoxLayout()
        progress.addWidget(self.file_label)
        progress.addWidget(self.file_bar)
        progress.addWidget(self.overall_label)
        progress.addWidget(self.overall_bar)
        progress.addLayout(buttons)

        self.gallery = QListWidget()
        self.gallery.setObjectName("batch_gallery")
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(THUMB * 2 + 4, THUMB))
        self.gallery.setGridSize(QSize(THUMB * 2 + 24, THUMB + 44))
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setWordWrap(True)
        self.gallery.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.gallery.itemDoubleClicked.connect(self.open_item)
        self.gallery.itemSelectionChanged.connect(self._update_review_buttons)
        self.open_button = QPushButton("Open in editor")
        self.open_button.clicked.connect(self.open_selected)
        self.mark_button = QPushButton("Mark to redo")
        self.mark_button.clicked.connect(self.toggle_marks)
        self.redo_button = QPushButton("Redo marked")
        self.redo_button.clicked.connect(self.redo_marked)
        review_buttons = QHBoxLayout()
        review_buttons.addWidget(QLabel("Before | after — double-click opens the result"))
        review_buttons.addStretch(1)
        for b in (self.open_button, self.mark_button, self.redo_button):
            review_buttons.addWidget(b)
        review = QGroupBox("Review")
        rv = QVBoxLayout(review)
        rv.addWidget(self.gallery, 1)
        rv.addLayout(review_buttons)

        settings = QGroupBox("Settings")
        settings.setLayout(form)
        self.settings_box = settings
        root = QVBoxLayout(self)
        root.addWidget(settings)
        root.addLayout(progress)
        root.addWidget(review, 1)
        self._update_review_buttons()

    def _task_changed(self, *_: object) -> None:
        task = self.task.currentData()
        self.model.clear()  # another task: no previous choice to keep
        fill_model_combo(self.model, engines_for(task))
        spec = TASKS[next(t for t in TASKS if t.value == task)]
        self._form.setRowVisible(self.scale, "scale" in spec.params)
        self._form.setRowVisible(self.masks, bool(spec.side_input))

    # ------------------------------------------------------------------ running
    def options(self) -> BatchOptions:
        return BatchOptions(
            task=self.task.currentData(), model=self.model.currentData() or "default",
            scale=self.scale.value(), masks=self.masks.path(), recursive=self.recursive.isChecked(),
            format=self.format.currentData(), quality=self.quality.value(),
            overwrite=self.overwrite.isChecked(), jobs=self.jobs.value(),
            device=getattr(getattr(self.parent(), "runner", None), "device", "auto"),  # Preferences
        )

    def make_run(self, src: Path, out: Path, redo: set[str]) -> BatchRun:
        """A plain run, or with *Cluster* checked one on Ray actors (raises BatchUsageError)."""
        if not self.cluster.isChecked():
            return BatchRun(src, out, self.options(), redo=redo)
        from engines.batch.cluster import ClusterBatchRun, parse_cluster

        return ClusterBatchRun(src, out, self.options(), redo=redo,
                               address=parse_cluster(self.cluster_address.text()))

    def start_run(self, redo: set[str] | None = None) -> bool:
        """Check the settings and start; False (with the reason shown) when it can't start."""
        if self.worker is not None:
            return False
        src, out = self.input.path(), self.output.path()
        if src is None or out is None:
            self._show_problem("Choose a folder of photos and an output folder.")
            return False
        try:
            run = self.make_run(src, out, set(redo or ()))
            items = run.prepare()
        except BatchUsageError as exc:
            self._show_problem(str(exc))
            return False
        if not items:
            self._show_problem(f"No images in {src}" + ("" if self.recursive.isChecked() else " (sub-folders not included)."))
            return False
        if not redo:
            self.gallery.clear()
        self._total, self._kept, self._started = len(items), 0, time.monotonic()
        self.overall_bar.setRange(0, len(items))
        self.overall_bar.setValue(0)
        self.worker = BatchWorker(run, self)
        # bound methods: Qt disconnects them when the dialog goes away
        self.worker.event.connect(self._on_event)
        self.worker.thumbnails.connect(self._on_thumbnails)
        self.worker.summary.connect(self._on_summary)
        self.worker.error.connect(self._show_problem)
        self.worker.finished.connect(self._on_worker_finished)
        self._set_running(True)
        self.worker.start()
        return True

    def set_paused(self, paused: bool) -> None:
        if self.worker is None:
            return
        if paused:
            self.worker.pause()
            self.pause.setText("Resume")
            self.overall_label.setText(self.overall_label.text() + " — paused")
        else:
            self.worker.resume()
            self.pause.setText("Pause")

    def cancel_run(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.overall_label.setText("Cancelling…")

    def wait_finished(self, timeout_ms: int = 30000) -> bool:
        return self.worker is None or self.worker.wait(timeout_ms)

    def _set_running(self, running: bool) -> None:
        self.settings_box.setEnabled(not running)
        self.start.setEnabled(not running)
        self.pause.setEnabled(running)
        self.cancel.setEnabled(running)
        if not running:
            self.pause.blockSignals(True)
            self.pause.setChecked(False)
            self.pause.setText("Pause")
            self.pause.blockSignals(False)
        self._update_review_buttons()

    def _show_problem(self, message: str) -> None:
        self.overall_label.setText(message)
        self.overall_label.setStyleSheet("color: #c0392b;")

    def _on_event(self, ev) -> None:
        self.overall_label.setStyleSheet("")
        if ev.kind == "plan":
            if ev.notes:
                self.file_label.setText("; ".join(ev.notes))
            return
        if ev.kind == "kept":
            self._kept += 1
        if ev.kind in ("start", "progress"):
            self.file_label.setText(display(f"Current file: {ev.rel}" + (f" — {ev.message}" if ev.message else "")))
            self.file_bar.setValue(int(ev.fraction * 1000))
        else:
            self.file_bar.setValue(0)
            self._add_result(ev)
        self.overall_bar.setValue(ev.finished)
        self.overall_label.setText(self._overall_text(ev.finished, ev.fraction if ev.kind == "progress" else 0.0))

    def _overall_text(self, finished: int, fraction: float) -> str:
        processed = finished - self._kept + fraction
        text = f"{finished} of {self._total} files"
        if processed > 0 and finished < self._total:
            per_file = (time.monotonic() - self._started) / processed
            text += f" — about {format_duration(per_file * (self._total - finished - fraction))} left"
        return text

    def _item_for(self, rel: str) -> QListWidgetItem | None:
        for i in range(self.gallery.count()):
            item = self.gallery.item(i)
            if item.data(REL_ROLE) == rel:
                return item
        return None

    def _add_result(self, ev) -> None:
        # Names that are not UTF-8 cannot live in a QString: keys go through to_qt (lossless),
        # text through display (\xNN)
        item = self._item_for(to_qt(ev.rel))
        if item is None:
            item = QListWidgetItem(before_after_icon(None, None), "")
            item.setData(REL_ROLE, to_qt(ev.rel))
            self.gallery.addItem(item)
        failed = ev.kind == "failed"
        item.setText(display(f"{ev.rel}\n{short_reason(ev.message)}" if failed else ev.rel))
        item.setData(OUTPUT_ROLE, None if failed else to_qt(str(ev.output)))
        item.setForeground(QBrush(QColor("#c0392b")) if failed else QBrush())
        tip = f"{ev.rel}\n{ev.message}" if failed else f"{ev.rel}\n→ {ev.output}"
        if ev.notes:
            tip += "\n" + "\n".join(ev.notes)
        item.setToolTip(display(tip))

    def _on_thumbnails(self, rel: str, before, after) -> None:
        item = self._item_for(rel)
        if item is not None:
            item.setIcon(before_after_icon(before, after if item.data(OUTPUT_ROLE) else None))

    def _on_summary(self, summary) -> None:
        parts = [f"{len(summary.done)} done"]
        if summary.kept:
            parts.append(f"{len(summary.kept)} kept from an earlier run")
        if summary.failed:
            parts.append(f"{len(summary.failed)} failed")
        text = ", ".join(parts) + f" of {summary.total}."
        if summary.cancelled:
            text = "Cancelled: " + text + " Start again to resume."
        if summary.stopped:
            text += f" Stopped: {summary.stopped}."
        self.overall_label.setText(text)
        self.overall_label.setStyleSheet("color: #c0392b;" if summary.failed or summary.stopped else "")
        self.file_label.setText(IDLE_FILE_TEXT)
        self.last_summary = summary

    def _on_worker_finished(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.deleteLater()
        self._set_running(False)

    # ------------------------------------------------------------------ review
    def _update_review_buttons(self) -> None:
        selected = self.gallery.selectedItems()
        self.open_button.setEnabled(any(i.data(OUTPUT_ROLE) for i in selected) and self.open_file is not None)
        self.mark_button.setEnabled(bool(selected))
        self.redo_button.setEnabled(bool(self.marked()) and self.worker is None)

    def marked(self) -> set[str]:
        return {from_qt(self.gallery.item(i).data(REL_ROLE)) for i in range(self.gallery.count())
                if self.gallery.item(i).text().startswith(MARK)}

    def toggle_marks(self) -> None:
        for item in self.gallery.selectedItems():
            text = item.text()
            item.setText(text[len(MARK):] if text.startswith(MARK) else MARK + text)
        self._update_review_buttons()

    def redo_marked(self) -> bool:
        """Run again for the marked files only (their results are replaced; the rest are kept)."""
        marked = self.marked()
        return bool(marked) and self.start_run(redo=marked)

    def open_item(self, item: QListWidgetItem) -> None:
        output = item.data(OUTPUT_ROLE)
        if output and self.open_file is not None:
            self.open_file(from_qt(output))

    def open_selected(self) -> None:
        for item in self.gallery.selectedItems():
            if item.data(OUTPUT_ROLE):
                self.open_item(item)
                return

    # ------------------------------------------------------------------ life cycle
    def stop(self) -> None:
        """Cancel a running batch and wait for its thread (files done so far stay done)."""
        if self.worker is not None:
            self.worker.cancel()
            self.worker.wait(30000)

    def closeEvent(self, event) -> None:
        self.stop()
        super().closeEvent(event)


def show_batch_dialog(window) -> BatchDialog:
    """Open (or raise) the main window's Batch dialog; results open in the window's editor."""
    dialog = getattr(window, "batch_dialog", None)
    if dialog is None:
        dialog = window.batch_dialog = BatchDialog(window, open_file=window.open_path)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog
