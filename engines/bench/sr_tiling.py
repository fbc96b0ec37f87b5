"""``ganstudio bench sr-tiling``: how far a tiled upscale is from a whole-image run, per model.

A tiled run must not show seams: this upscales one square photo crop whole and tiled (several
overlaps) and reports max and mean |tiled - whole| in 1/255 units, and the seconds of each run.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..core.device import make_context
from ..core.protocol import UpscaleRequest, drive
from ..imageio import load_image
from ..paths import RESOURCES


@dataclass
class TilingRow:
    model: str
    size: int
    tile: int
    overlap: int
    max_diff_255: float
    mean_diff_255: float
    seconds_whole: float
    seconds_tiled: float


def sample_crop(size: int) -> np.ndarray:
    """The centre ``size`` square of the bundled astronaut photo (resized up if it is smaller)."""
    import cv2

    rgb = load_image(RESOURCES / "samples" / "astronaut.png").rgb
    h, w = rgb.shape[:2]
    if min(h, w) < size:
        f = size / min(h, w)
        rgb = cv2.resize(rgb, (int(np.ceil(w * f)), int(np.ceil(h * f))), interpolation=cv2.INTER_CUBIC)
        h, w = rgb.shape[:2]
    y, x = (h - size) // 2, (w - size) // 2
    return np.ascontiguousarray(rgb[y : y + size, x : x + size])


def measure(engine, model: str, image: np.ndarray, tile: int, overlaps: list[int], scale: int = 4) -> list[TilingRow]:
    ctx = make_context(engine.info)
    t = time.perf_counter()
    whole = drive(engine.run(UpscaleRequest(image, scale=scale, tile=max(image.shape[:2])), ctx)).image
    t_whole = time.perf_counter() - t
    rows = []
    for overlap in overlaps:
        t = time.perf_counter()
        tiled = drive(engine.run(UpscaleRequest(image, scale=scale, tile=tile, overlap=overlap), ctx)).image
        t_tiled = time.perf_counter() - t
        diff = np.abs(np.round(tiled * 255) - np.round(whole * 255))
        rows.append(TilingRow(model, image.shape[0], tile, overlap or -1, float(diff.max()), float(diff.mean()),
                              t_whole, t_tiled))
    return rows


def format_row(r: TilingRow) -> str:
    ov = "default" if r.overlap < 0 else str(r.overlap)
    return (f"{r.model:<28} {r.size:>5} {r.tile:>5} {ov:>8} {r.max_diff_255:>9.2f} {r.mean_diff_255:>10.4f} "
            f"{r.seconds_whole:>8.1f} {r.seconds_tiled:>8.1f}")


HEADER = (f"{'model':<28} {'size':>5} {'tile':>5} {'overlap':>8} {'max/255':>9} {'mean/255':>10} "
          f"{'whole s':>8} {'tiled s':>8}")


def write_json(rows: list[TilingRow], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"task": "sr-tiling", "rows": [asdict(r) for r in rows]}, indent=2))
