"""``ganstudio bench inpaint``: PSNR / SSIM / L1 on the hole and the whole image, per hole bucket.

Protocol (fixed, so runs compare): each photo of ``--data`` (BSDS500 ``val``: 481x321, held out from
training) gives
- a **256** case: the centre 256x256 crop;
- a **512** case: the photo upsized with Lanczos so its short side is 512, centre 512x512 crop (the
  photos are smaller than 512, so this case measures large-window behaviour and speed, on smoother
  content than a native 512 photo).
Each case gets one mask per bucket from :func:`engines.inpaint.masks.random_mask` seeded by
``(size, image index, bucket index)``. Every method receives the crop with the hole pixels set to 0
(no method can see the truth) and the mask (1 = fill). Metrics on the 8-bit-rounded output vs the
crop, RGB in [0, 255] for PSNR, SSIM = mean of the per-channel SSIM maps (Gaussian 11x11, sigma 1.5),
L1 = mean absolute error in [0, 1]; "hole" = averaged over hole pixels only, else over the image.
``seconds`` = mean wall time of one engine run (per crop).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from ..core.protocol import EngineError, InpaintRequest, RunContext, Task, drive
from ..inpaint.masks import BUCKETS, bucket_name, random_mask

SIZES = (256, 512)
LARGE = 512  # sizes from here on are limited by ``limit_512``
DATASET = "BSDS500-val"


@dataclass(frozen=True)
class Row:
    model: str
    dataset: str
    size: int
    bucket: str
    hole_ratio: float
    psnr_hole: float
    psnr: float
    ssim_hole: float
    ssim: float
    l1_hole: float
    l1: float
    seconds: float
    images: int


# ----------------------------------------------------------------------------- data


def photos(data_dir: Path, limit: int = 0) -> list[Path]:
    files = sorted(p for p in Path(data_dir).glob("*") if p.suffix.lower() in (".jpg", ".png"))
    return files[:limit] if limit > 0 else files


def centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    """Centre ``size`` square; a photo whose short side is below ``size`` is first upsized (Lanczos)."""
    h, w = image.shape[:2]
    if min(h, w) < size:
        f = size / min(h, w)
        nw, nh = max(size, round(w * f)), max(size, round(h * f))
        image = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LANCZOS4)
        np.clip(image, 0.0, 1.0, out=image)
        h, w = image.shape[:2]
    y, x = (h - size) // 2, (w - size) // 2
    return np.ascontiguousarray(image[y : y + size, x : x + size])


def case_mask(size: int, image_index: int, bucket_index: int) -> np.ndarray:
    rng = np.random.default_rng([size, image_index, bucket_index, 5])
    return random_mask(rng, size, size, BUCKETS[bucket_index])


# ----------------------------------------------------------------------------- metrics


def _q(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0.0, 1.0) * 255.0)


def psnr(out: np.ndarray, truth: np.ndarray, region: np.ndarray | None = None) -> float:
    d2 = (_q(out) - _q(truth)) ** 2
    mse = float(d2[region].mean() if region is not None else d2.mean())
    return 100.0 if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def ssim_map(out: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM (mean over channels), same size as the images."""
    a, b = _q(out).astype(np.float64), _q(truth).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = blur(a * a) - mu_a ** 2, blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    m = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return m.mean(axis=2)


