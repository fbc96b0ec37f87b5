"""Tools are interaction objects: the canvas forwards input, the tool edits the document through
undo commands. Each has start (press) / update (move) / end (release) / cancel(reason); Esc cancels
a stroke in progress and leaves the document as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QKeyEvent, QPainter, QUndoStack

if TYPE_CHECKING:
    from ..canvas.canvas import Canvas
    from ..document.document import Document
    from .toolstate import ToolState


@dataclass(frozen=True)
class ToolEvent:
    x: float  # image pixel coordinates (pixel centres at +0.5)
    y: float
    button: Qt.MouseButton
    buttons: Qt.MouseButton
    modifiers: Qt.KeyboardModifier
    widget_pos: QPointF

    @property
    def alt(self) -> bool:
        return bool(self.modifiers & Qt.KeyboardModifier.AltModifier)

    @property
    def secondary(self) -> bool:
        """Right button or Alt: the tool's opposite action (erase mask, remove hint...)."""
        return self.button == Qt.MouseButton.RightButton or bool(self.buttons & Qt.MouseButton.RightButton) or self.alt


@dataclass
class ToolContext:
    canvas: "Canvas"
    undo: QUndoStack
    state: "ToolState"
    status: Callable[[str], None] = lambda message: None

    @property
    def doc(self) -> "Document | None":
        return self.canvas.doc


class Tool:
    id = "tool"
    title = "Tool"
    shortcut = ""
    cursor = Qt.CursorShape.CrossCursor
    tooltip = ""

    @property
    def options(self) -> tuple[str, ...]:
        """Which ToolState settings the tool reads ("size", "hardness", "opacity"): the Tool
        Options dock shows only those."""
        return ()

    def __init__(self, ctx: ToolContext):
        self.ctx = ctx

    @property
    def doc(self) -> "Document | None":
        return self.ctx.doc

    # lifecycle --------------------------------------------------------------
    def activate(self) -> None:
        self.ctx.canvas.setCursor(self.cursor)

    def deactivate(self) -> None:
        self.cancel("tool changed")

    # input (start / update / end / cancel) ---------------------------------
    def press(self, e: ToolEvent) -> None: ...

    def move(self, e: ToolEvent) -> None: ...

    def release(self, e: ToolEvent) -> None: ...

    def double_click(self, e: ToolEvent) -> None: ...

    def cancel(self, reason: str) -> None: ...

    def key_press(self, e: QKeyEvent) -> bool:
        return False

    # drawing ----------------------------------------------------------------
    def outline_radius(self, canvas: "Canvas") -> float:
        return 0.0

    def paint_overlay(self, p: QPainter, canvas: "Canvas") -> None: ...
