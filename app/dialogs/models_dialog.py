"""Engines ▸ Models…: the model manager in a dialog (download, import, verify, remove, open folder).

Downloads, imports and verification run on a :class:`ModelJob` thread (never the UI thread, never
the accelerator's JobRunner: a network transfer must not hold up an upscale). The job iterates the
same generators as ``ganstudio models`` and reports through queued signals; Cancel sets its token,
which the download checks between chunks (the partial file is kept and the next Download resumes).
Errors are shown in the dialog, never raised into Qt.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Callable, Generator

from PySide6.QtCore import Qt, QThread, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QMenu, QMessageBox,
    QProgressBar, QPushButton, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget,
)

from engines.core.cancel import Cancelled, CancelToken
from engines.core.protocol import EngineError, Progress

log = logging.getLogger(__name__)

COLUMNS = ("Model", "Task", "State", "Size", "Licence", "Source")
STATE_TEXT = {"bundled": "bundled", "installed": "installed", "corrupt": "corrupt", "missing": "file missing",
              "partial": "partial download", "available": "available", "manual": "manual import"}
TASK_TEXT = {"upscale": "Super-resolution", "inpaint": "Inpainting", "colorize": "Colorization",
             "synthesize": "Semantic synthesis", "latent": "Latent editing"}


def _short_license(text: str) -> str:
    """The licence's name only (``MIT``, ``BSD-3-Clause``); the full text is in the tooltip."""
    return text.split(";")[0].split(" (")[0].strip() or "unknown"


def _short_source(url: str) -> str:
    """The publisher (``github.com/xinntao/Real-ESRGAN``) rather than the whole address (in the tooltip)."""
    if "://" not in url:
        return url
    parts = url.split("://", 1)[1].split("#")[0].split("/")
    return "/".join(parts[:3]) if parts[0] == "github.com" else parts[0]