def measure(out: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> dict[str, float]:
    s = ssim_map(out, truth)
    err = np.abs(_q(out) - _q(truth)) / 255.0
    return {"psnr_hole": psnr(out, truth, hole), "psnr": psnr(out, truth), "ssim_hole": float(s[hole].mean()),
            "ssim": float(s.mean()), "l1_hole": float(err[hole].mean()), "l1": float(err.mean())}


# ----------------------------------------------------------------------------- run


def resolve(model: str):
    from ..core import registry

    if Path(model).suffix in (".safetensors", ".pth", ".pt") and Path(model).is_file():
        from ..core.protocol import EngineInfo, Input
        from ..inpaint.engine import PConvEngine

        info = EngineInfo(id=Path(model).stem, task=Task.INPAINT, title=Path(model).stem, license="unknown",
                          inputs=(Input.IMAGE, Input.MASK), uses_torch=True)
        return PConvEngine(info, Path(model))
    return registry.get(Task.INPAINT, model)


def run_bench(data_dir: Path, models: list[str], sizes: tuple[int, ...] | None = None, limit: int = 0,
              buckets: tuple[int, ...] = tuple(range(len(BUCKETS))), limit_512: int = 0,
              on_row: Callable[[Row], None] | None = None,
              keep: Callable[[int, int, int, str, np.ndarray], None] | None = None) -> list[Row]:
    """Rows per (size, bucket, model). ``keep(size, image, bucket, model, output)`` sees every output."""
    from ..imageio import load_image

    files = photos(data_dir, limit)
    if not files:
        raise EngineError(f"no photos in {data_dir}")
    originals = [load_image(p).rgb for p in files]
    engines = {m: resolve(m) for m in models}
    ctx = RunContext()
    rows = []
    for size in sizes or SIZES:
        n = min(len(originals), limit_512) if size >= LARGE and limit_512 > 0 else len(originals)
        crops = [centre_crop(img, size) for img in originals[:n]]
        for b in buckets:
            masks = [case_mask(size, i, b) for i in range(n)]
            for model, engine in engines.items():
                scores: list[dict[str, float]] = []
                secs = []
                for i, (truth, mask) in enumerate(zip(crops, masks)):
                    hole = mask > 0.5
                    given = truth * (~hole)[..., None]
                    started = time.perf_counter()
                    result = drive(engine.run(InpaintRequest(image=given.astype(np.float32), mask=mask), ctx))
                    secs.append(time.perf_counter() - started)
                    scores.append(measure(result.image, truth, hole))
                    if keep is not None:
                        keep(size, i, b, model, result.image)
                mean = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
                row = Row(model=model, dataset=DATASET, size=size, bucket=bucket_name(BUCKETS[b]),
                          hole_ratio=round(float(np.mean([m.mean() for m in masks])), 4),
                          psnr_hole=round(mean["psnr_hole"], 3), psnr=round(mean["psnr"], 3),
                          ssim_hole=round(mean["ssim_hole"], 4), ssim=round(mean["ssim"], 4),
                          l1_hole=round(mean["l1_hole"], 5), l1=round(mean["l1"], 5),
                          seconds=round(float(np.mean(secs)), 4), images=n)
                rows.append(row)
                if on_row:
                    on_row(row)
    return rows


HEADER = (f"{'model':<16} {'size':>4} {'bucket':>7} {'PSNR-h':>7} {'PSNR':>6} {'SSIM-h':>6} {'SSIM':>6} "
          f"{'L1-h':>6} {'L1':>6} {'s/crop':>7} {'n':>4}")


def format_row(r: Row) -> str:
    return (f"{r.model:<16} {r.size:>4} {r.bucket:>7} {r.psnr_hole:7.2f} {r.psnr:6.2f} {r.ssim_hole:6.3f} "
            f"{r.ssim:6.3f} {r.l1_hole:6.4f} {r.l1:6.4f} {r.seconds:7.3f} {r.images:>4}")


def write_json(rows: list[Row], path: Path, extra: dict[str, Any] | None = None) -> None:
    from ..atomic import atomic_write_bytes

    data = {"task": "inpaint", "rows": [asdict(r) for r in rows],
            "protocol": (__doc__ or "").split("Protocol (fixed, so runs compare): ", 1)[-1].strip()}
    data.update(extra or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps(data, indent=2) + "\n").encode())


# ----------------------------------------------------------------------------- figure


def grid_png(path: Path, cases: list[tuple[np.ndarray, np.ndarray, list[np.ndarray]]], labels: list[str]) -> None:
    """One row per case: input (holes white) | mask | outputs... | truth, with a label strip on top."""
    rows = []
    for truth, mask, outputs in cases:
        hole = mask > 0.5
        shown = truth.copy()
        shown[hole] = 1.0
        tiles = [shown, np.repeat(mask[..., None], 3, axis=2), *outputs, truth]
        rows.append(np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=1.0) for t in tiles], 1))
    grid = (np.clip(np.concatenate(rows, 0), 0, 1) * 255).round().astype(np.uint8)
    tile_w = grid.shape[1] // (len(labels))
    strip = np.full((24, grid.shape[1], 3), 255, np.uint8)
    for i, label in enumerate(labels):
        cv2.putText(strip, label, (i * tile_w + 6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    grid = np.concatenate([strip, grid], 0)
    from ..atomic import atomic_write_bytes

    ok, buf = cv2.imencode(".png", grid[:, :, ::-1])
    if not ok:
        raise EngineError(f"could not encode {path}")
    atomic_write_bytes(path, buf.tobytes())
