"""Tool options: brush size, hardness and opacity of the current tool, bound to ToolState.

Only the settings the current tool reads are shown (``Tool.options``): the hint, label and shape
tools have no hardness or opacity; a tool without settings shows how it is used instead."""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QFormLayout, QLabel, QVBoxLayout, QWidget

from ..tools.base import Tool

from ..tools.toolstate import MAX_SIZE, MIN_SIZE, ToolState
from ..widgets.slider_spin import SliderSpin


def tool_title(tool_id: str) -> str:
    """"label_brush" -> "Label brush"."""
    return tool_id.replace("_", " ").replace("-", " ").strip().capitalize() or "No tool"


class ToolOptionsDock(QDockWidget):
    """Two-way binding: user edits call ToolState setters; ToolState signals update the widgets
    silently (``SliderSpin.set_value`` does not emit), so there is no feedback loop."""

    def __init__(self, state: ToolState, parent: QWidget | None = None):
        super().__init__("Tool Options", parent)
        self.setObjectName("ToolOptionsDock")  # saveState() needs a stable name
        self._state = state
        self._tools: dict[str, Tool] = {}

        self.tool_label = QLabel()
        font = self.tool_label.font()
        font.setBold(True)
        self.tool_label.setFont(font)
        self.size = SliderSpin(MIN_SIZE, MAX_SIZE, " px", log=True)
        self.hardness = SliderSpin(0, 100, " %")
        self.opacity = SliderSpin(0, 100, " %")
        self.size.setToolTip("Brush diameter in image pixels ( [ and ] change it)")
        self.hardness.setToolTip("Edge falloff: 100 % is a hard edge")
        self.opacity.setToolTip("How much one stroke covers: 100 % replaces what is under it")
        self.help = QLabel()  # how the current tool is used (its tooltip), under its settings
        self.help.setObjectName("tool_help")
        self.help.setWordWrap(True)
        self.help.setStyleSheet("color: palette(mid);")

        self.form = form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Size", self.size)
        form.addRow("Hardness", self.hardness)
        form.addRow("Opacity", self.opacity)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.tool_label)
        layout.addLayout(form)
        layout.addWidget(self.help)
        layout.addStretch(1)
        self.setWidget(body)

        self.size.value_changed.connect(state.set_size)
        self.hardness.value_changed.connect(self._hardness_edited)
        self.opacity.value_changed.connect(self._opacity_edited)
        # Bound methods (not lambdas) so Qt drops the connections when the dock is deleted.
        state.size_changed.connect(self._show_size)
        state.hardness_changed.connect(self._show_hardness)
        state.opacity_changed.connect(self._show_opacity)
        state.tool_changed.connect(self._show_tool)

        self._show_size(state.size)
        self._show_hardness(state.hardness)
        self._show_opacity(state.opacity)
        self._show_tool(state.tool)

    # user -> state
    def _hardness_edited(self, percent: int) -> None:
        self._state.set_hardness(percent / 100)

    def _opacity_edited(self, percent: int) -> None:
        self._state.set_opacity(percent / 100)

    # state -> widgets (silent)
    def _show_size(self, size: int) -> None:
        self.size.set_value(size)

    def _show_hardness(self, value: float) -> None:
        self.hardness.set_value(round(value * 100))

    def _show_opacity(self, value: float) -> None:
        self.opacity.set_value(round(value * 100))

    def set_tools(self, tools: dict[str, Tool]) -> None:
        """The window's tool instances, so the dock knows which settings each one reads."""
        self._tools = dict(tools)
        self._show_tool(self._state.tool)

    def shown_options(self) -> tuple[str, ...]:
        return tuple(name for name in ("size", "hardness", "opacity") if self.form.isRowVisible(getattr(self, name)))

    def _show_tool(self, tool_id: str) -> None:
        tool = self._tools.get(tool_id)
        self.tool_label.setText(tool.title if tool is not None else tool_title(tool_id))
        # an unknown tool (no table yet) shows every setting rather than hiding one it might use
        used = tool.options if tool is not None else ("size", "hardness", "opacity")
        for name in ("size", "hardness", "opacity"):
            self.form.setRowVisible(getattr(self, name), name in used)
        tip = tool.tooltip if tool is not None else ""
        if tool is not None and not used:
            tip = f"No settings. {tip}"
        self.help.setText(tip)
        self.help.setVisible(bool(tip))
