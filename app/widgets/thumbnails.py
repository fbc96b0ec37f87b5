"""Thumbnails of float RGB images and the one-row lists of them that the task sections show
(candidates, variations), and a plain row of widgets for their forms."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QListView, QListWidget, QWidget


def thumbnail_pixmap(rgb: np.ndarray, size: int) -> QPixmap:
    """``rgb`` (float, 0..1, H x W x 3) scaled smoothly to fit ``size`` x ``size``."""
    u8 = np.ascontiguousarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    h, w = u8.shape[:2]
    qimg = QImage(u8.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(qimg).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation)


def thumbnail_list(size: int) -> QListWidget:
    """A list showing ``size`` px icons that reflow with its width and cannot be dragged about."""
    gallery = QListWidget()
    gallery.setViewMode(QListView.ViewMode.IconMode)
    gallery.setIconSize(QSize(size, size))
    gallery.setResizeMode(QListView.ResizeMode.Adjust)
    gallery.setMovement(QListView.Movement.Static)
    return gallery


def hrow(*widgets: QWidget | None) -> QHBoxLayout:
    """Widgets side by side; None = a stretch."""
    row = QHBoxLayout()
    for w in widgets:
        if w is None:
            row.addStretch(1)
        else:
            row.addWidget(w)
    return row
