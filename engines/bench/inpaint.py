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
Texture and seams (on Y = BT.601 luma, Sobel gradient magnitude): ``texture_ratio`` = mean gradient
inside the hole of the output / of the truth (1.0 = as detailed as the truth; a blur gives 0.3-0.6);
``seam_ratio`` = the same on a 2-px band either side of the hole's edge (> 1: a visible seam or
outline); both averaged over the photos. ``colour_bias`` = mean signed error per channel inside the
hole, in levels of 255 (R, G, B).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from ..core.device import make_context
from ..core.protocol import EngineError, InpaintRequest, Task, drive
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
    texture_ratio: float = float("nan")
    seam_ratio: float = float("nan")
    colour_bias: tuple[float, float, float] = (float("nan"),) * 3


# ----------------------------------------------------------------------------- data


def dataset_name(data_dir: Path) -> str:
    parts = Path(data_dir).resolve().parts
    if len(parts) >= 2 and parts[-2].lower() == "bsds500":
        return f"BSDS500-{parts[-1]}"
    return parts[-1] if parts else DATASET


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


def gradient_y(image: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of the BT.601 luma of an RGB [0, 1] image."""
    y = (0.299 * image[..., 0] + 0.587 * image[..., 1] + 0.114 * image[..., 2]).astype(np.float32)
    return np.hypot(cv2.Sobel(y, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(y, cv2.CV_32F, 0, 1, ksize=3))


def edge_band(hole: np.ndarray, width: int = 2) -> np.ndarray:
    """Pixels within ``width`` px of the hole's edge, on both sides."""
    k = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    h8 = hole.astype(np.uint8)
    return (cv2.dilate(h8, k) > 0) & ~(cv2.erode(h8, k, borderType=cv2.BORDER_CONSTANT, borderValue=1) > 0)


def measure(out: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> dict[str, float]:
    s = ssim_map(out, truth)
    err = np.abs(_q(out) - _q(truth)) / 255.0
    g_out, g_truth = gradient_y(np.clip(out, 0, 1)), gradient_y(truth)
    band = edge_band(hole)
    bias = (_q(out) - _q(truth))[hole].mean(0)
    return {"psnr_hole": psnr(out, truth, hole), "psnr": psnr(out, truth), "ssim_hole": float(s[hole].mean()),
            "ssim": float(s.mean()), "l1_hole": float(err[hole].mean()), "l1": float(err.mean()),
            "texture_ratio": float(g_out[hole].mean() / max(float(g_truth[hole].mean()), 1e-6)),
            "seam_ratio": float(g_out[band].mean() / max(float(g_truth[band].mean()), 1e-6)),
            "bias_r": float(bias[0]), "bias_g": float(bias[1]), "bias_b": float(bias[2])}


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
    contexts = {m: make_context(engine.info) for m, engine in engines.items()}  # --device
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
                    result = drive(engine.run(InpaintRequest(image=given.astype(np.float32), mask=mask), contexts[model]))
                    secs.append(time.perf_counter() - started)
                    scores.append(measure(result.image, truth, hole))
                    if keep is not None:
                        keep(size, i, b, model, result.image)
                mean = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
                row = Row(model=model, dataset=dataset_name(data_dir), size=size, bucket=bucket_name(BUCKETS[b]),
                          hole_ratio=round(float(np.mean([m.mean() for m in masks])), 4),
                          psnr_hole=round(mean["psnr_hole"], 3), psnr=round(mean["psnr"], 3),
                          ssim_hole=round(mean["ssim_hole"], 4), ssim=round(mean["ssim"], 4),
                          l1_hole=round(mean["l1_hole"], 5), l1=round(mean["l1"], 5),
                          seconds=round(float(np.mean(secs)), 4), images=n,
                          texture_ratio=round(mean["texture_ratio"], 3), seam_ratio=round(mean["seam_ratio"], 3),
                          colour_bias=tuple(round(mean[k], 2) for k in ("bias_r", "bias_g", "bias_b")))
                rows.append(row)
                if on_row:
                    on_row(row)
    return rows


HEADER = (f"{'model':<18} {'size':>4} {'bucket':>7} {'PSNR-h':>7} {'PSNR':>6} {'SSIM-h':>6} {'SSIM':>6} "
          f"{'L1-h':>6} {'L1':>6} {'tex':>5} {'seam':>5} {'bias R/G/B':>17} {'s/crop':>7} {'n':>4}")


def format_row(r: Row) -> str:
    bias = "/".join(f"{b:+.1f}" for b in r.colour_bias)
    return (f"{r.model:<18} {r.size:>4} {r.bucket:>7} {r.psnr_hole:7.2f} {r.psnr:6.2f} {r.ssim_hole:6.3f} "
            f"{r.ssim:6.3f} {r.l1_hole:6.4f} {r.l1:6.4f} {r.texture_ratio:5.2f} {r.seam_ratio:5.2f} {bias:>17} "
            f"{r.seconds:7.3f} {r.images:>4}")


def write_json(rows: list[Row], path: Path, extra: dict[str, Any] | None = None) -> None:
    from ..atomic import atomic_write_bytes

    data = {"task": "inpaint", "rows": [asdict(r) for r in rows],
            "protocol": (__doc__ or "").split("Protocol (fixed, so runs compare): ", 1)[-1].strip()}
    data.update(extra or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps(data, indent=2) + "\n").encode())


# ----------------------------------------------------------------------------- figure


def grid_png(path: Path, cases: list[tuple[np.ndarray, np.ndarray, list[np.ndarray]]], labels: list[str]) -> None:
    """One row per case: input (holes white) | outputs... | truth, with a label strip on top."""
    rows = []
    for truth, mask, outputs in cases:
        hole = mask > 0.5
        shown = truth.copy()
        shown[hole] = 1.0
        tiles = [shown, *outputs, truth]
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