class ModelJob(QThread):
    """Runs ``work(cancel)`` -- a generator of Progress returning a value -- off the UI thread.

    Signals (delivered queued on the UI thread): ``progress(done, total, message)``, then exactly
    one of ``succeeded(value)``, ``failed(message)`` or ``cancelled()``.
    """

    progress = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    RATE_S = 0.05  # at most ~20 progress signals a second reach the UI

    def __init__(self, label: str, work: Callable[[CancelToken], Generator[Progress, None, Any]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = label
        self.work = work
        from engines.models.download import AbortToken

        self.token: CancelToken = AbortToken()  # cancel also interrupts a blocked network read

    def cancel(self) -> None:
        self.token.cancel()

    def run(self) -> None:  # the worker thread
        last = 0.0
        try:
            gen = self.work(self.token)
            while True:
                try:
                    p = next(gen)
                except StopIteration as stop:
                    value = stop.value
                    break
                now = time.monotonic()
                if now - last >= self.RATE_S:
                    last = now
                    self.progress.emit(int(min(p.done, 2**31 - 1)), int(min(p.total, 2**31 - 1)), p.message)
        except Cancelled:
            self.cancelled.emit()
            return
        except EngineError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # a bug must reach the user as a message, not kill the editor
            log.exception("model job %s failed", self.label)
            self.failed.emit(f"{type(exc).__name__}: {exc}")
            return
        self.succeeded.emit(value)


class ModelsDialog(QDialog):
    """The table of models with Download / Import… / Remove / Verify / Open folder, progress and Cancel.

    ``models_changed`` is emitted after an install or a removal, once the engine registry has been
    refreshed (the Engines dock rebuilds its model lists on it).
    """

    models_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ModelsDialog")
        self.setWindowTitle("Models")
        self.resize(1120, 540)
        self.job: ModelJob | None = None
        self.rows: list = []
        self._verify_failed: dict[str, str] = {}

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("models_table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        fixed, fit = QHeaderView.ResizeMode.Interactive, QHeaderView.ResizeMode.ResizeToContents
        for col, mode in enumerate((fixed, fit, fit, fit, fixed, QHeaderView.ResizeMode.Stretch)):
            header.setSectionResizeMode(col, mode)
        self.table.setColumnWidth(0, 330)
        self.table.setColumnWidth(4, 170)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(self._double_clicked)

        self.details = QLabel("")
        self.details.setObjectName("models_details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setMinimumHeight(44)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self.download_selected)
        self.import_button = QToolButton()
        self.import_button.setText("Import…")
        self.import_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.import_button)
        menu.addAction("Weights file (.pth, .safetensors)…", self._import_file_dialog)
        menu.addAction("ncnn folder (.param + .bin)…", self._import_folder_dialog)
        self.import_button.setMenu(menu)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.verify_button = QPushButton("Verify")
        self.verify_button.setToolTip("Re-check every installed file against the sha256 on its card")
        self.verify_button.clicked.connect(self.verify_all)
        self.folder_button = QPushButton("Open folder")
        self.folder_button.clicked.connect(self.open_folder)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)

        self.status = QLabel("")
        self.status.setObjectName("models_status")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_job)

        buttons = QHBoxLayout()
        for w in (self.download_button, self.import_button, self.remove_button, self.verify_button,
                  self.folder_button):
            buttons.addWidget(w)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        busy = QHBoxLayout()
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addLayout(buttons)
        layout.addLayout(busy)
        layout.addWidget(self.status)
        self._set_busy(False)
        self.reload()

    # ------------------------------------------------------------------ table
    def reload(self) -> None:
        """Re-read the catalog and the store (cheap: JSON cards and file sizes only)."""
        from engines.models import model_rows

        selected = self.selected_id()
        try:
            self.rows = model_rows()
        except EngineError as exc:
            self.rows = []
            self._show_error(str(exc))
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            state = "corrupt" if r.id in self._verify_failed else r.state
            cells = (r.title if r.title and r.title != r.id else r.id, TASK_TEXT.get(r.task.value, r.task.value),
                     STATE_TEXT.get(state, state), r.size_text, _short_license(r.license), _short_source(r.source))
            tips = (f"{r.id}\n{r.note}", cells[1], r.note or cells[2], cells[3], r.license, r.source)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(tips[col])
                if col == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if col == 2 and state in ("corrupt", "missing"):
                    item.setForeground(Qt.GlobalColor.red)
                self.table.setItem(i, col, item)
            self.table.item(i, 0).setData(Qt.ItemDataRole.UserRole, r.id)
        ids = [r.id for r in self.rows]
        self.table.selectRow(ids.index(selected) if selected in ids else 0)
        self._selection_changed()

    def selected_row(self):
        items = self.table.selectedItems()
        if not items:
            return None
        row = items[0].row()
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def selected_id(self) -> str | None:
        r = self.selected_row() if self.rows else None
        return r.id if r is not None else None

    def select(self, model_id: str) -> bool:
        for i, r in enumerate(self.rows):
            if r.id == model_id:
                self.table.selectRow(i)
                return True
        return False

    def _selection_changed(self) -> None:
        r = self.selected_row()
        if r is None:
            self.details.setText("")
        else:
            problem = self._verify_failed.get(r.id)
            text = f"<b>{r.id}</b> — {r.note}" if r.note else f"<b>{r.id}</b>"
            if problem:
                text += f"<br><span style='color:#c0392b'>Verify: {problem}</span>"
            if r.entry is not None and r.entry.description:
                text += f"<br>{r.entry.description}"
            self.details.setText(text)
        self._update_buttons()

    def _double_clicked(self, item) -> None:
        r = self.selected_row()
        if r is not None and r.state in ("available", "partial"):
            self.download_selected()

    def _update_buttons(self) -> None:
        r = self.selected_row()
        idle = self.job is None
        self.download_button.setEnabled(idle and r is not None and r.state in ("available", "partial", "corrupt", "missing")
                                        and r.entry is not None and r.entry.downloadable)
        self.download_button.setText("Resume download" if r is not None and r.state == "partial" else "Download")
        self.remove_button.setEnabled(idle and r is not None and (r.installed is not None or r.state == "partial"))
        self.import_button.setEnabled(idle)
        self.verify_button.setEnabled(idle)

    # ------------------------------------------------------------------ actions
    def download_selected(self) -> bool:
        r = self.selected_row()
        if r is None or self.job is not None:
            return False
        if r.entry is None or not r.entry.downloadable:
            self._show_error(f"{r.id} has no direct download. {r.note}")
            return False
        from engines.models import download

        model_id = r.id
        return self._start(f"Downloading {model_id}", lambda token: download(model_id, cancel=token),
                           self._installed)

    def import_path(self, path: str | Path, model_id: str | None = None) -> bool:
        """Import a weights file or an ncnn folder (what Import… does once a path is chosen)."""
        if self.job is not None:
            return False
        from engines.models import import_path

        p = Path(path)
        return self._start(f"Importing {p.name}", lambda token: import_path(p, model_id, cancel=token),
                           self._installed)

    def _import_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import model weights", "",
                                              "Weights (*.safetensors *.pth *.pt *.ckpt *.bin);;All files (*)")
        if path:
            self.import_path(path)

    def _import_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Import an ncnn model folder")
        if path:
            self.import_path(path)

    def remove_selected(self) -> bool:
        r = self.selected_row()
        if r is None or self.job is not None or (r.installed is None and r.state != "partial"):
            return False
        answer = QMessageBox.question(self, "Remove model", f"Delete {r.id} from {r.installed.path.parent if r.installed else 'the downloads'}?",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return False
        from engines.models import refresh_engines, remove

        try:
            remove(r.id)
            refresh_engines()
        except (EngineError, OSError) as exc:
            self._show_error(f"Could not remove {r.id}: {exc}")
            return False
        self._verify_failed.pop(r.id, None)
        self._show_info(f"Removed {r.id}.")
        self.reload()
        self.models_changed.emit()
        return True

    def verify_all(self) -> bool:
        if self.job is not None:
            return False
        from engines.models import verify

        def work(token: CancelToken):
            yield Progress(0, 1, "checking sha256 of the installed files")
            return verify(cancel=token)

        return self._start("Verifying", work, self._verified)

    def open_folder(self) -> None:
        from engines.models import open_folder_path

        r = self.selected_row()
        folder = open_folder_path(r.task if r is not None and r.state != "bundled" else None)
        if r is not None and r.state == "bundled" and r.entry is not None and r.entry.path is not None:
            folder = r.entry.path.parent
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
        self._show_info(f"Folder: {folder}")

    def cancel_job(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Cancelling…")

    # ------------------------------------------------------------------ job plumbing
    def _start(self, label: str, work, on_success) -> bool:
        job = ModelJob(label, work, self)
        job.progress.connect(self._job_progress)
        job.succeeded.connect(on_success)
        job.failed.connect(self._job_failed)
        job.cancelled.connect(self._job_cancelled)
        job.finished.connect(self._job_finished)
        self.job = job
        self.progress.setValue(0)
        self.progress.setFormat(label)
        self._show_info(f"{label}…")
        self._set_busy(True)
        job.start()
        return True

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self._update_buttons()

    def _job_progress(self, done: int, total: int, message: str) -> None:
        label = self.job.label if self.job is not None else ""
        if total > 1:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(1.0, done / total)))
            self.progress.setFormat(f"{label}: {done / 1e6:.1f} / {total / 1e6:.1f} MB  %p%")
        else:  # unknown length: a busy indicator
            self.progress.setRange(0, 0)
            self.progress.setFormat(f"{label}: {done / 1e6:.1f} MB {message}")

    def _installed(self, value) -> None:
        from engines.models import refresh_engines

        models = value if isinstance(value, list) else [value]
        refresh_engines()
        for m in models:
            self._verify_failed.pop(m.id, None)
        names = ", ".join(f"{m.id} ({m.data.get('arch', '?')}, {m.data.get('sha256_origin', '')})" for m in models)
        self._show_info(f"Installed {names}.")
        self.reload()
        if models:
            self.select(models[0].id)
        self.models_changed.emit()

    def _verified(self, results) -> None:
        self._verify_failed = {r.id: r.message for r in results if not r.ok}
        if not results:
            self._show_info("No installed models to verify (bundled models ship with the program).")
        elif self._verify_failed:
            self._show_error("Verify: " + "; ".join(f"{k}: {v}" for k, v in self._verify_failed.items()))
        else:
            self._show_info(f"Verify: all {len(results)} installed file(s) match their sha256.")
        self.reload()

    def _job_failed(self, message: str) -> None:
        self._show_error(message)
        self.reload()

    def _job_cancelled(self) -> None:
        self._show_info("Cancelled. A partial download is kept: Download resumes it.")
        self.reload()

    def _job_finished(self) -> None:
        job, self.job = self.job, None
        if job is not None:
            job.deleteLater()
        self.progress.setRange(0, 1000)
        self._set_busy(False)

    def _show_error(self, message: str) -> None:
        log.info("models dialog: %s", message)
        self.status.setStyleSheet("color: #c0392b;")
        self.status.setText(message)

    def _show_info(self, message: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(message)

    # ------------------------------------------------------------------ life cycle
    def wait_idle(self, timeout_ms: int = 30000) -> bool:
        """Block until the running job (if any) ends and its signals were handled (tests, close)."""
        from PySide6.QtCore import QCoreApplication, QDeadlineTimer

        deadline = QDeadlineTimer(timeout_ms)
        while self.job is not None and not deadline.hasExpired():
            self.job.wait(50)
            QCoreApplication.processEvents()
        return self.job is None

    def done(self, result: int) -> None:  # close / Esc: stop a running download first
        if self.job is not None:
            self.job.cancel()
            self.job.wait(10000)
        super().done(result)

    def closeEvent(self, event) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job.wait(10000)
        super().closeEvent(event)
