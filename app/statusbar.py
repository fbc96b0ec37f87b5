"""Status bar: pixel position / colour / class / zoom, and the running job's progress with Cancel."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar, QWidget


class StatusBar(QStatusBar):
    cancel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.pixel = QLabel("")
        self.pixel.setMinimumWidth(260)
        self.zoom = QLabel("")
        self.zoom.setMinimumWidth(64)
        self.size_label = QLabel("")
        self.job_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(False)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Cancel the running job")
        self.cancel.clicked.connect(self.cancel_clicked)
        for w in (self.job_label, self.progress, self.cancel, self.size_label, self.pixel, self.zoom):
            self.addPermanentWidget(w)
        self.set_job(None)

    def set_cursor_info(self, info) -> None:
        if info is None:
            self.pixel.setText("")
            return
        x, y, (r, g, b), label = info
        text = f"x {x}  y {y}   RGB {r} {g} {b}  #{r:02x}{g:02x}{b:02x}"
        if label is not None:
            text += f"   class {label}"
        self.pixel.setText(text)

    def set_zoom(self, zoom: float) -> None:
        self.zoom.setText(f"{zoom * 100:.0f} %")

    def set_image_size(self, w: int | None, h: int | None = None, bits: int = 8) -> None:
        self.size_label.setText("" if w is None else f"{w} × {h}  {bits}-bit")

    def set_job(self, label: str | None, fraction: float = 0.0, message: str = "") -> None:
        """Show a running job (label) with its progress, or hide the job widgets (None)."""
        busy = label is not None
        self.job_label.setVisible(busy)
        self.progress.setVisible(busy)
        self.cancel.setVisible(busy)
        if busy:
            self.job_label.setText(f"{label}: {message}" if message else label)
            self.progress.setValue(int(fraction * 1000))
