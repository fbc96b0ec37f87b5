"""``ganstudio bench sr-memory``: peak memory and time of one large upscale, to show that memory
follows the output (assembled tile by tile) and not the network's activations on the whole image.

The input is a smooth synthetic photo-like image (gradients + noise) of the requested size; the
figure to look at is ``peak_rss_mb`` against ``output_mb`` (the float32 output itself).
"""

from __future__ import annotations

import resource
import time

import numpy as np

from ..core.device import make_context
from ..core.protocol import UpscaleRequest, drive


def synthetic_photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    image = np.empty((height, width, 3), np.float32)
    image[..., 0] = 0.5 + 0.4 * np.sin(6 * x + 3 * y)
    image[..., 1] = 0.5 + 0.4 * np.cos(5 * y - 2 * x)
    image[..., 2] = 0.5 + 0.3 * np.sin(9 * x * y)
    image += rng.normal(0, 0.02, image.shape).astype(np.float32)
    return np.clip(image, 0, 1, out=image)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def measure(engine, width: int, height: int, scale: int = 4, tile: int = 0) -> dict:
    image = synthetic_photo(width, height)
    before = peak_rss_mb()
    t = time.perf_counter()
    result = drive(engine.run(UpscaleRequest(image, scale=scale, tile=tile), make_context(engine.info)))
    seconds = time.perf_counter() - t
    out = result.image
    return {"model": engine.info.id, "input": f"{width}x{height}", "scale": scale,
            "output": f"{out.shape[1]}x{out.shape[0]}", "tile": result.extras.get("tile"),
            "input_mb": round(image.nbytes / 2**20, 1), "output_mb": round(out.nbytes / 2**20, 1),
            "peak_rss_before_mb": round(before, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
            "seconds": round(seconds, 1)}
