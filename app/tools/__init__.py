"""Canvas tools (interaction objects). ``TOOL_CLASSES`` is the order of the toolbar."""

from .base import Tool, ToolContext, ToolEvent
from .crop import CropTool
from .brush import BrushTool, EraserTool, LabelBrushTool, MaskBrushTool
from .fill import LabelFillTool
from .label_rect import LabelRectTool
from .hints import HintTool
from .picker import ColorPickerTool
from .selection import LassoMaskTool, RectMaskTool

TOOL_CLASSES = (
    BrushTool, EraserTool, ColorPickerTool, MaskBrushTool, RectMaskTool, LassoMaskTool,
    HintTool, LabelBrushTool, LabelFillTool, LabelRectTool, CropTool,
)

__all__ = ["TOOL_CLASSES", "Tool", "ToolContext", "ToolEvent"] + [c.__name__ for c in TOOL_CLASSES]
