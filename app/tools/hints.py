"""Hint points: click to place a coloured point, drag to move it, right-click / Delete to remove,
double-click to give it the current colour. The colorization engine gives them meaning."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent

from ..document.commands import AddHintCommand, RemoveHintCommand, UpdateHintCommand
from .base import Tool, ToolEvent

GRAB_RADIUS_PX = 9  # screen pixels: easy to hit at any zoom


class HintTool(Tool):
    id, title, shortcut = "hint", "Hint points", "H"
    tooltip = "Place colour hints (drag to move, right-click or Delete removes, double-click recolours)"

    def __init__(self, ctx):
        super().__init__(ctx)
        self._dragging = None  # (original HintPoint) while a drag is in progress
        self.selected: int | None = None

    def _hit(self, e: ToolEvent):
        return self.doc.hint_at(e.x, e.y, GRAB_RADIUS_PX / self.ctx.canvas.zoom)

    def press(self, e: ToolEvent) -> None:
        doc = self.doc
        if doc is None:
            return
        hit = self._hit(e)
        if e.button == Qt.MouseButton.RightButton or (e.alt and e.button == Qt.MouseButton.LeftButton):
            if hit is not None:
                self.ctx.undo.push(RemoveHintCommand(doc, hit.id))
                self.selected = None
            return
        if e.button != Qt.MouseButton.LeftButton:
            return
        if not (0 <= e.x < doc.width and 0 <= e.y < doc.height):
            return
        if hit is not None:
            self._dragging = hit
            self.selected = hit.id
            return
        c = self.ctx.state.color
        hint = doc.new_hint(e.x, e.y, (c.redF(), c.greenF(), c.blueF()))
        self.ctx.undo.push(AddHintCommand(doc, hint))
        self.ctx.state.remember_color(c)
        self.selected = hint.id

    def move(self, e: ToolEvent) -> None:
        if self._dragging is not None:
            x = min(max(e.x, 0.0), self.doc.width - 0.01)
            y = min(max(e.y, 0.0), self.doc.height - 0.01)
            self.doc.update_hint(self._dragging.id, x=x, y=y)  # live; one undo item on release

    def release(self, e: ToolEvent) -> None:
        orig, self._dragging = self._dragging, None
        if orig is None:
            return
        now = next(h for h in self.doc.hints if h.id == orig.id)
        if (now.x, now.y) != (orig.x, orig.y):
            self.ctx.undo.push(UpdateHintCommand(self.doc, orig, now, "Move hint", applied=True))

    def double_click(self, e: ToolEvent) -> None:
        hit = self._hit(e) if self.doc is not None else None
        if hit is None:
            return
        c = self.ctx.state.color
        new = type(hit)(hit.id, hit.x, hit.y, (c.redF(), c.greenF(), c.blueF()), hit.size)
        if new != hit:
            self.ctx.undo.push(UpdateHintCommand(self.doc, hit, new, "Recolour hint"))

    def cancel(self, reason: str) -> None:
        orig, self._dragging = self._dragging, None
        if orig is not None:
            self.doc.update_hint(orig.id, x=orig.x, y=orig.y)

    def key_press(self, e: QKeyEvent) -> bool:
        if e.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selected is not None and self.doc is not None:
            if any(h.id == self.selected for h in self.doc.hints):
                self.ctx.undo.push(RemoveHintCommand(self.doc, self.selected))
            self.selected = None
            return True
        return False
