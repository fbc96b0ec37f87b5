"""Our own line icons (resources/icons/ui/*.svg, 24-px grid, drawn in ``currentColor``).

Each icon is rendered with the palette's text colour substituted for ``currentColor`` (and a
greyed colour for the disabled state), so one SVG stays legible in the light and the dark theme.
``themed_icon`` caches per (name, colours); after a theme change ``refresh_icons`` re-renders
every icon that was set through ``set_icon``.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from engines import paths

ICON_DIR = paths.RESOURCES / "icons" / "ui"
SIZES = (16, 24, 32, 48)  # 48 covers a 24-px toolbar at 200 %

# what each tool and main action shows (tool id / action id -> icon file name)
TOOL_ICONS = {
    "brush": "tool-brush", "eraser": "tool-eraser", "picker": "tool-picker", "mask": "tool-mask",
    "mask_rect": "tool-mask-rect", "mask_lasso": "tool-mask-lasso", "hint": "tool-hint",
    "label": "tool-label", "label_fill": "tool-label-fill", "label_rect": "tool-label-rect", "crop": "tool-crop",
}
ACTION_ICONS = {
    "open": "open", "save": "save", "save_as": "save-as", "export": "export", "batch": "batch",
    "undo": "undo", "redo": "redo", "zoom_in": "zoom-in", "zoom_out": "zoom-out", "fit": "fit",
    "actual": "actual", "compare": "compare", "upscale": "upscale", "fill": "fill", "colorize": "colorize",
    "synthesize": "generate", "synth_apply": "apply", "segment": "segment", "latent_project": "latent",
    "latent_edit": "latent", "latent_apply": "apply", "cancel_job": "cancel", "models": "models",
}
TASK_ICONS = {"fill": "fill", "upscale": "upscale", "colorize": "colorize", "synthesize": "synthesize", "latent": "latent"}


def icon_names() -> list[str]:
    return sorted(p.stem for p in ICON_DIR.glob("*.svg"))


@lru_cache(maxsize=None)
def _svg(name: str) -> str:
    path = ICON_DIR / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(f"no icon {name!r} in {ICON_DIR}")
    return path.read_text(encoding="utf-8")


def render(name: str, color: QColor | str, size: int, dpr: float = 1.0) -> QPixmap:
    """The icon ``name`` drawn in ``color`` on a transparent ``size`` x ``size`` (logical) pixmap."""
    color = QColor(color)
    text = _svg(name).replace("currentColor", color.name(QColor.NameFormat.HexRgb))
    renderer = QSvgRenderer(QByteArray(text.encode("utf-8")))
    if not renderer.isValid():
        raise ValueError(f"icon {name!r} is not a valid SVG")
    side = max(1, round(size * dpr))
    img = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    if color.alpha() < 255:
        p.setOpacity(color.alphaF())
    renderer.render(p, QRectF(0, 0, side, side))
    p.end()
    pm = QPixmap.fromImage(img)
    pm.setDevicePixelRatio(dpr)
    return pm


def _palette() -> QPalette:
    app = QGuiApplication.instance()
    return app.palette() if app is not None else QPalette()


@lru_cache(maxsize=256)
def _icon(name: str, normal: str, disabled: str, active: str) -> QIcon:
    icon = QIcon()
    for size in SIZES:
        icon.addPixmap(render(name, normal, size), QIcon.Mode.Normal, QIcon.State.Off)
        icon.addPixmap(render(name, disabled, size), QIcon.Mode.Disabled, QIcon.State.Off)
        # a checked tool button's text sits on the highlight in some styles
        icon.addPixmap(render(name, active, size), QIcon.Mode.Selected, QIcon.State.Off)
    return icon


def themed_icon(name: str, palette: QPalette | None = None) -> QIcon:
    """``name`` in the palette's button-text colour (greyed when disabled)."""
    pal = palette or _palette()
    normal = pal.color(QPalette.ColorGroup.Active, QPalette.ColorRole.ButtonText)
    disabled = pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText)
    if disabled == normal:
        disabled = QColor(normal)
        disabled.setAlphaF(0.4)
    active = pal.color(QPalette.ColorGroup.Active, QPalette.ColorRole.HighlightedText)
    return _icon(name, normal.name(QColor.NameFormat.HexArgb), disabled.name(QColor.NameFormat.HexArgb),
                 active.name(QColor.NameFormat.HexArgb))


ICON_PROPERTY = "ganstudio_icon"


def set_icon(target, name: str) -> None:
    """``target.setIcon(themed_icon(name))`` and tag it, so ``refresh_icons`` re-colours it later."""
    target.setIcon(themed_icon(name))
    target.setProperty(ICON_PROPERTY, name)


def refresh_icons() -> int:
    """Re-render every icon set through ``set_icon`` (in any top-level window) in the current
    palette, after a theme change; returns how many."""
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QApplication

    count = 0
    for top in QApplication.topLevelWidgets():
        for obj in [top, *top.findChildren(QObject)]:
            name = obj.property(ICON_PROPERTY)
            if name and hasattr(obj, "setIcon"):
                obj.setIcon(themed_icon(str(name)))
                count += 1
    return count


ICON_SIZE = QSize(24, 24)
