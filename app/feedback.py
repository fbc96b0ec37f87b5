"""Honest feedback in the editor window (issue 22): the window builds one :class:`Feedback` and calls
it at two places (a photo opened; an edit that would drop the canvas preview). It

- shows an upscale *Preview view* at 100 % of the OUTPUT size (the view zooms to the scale,
  centred on the previewed region) with a banner on the canvas saying so;
- keeps the same part of the photo in view when the photo is scaled (Upscale, its undo / redo):
  the zoom is divided by the factor, the offset kept, so every point stays where it was on screen;
- warns before an upscale whose output exceeds ``LARGE_OUTPUT_MP`` megapixels (size, tiles, time
  estimate; Continue / Cancel);
- tells once that the Eraser cuts transparency into a photo whose format has none (JPEG, BMP): the
  eraser keeps erasing to transparency (what the canvas shows and PNG / WebP / TIFF keep), and a
  JPEG / BMP save flattens the erased areas onto white — said in the notice and after the save;
- resets the Engines panels when another photo opens, and lets the latent pad paint in the
  current colour (the Palette dock's swatches, the colour picker).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtWidgets import QLabel, QMessageBox

from .document.document import Document, Layer

if TYPE_CHECKING:
    from .mainwindow import MainWindow

LARGE_OUTPUT_MP = 100.0  # warn before an upscale whose output has more megapixels than this
NO_ALPHA_FORMATS = {"JPEG", "BMP", "MPO"}
# when no upscale of that model ran yet in this session: seconds per OUTPUT megapixel on the 2-core
# CPU this was written on (a 320 x 320 BSDS train crop, x4, torch 2 threads, second run): default /
# GAN Studio SR x4 11.6 s for 1.64 MP = 7.1 s/MP, Real-ESRGAN x4plus 141 s = 86 s/MP, bicubic
# 0.02 s/MP. Other networks get the default's figure (said to be rough in the warning).
MEASURED_S_PER_OUTPUT_MP = {"default": 7.1, "ganstudio-sr-x4": 7.1, "realesrgan-x4plus": 86.0}
FALLBACK_S_PER_OUTPUT_MP = {"network": 7.1, "classical": 0.05}
AUTO_TILE_GUESS = 512  # "auto" tiles are chosen from free memory at run time; 512 is typical on CPU


# ----------------------------------------------------------------------------- preview banner
class PreviewBanner(QLabel):
    """A line over the canvas's top-left corner that explains the preview shown; it hides itself
    as soon as the canvas no longer shows a preview (an edit, Upscale, another photo)."""

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.setObjectName("preview_banner")
        self.setWordWrap(True)
        self.setStyleSheet("background: rgba(20, 20, 24, 210); color: white; padding: 4px 8px; "
                           "border-radius: 4px;")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()
        canvas.installEventFilter(self)

    def show_text(self, text: str) -> None:
        self.setText(text)
        self.setMaximumWidth(max(200, self.canvas.width() - 24))
        self.adjustSize()
        self.move(12, 12)
        self.show()
        self.raise_()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.canvas and event.type() == QEvent.Type.Paint and self.isVisible():
            if getattr(self.canvas, "_preview", None) is None:
                self.hide()
        return False


def zoom_to_output(canvas, region: tuple[int, int, int, int], scale: int) -> float:
    """Zoom the view to ``scale`` (one output pixel of an ×``scale`` upscale = one screen pixel)
    and centre ``region`` (x, y, w, h, image pixels). Returns the zoom set."""
    from .canvas.canvas import MAX_ZOOM

    x, y, w, h = region
    d = _dpr(canvas)
    zoom = min(float(scale) / d, MAX_ZOOM)  # widget pixels per image pixel; scale device pixels
    cx, cy = x + w / 2, y + h / 2
    canvas.zoom = zoom
    # whole device pixels, so the output pixels land on screen pixels one to one
    canvas.offset = QPointF(round((canvas.width() / 2 - cx * zoom) * d) / d,
                            round((canvas.height() / 2 - cy * zoom) * d) / d)
    canvas._fitted = False
    _emit_zoom(canvas)
    canvas.update()
    return zoom * d


def _dpr(canvas) -> float:
    return canvas.dpr() if hasattr(canvas, "dpr") else 1.0


def _emit_zoom(canvas) -> None:
    if hasattr(canvas, "_emit_zoom"):
        canvas._emit_zoom()  # reports the device zoom ("100 %" = one image pixel per device pixel)
    else:
        canvas.zoom_changed.emit(canvas.zoom)


def output_preview_text(region: tuple[int, int, int, int], scale: int, zoom: float) -> str:
    _, _, w, h = region
    return (f"Upscale preview ×{scale}: {w} × {h} px of the photo as {w * scale} × {h * scale} output "
            f"pixels, shown at 100 % of the output (view zoom {zoom * 100:.0f} %). Nothing changed yet: "
            "Upscale applies it to the whole photo.")


# ----------------------------------------------------------------------------- large upscale
def large_upscale_text(width: int, height: int, scale: int, tile: int, seconds_per_mp: float | None,
                       measured: bool) -> str | None:
    """The warning for an upscale of a width x height photo, or None when the output is small enough."""
    ow, oh = width * scale, height * scale
    mp = ow * oh / 1e6
    if mp <= LARGE_OUTPUT_MP:
        return None
    edge = tile or AUTO_TILE_GUESS
    tiles = math.ceil(width / edge) * math.ceil(height / edge)
    tile_text = f"{tiles} tiles of {edge} px" if tile else f"about {tiles} tiles of {edge} px (tile size auto)"
    if seconds_per_mp:
        est = mp * seconds_per_mp
        how = "from this session's last run of this model" if measured else "rough figure for a 2-core CPU"
        time_text = f"about {est / 60:.0f} min ({how})" if est >= 90 else f"about {est:.0f} s ({how})"
    else:
        time_text = "unknown"
    memory_gb = ow * oh * 3 * 4 / 1e9  # the float32 result alone
    return (f"The upscaled photo will be {ow} × {oh} pixels ({mp:.0f} MP), more than {LARGE_OUTPUT_MP:.0f} MP.\n\n"
            f"Tiles: {tile_text}\nTime: {time_text}\nMemory: at least {memory_gb:.1f} GB for the result, "
            "more for the undo step.\n\nContinue?")


def confirm_large_upscale(parent, text: str) -> bool:
    """Continue / Cancel (Cancel is the default)."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Large upscale", text, parent=parent)
    go = box.addButton("Continue", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is go


# ----------------------------------------------------------------------------- the window's helper
class Feedback(QObject):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.w = window
        self.banner = PreviewBanner(window.canvas)
        self._eraser_told = False
        self._size: tuple[int, int] | None = None
        dock = window.engines_dock
        up = dock.upscale
        up.show_at_output = self.show_at_output
        up.confirm_large = lambda text: confirm_large_upscale(self.w, text)
        dock.latent.bind_colour(window.state)
        window.undo.indexChanged.connect(self._after_edit)

    # ---------------------------------------------------------------- a photo opened
    def document_opened(self, doc: Document | None) -> None:
        """Reset every panel that holds something of the last photo, and follow the new one's size."""
        dock = self.w.engines_dock
        for section in (dock.upscale, dock.synth, dock.latent):
            section.document_opened(doc)
        self.banner.hide()
        self._eraser_told = False
        self._size = None if doc is None else doc.size
        if doc is not None:
            doc.add_listener(lambda layer, rect, d=doc: self._doc_changed(d, layer))

    def keeps_preview(self) -> bool:
        """True while the canvas shows a preview that edits must not drop (the latent edit's, until
        Apply or Discard)."""
        return self.w.engines_dock.latent.holds_preview()

    # ---------------------------------------------------------------- upscale preview / view
    def show_at_output(self, region: tuple[int, int, int, int], scale: int) -> None:
        zoom = zoom_to_output(self.w.canvas, region, scale)
        self.banner.show_text(output_preview_text(region, scale, zoom))

    def _doc_changed(self, doc: Document, layer: Layer) -> None:
        if doc is not self.w.canvas.doc or layer != Layer.ALL:
            return
        old, new = self._size, doc.size
        self._size = new
        if old is None or old == new:
            return
        fx, fy = new[0] / old[0], new[1] / old[1]
        # only a uniform scale (Upscale, a resize that keeps the aspect, their undo): then every
        # photo point stays where it was on screen. A crop or canvas change is left alone.
        if abs(fx - fy) > 2.0 / min(old) or self.w.canvas._fitted:
            return
        canvas = self.w.canvas
        from .canvas.canvas import MAX_ZOOM, MIN_ZOOM

        canvas.zoom = max(MIN_ZOOM, min(MAX_ZOOM, canvas.zoom / fx))
        _emit_zoom(canvas)
        canvas.update()

    # ---------------------------------------------------------------- eraser on a JPEG
    def _after_edit(self, *_ignored) -> None:
        doc = self.w.canvas.doc
        if doc is None or self._eraser_told or doc.meta.had_alpha:
            return
        fmt = (doc.meta.format or "").upper()
        if fmt not in NO_ALPHA_FORMATS or not doc.has_transparency:
            return
        self._eraser_told = True
        text = (f"{fmt} files have no transparency. The Eraser erases to transparency here (the "
                f"checkerboard); saving as {fmt} flattens the erased areas onto white. Save As PNG, "
                "WebP or TIFF to keep them transparent.")
        self.w.status.showMessage(text, 10000)
        box = QMessageBox(QMessageBox.Icon.Information, "Transparency in a " + fmt, text,
                          QMessageBox.StandardButton.Ok, self.w)
        box.setObjectName("eraser_notice")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # not modal to the application: the user keeps working
        self.eraser_notice = box


__all__ = ["Feedback", "LARGE_OUTPUT_MP", "PreviewBanner", "confirm_large_upscale", "large_upscale_text",
           "output_preview_text", "zoom_to_output"]
