"""High-DPI (issue 22, part A): at a 200 % screen scale the canvas paints in device pixels, so
"100 %" puts one image pixel on one device pixel and a one-pixel checkerboard stays crisp.

QT_SCALE_FACTOR must be set before the QApplication exists, so the check runs in a fresh
interpreter (the test process already has a 100 % application).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, sys
import numpy as np
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.canvas.canvas import Canvas
from app.document.document import Document

img = np.zeros((64, 64, 3), np.float32)
yy, xx = np.mgrid[0:64, 0:64]
img[(yy + xx) % 2 == 1] = 1.0          # a one-pixel checkerboard: blurs to grey if resampled
c = Canvas()
c.resize(200, 160)
c.show()
c.set_document(Document(img))
c.actual_size()
zooms = []
c.zoom_changed.connect(zooms.append)
c.actual_size()
app.processEvents()
pm = c.grab()
qi = pm.toImage().convertToFormat(pm.toImage().Format.Format_RGB888)
w, h = qi.width(), qi.height()
buf = np.frombuffer(qi.constBits(), np.uint8).reshape(h, qi.bytesPerLine())[:, : w * 3].reshape(h, w, 3)
ox, oy = c.offset.x() * c.dpr(), c.offset.y() * c.dpr()
x0, y0 = int(round(ox)), int(round(oy))
shown = buf[y0 : y0 + 64, x0 : x0 + 64, 0].astype(int)
expect = (img[..., 0] * 255).astype(int)
print(json.dumps({"dpr": c.dpr(), "zoom": c.zoom, "emitted": zooms, "grab": [w, h],
                  "offset_device": [ox, oy], "max_err": int(np.abs(shown - expect).max()),
                  "shape": list(shown.shape)}))
"""


def _run(scale: str) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR=scale)
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_canvas_is_pixel_exact_at_200_percent():
    r = _run("2")
    assert r["dpr"] == 2.0
    assert r["zoom"] == 0.5  # logical pixels per image pixel; the screen shows 1 device pixel each
    assert r["emitted"] == [1.0]  # the status bar says 100 %
    assert r["grab"] == [400, 320]  # the grab is in device pixels
    assert r["offset_device"][0] == int(r["offset_device"][0]) and r["offset_device"][1] == int(r["offset_device"][1])
    assert r["shape"] == [64, 64]
    assert r["max_err"] <= 1  # every device pixel is its image pixel: no resampling


def test_canvas_is_pixel_exact_at_100_percent():
    r = _run("1")
    assert r["dpr"] == 1.0 and r["zoom"] == 1.0 and r["emitted"] == [1.0]
    assert r["max_err"] <= 1
