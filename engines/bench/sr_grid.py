"""A side-by-side crop grid for SR: one row per image, columns LR (nearest) | each model | HR.

Crops are taken at the same place in every column (the HR crop's centre by default), so the
differences one sees are the models', not the framing.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from ..core.device import make_context
from ..core.protocol import UpscaleRequest, drive
from .sr import pairs, resolve_engine


def _read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0


def sr_grid(data_dir: Path, dataset: str, models: list[str], out: Path, scale: int = 4,
            crop: int = 128, limit: int = 4) -> Path:
    """Write the grid PNG to ``out`` and return it. ``crop`` is the HR crop edge."""
    rows = []
    engines = {m: resolve_engine(m, scale, data_dir) for m in models}
    for lr_path, hr_path in pairs(data_dir, dataset, scale, limit):
        lr, hr = _read(lr_path), _read(hr_path)
        h, w = hr.shape[:2]
        y, x = (h - crop) // 2 // scale * scale, (w - crop) // 2 // scale * scale
        cells = [cv2.resize(lr, (w, h), interpolation=cv2.INTER_NEAREST)[y : y + crop, x : x + crop]]
        for m in models:
            sr = drive(engines[m].run(UpscaleRequest(lr, scale=scale), make_context(engines[m].info))).image
            cells.append(sr[y : y + crop, x : x + crop])
        cells.append(hr[y : y + crop, x : x + crop])
        rows.append(np.concatenate(cells, axis=1))
    grid = (np.clip(np.concatenate(rows, axis=0), 0, 1) * 255).round().astype(np.uint8)
    head = 18
    canvas = Image.new("RGB", (grid.shape[1], grid.shape[0] + head), "white")
    canvas.paste(Image.fromarray(grid), (0, head))
    draw = ImageDraw.Draw(canvas)
    for i, name in enumerate(["LR (nearest)", *models, "HR"]):
        draw.text((i * crop + 4, 3), name[:22], fill="black")
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out)
    return out
