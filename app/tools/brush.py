"""Stroke tools: brush, eraser, mask brush, label brush. One stroke = one undo item."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from ..canvas.painting import Compose, Stroke, erase_label, erase_to_zero, paint_color, paint_one, set_label
from ..document.commands import PatchCommand
from ..document.document import Layer
from .base import Tool, ToolEvent
from .toolstate import TARGET_TINTS


def mask_target_layer(state) -> Layer:
    """The layer the mask tools paint: the fill mask, or the sample-from area."""
    return Layer.SOURCE if getattr(state, "mask_target", "fill") == "source" else Layer.MASK


class StrokeTool(Tool):
    """Paints with a round dab of the shared size/hardness/opacity while the button is down."""

    layer = Layer.IMAGE
    uses_opacity = True
    uses_hardness = True

    @property
    def options(self) -> tuple[str, ...]:
        return ("size",) + ("hardness",) * self.uses_hardness + ("opacity",) * self.uses_opacity

    def __init__(self, ctx):
        super().__init__(ctx)
        self._stroke: Stroke | None = None
        self._secondary = False

    def compose(self, e: ToolEvent) -> Compose:  # pragma: no cover - abstract
        raise NotImplementedError

    def stroke_name(self) -> str:
        return self.title

    def _radius(self) -> float:
        return self.ctx.state.size / 2.0

    def press(self, e: ToolEvent) -> None:
        if self.doc is None or e.button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        if self._stroke is not None:  # a second button while painting: ignore
            return
        self._secondary = e.secondary
        opacity = self.ctx.state.opacity if self.uses_opacity else 1.0
        self._stroke = Stroke(self.doc, self.layer, self.compose(e), opacity)
        hardness = self.ctx.state.hardness if self.uses_hardness else 1.0
        self._stroke.dab(e.x, e.y, self._radius(), hardness)

    def move(self, e: ToolEvent) -> None:
        if self._stroke is not None:
            hardness = self.ctx.state.hardness if self.uses_hardness else 1.0
            self._stroke.line_to(e.x, e.y, self._radius(), hardness)

    def release(self, e: ToolEvent) -> None:
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return
        change = stroke.commit()
        if change is None:
            return
        rect, before, after = change
        # the stroke's own layer: the mask brush's target may have been switched while painting
        self.ctx.undo.push(PatchCommand(self.doc, stroke.layer, rect, before, after, self.stroke_name()))
        self.after_commit()

    def after_commit(self) -> None: ...

    def cancel(self, reason: str) -> None:
        stroke, self._stroke = self._stroke, None
        if stroke is not None:
            stroke.abort()
            self.ctx.status(f"{self.title}: stroke cancelled ({reason})")

    @property
    def painting(self) -> bool:
        return self._stroke is not None

    def outline_radius(self, canvas) -> float:
        return self._radius() * canvas.zoom

    def paint_overlay(self, p: QPainter, canvas) -> None:
        pos = canvas.last_mouse
        if pos is None:
            return
        r = max(1.5, self.outline_radius(canvas))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(0, 0, 0, 160), 1.5))
        p.drawEllipse(pos, r, r)
        p.setPen(QPen(QColor(255, 255, 255, 200), 1.0))
        p.drawEllipse(pos, r - 1, r - 1)


class BrushTool(StrokeTool):
    id, title, shortcut = "brush", "Brush", "B"
    tooltip = "Paint the photo with the current colour"

    def compose(self, e):
        color = self.ctx.state.color
        return paint_color((color.redF(), color.greenF(), color.blueF()))

    def after_commit(self) -> None:
        self.ctx.state.remember_color(self.ctx.state.color)


class EraserTool(StrokeTool):
    id, title, shortcut = "eraser", "Eraser", "E"
    layer = Layer.ALPHA
    tooltip = "Erase the photo to transparency"

    def compose(self, e):
        return erase_to_zero


class MaskBrushTool(StrokeTool):
    id, title, shortcut = "mask", "Mask brush", "M"
    tooltip = ("Paint the region to fill or edit (right button or Alt erases); Shift+M switches to "
               "painting the area a fill samples from")

    @property
    def layer(self) -> Layer:  # type: ignore[override]
        return mask_target_layer(self.ctx.state)

    def compose(self, e):
        return erase_to_zero if e.secondary else paint_one

    def stroke_name(self) -> str:
        what = "sample-from area" if self.layer == Layer.SOURCE else "mask"
        return f"Erase {what}" if self._secondary else f"Paint {what}"

    def paint_overlay(self, p: QPainter, canvas) -> None:
        pos = canvas.last_mouse
        if pos is None:
            return
        r = max(1.5, self._radius() * canvas.zoom)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(0, 0, 0, 160), 1.5))
        p.drawEllipse(pos, r, r)
        p.setPen(QPen(QColor(255, 255, 255, 200), 1.0))
        p.drawEllipse(pos, r - 1, r - 1)
        if self.ctx.state.mask_target == "source":
            # painting the sample-from area: a ring of its overlay colour says so at the cursor
            p.setPen(QPen(QColor(*TARGET_TINTS["source"]), 2.0))
            p.drawEllipse(pos, r + 2.5, r + 2.5)

    def outline_radius(self, canvas) -> float:
        # the extra ring of the sample-from mode is repainted with the outline as the cursor moves
        return self._radius() * canvas.zoom + (4 if self.ctx.state.mask_target == "source" else 0)


class LabelBrushTool(StrokeTool):
    id, title, shortcut = "label", "Label brush", "L"
    layer = Layer.LABELS
    uses_opacity = False
    uses_hardness = False
    tooltip = "Paint semantic classes (right button or Alt erases to unlabeled)"

    def compose(self, e):
        return erase_label if e.secondary else set_label(self.ctx.state.label)

    def stroke_name(self) -> str:
        return "Erase labels" if self._secondary else "Paint labels"
