"""``ganstudio bench spade``: how recognisable are synthesized facades, and how fast?

Protocol (the paper's, with our own segmentation net in place of DRN/UperNet): for every pair of
``facades/test`` (held out: never trained on), the label map (palette snap + mode filter) is fed to
each synthesis model (seed = image index, random style); our facades segmentation net segments the
synthesized photo and the real photo; mIoU (mean over the classes present in the ground truth or
the prediction, over the whole set's confusion matrix) and pixel accuracy are computed for both.
The goal is synthesized mIoU >= 0.7 x real mIoU. ``seconds`` is the median wall time of one 256²
synthesis on this machine. A grid PNG (label | synthesized | real) is written beside the JSON.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..core.protocol import EngineError, RunContext, SynthesizeRequest, Task, drive
from ..core import registry

N_CLASSES = 12
GRID_ROWS = 6
BORDER = 8  # px: the outer band of border_ratio (issue 20: streaky bands along the edges)
HEADER = (f"{'model':<24} {'images':>6} {'mIoU synth':>10} {'mIoU real':>9} {'ratio':>6} {'acc synth':>9} "
          f"{'acc real':>8} {'border synth':>12} {'border real':>11} {'sharp':>6} {'s/img':>6}")


@dataclass(frozen=True)
class Row:
    model: str
    dataset: str
    images: int
    miou_synth: float
    miou_real: float
    miou_ratio: float
    pixel_acc_synth: float
    pixel_acc_real: float
    seconds: float
    label_ambiguous_share: float
    border_ratio_synth: float = 0.0  # see border_energy; goal: within +-15 % of border_ratio_real
    border_ratio_real: float = 0.0
    # interior gradient energy of the synthesized ÷ of the real photos (set means): < 1 = smoother
    # than real photos, the "blur" of issue 20 in one number
    sharpness_ratio: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def format_row(r: Row) -> str:
    return (f"{r.model:<24} {r.images:>6} {r.miou_synth:>10.4f} {r.miou_real:>9.4f} {r.miou_ratio:>6.3f} "
            f"{r.pixel_acc_synth:>9.4f} {r.pixel_acc_real:>8.4f} {r.border_ratio_synth:>12.3f} "
            f"{r.border_ratio_real:>11.3f} {r.sharpness_ratio:>6.3f} {r.seconds:>6.3f}")


def confusion(pred: np.ndarray, truth: np.ndarray, n: int = N_CLASSES) -> np.ndarray:
    """int64 n x n: rows = truth, columns = prediction."""
    idx = truth.astype(np.int64).ravel() * n + pred.astype(np.int64).ravel()
    return np.bincount(idx, minlength=n * n).reshape(n, n)


def miou(conf: np.ndarray) -> float:
    inter = np.diag(conf).astype(np.float64)
    union = conf.sum(0) + conf.sum(1) - np.diag(conf)
    present = union > 0
    return float((inter[present] / union[present]).mean()) if present.any() else 0.0


def pixel_accuracy(conf: np.ndarray) -> float:
    return float(np.trace(conf) / max(conf.sum(), 1))


def border_energy(image: np.ndarray, band: int = BORDER) -> tuple[float, float]:
    """(mean gradient energy in the outer ``band`` px, mean gradient energy inside it) of an
    H x W x 3 image (uint8 or float in [0, 1]; read as luminance in [0, 1]). Energy per pixel is
    ``dx² + dy²`` of forward differences taken inside the image (no padding, so the frame itself
    adds nothing). ``border_ratio`` = set mean of the first ÷ set mean of the second."""
    raw = np.asarray(image)
    img = raw.astype(np.float32) / 255.0 if raw.dtype == np.uint8 else raw.astype(np.float32)
    if img.ndim != 3 or min(img.shape[:2]) <= 2 * band + 1:
        raise ValueError(f"border_energy needs an H x W x 3 image larger than {2 * band + 1} px, got {img.shape}")
    y = img[..., :3] @ np.float32([0.299, 0.587, 0.114])
    energy = (y[:-1, 1:] - y[:-1, :-1]) ** 2 + (y[1:, :-1] - y[:-1, :-1]) ** 2  # (H-1) x (W-1)
    outer = np.ones(energy.shape, bool)
    outer[band : energy.shape[0] - band + 1, band : energy.shape[1] - band + 1] = False
    return float(energy[outer].mean()), float(energy[~outer].mean())


def border_ratio(pairs: list[tuple[float, float]]) -> float:
    """Set mean of the band energies ÷ set mean of the interior energies (:func:`border_energy`)."""
    inner = float(np.mean([p[1] for p in pairs])) if pairs else 0.0
    return float(np.mean([p[0] for p in pairs])) / inner if inner > 0 else 0.0


def run_bench(data: Path, models: list[str], segmenter, limit: int = 0,
              on_row: Callable[[Row], None] | None = None, grid: Path | None = None) -> list[Row]:
    """Rows per model; ``segmenter(photo float32 HxWx3) -> (int32 ids, seconds)``."""
    from ..labels import load_palette
    from ..spade.facades import load_split

    pairs = load_split(data, limit)
    if not pairs:
        raise EngineError(f"no N.jpg facades pairs under {data}")
    palette = load_palette("facades")
    ambiguous = float(np.mean([p.ambiguous for p in pairs]))
    conf_real = np.zeros((N_CLASSES, N_CLASSES), np.int64)
    for p in pairs:
        conf_real += confusion(segmenter(p.photo.astype(np.float32) / 255.0)[0], p.labels)
    real_energy = [border_energy(p.photo) for p in pairs]
    border_real = border_ratio(real_energy)
    rows = []
    for model in models:
        engine = registry.get(Task.SYNTHESIZE, model)
        conf = np.zeros_like(conf_real)
        times, tiles, borders = [], [], []
        for i, p in enumerate(pairs):
            started = time.perf_counter()
            result = drive(engine.run(SynthesizeRequest(p.labels, seed=i), RunContext()))
            times.append(time.perf_counter() - started)
            conf += confusion(segmenter(result.image)[0], p.labels)
            borders.append(border_energy(result.image))
            if i < GRID_ROWS:
                tiles.append(np.concatenate([palette.colorize(p.labels),
                                             _to_u8(result.image), p.photo], 1))
        real_m = miou(conf_real)
        row = Row(model=model, dataset=data.name, images=len(pairs), miou_synth=round(miou(conf), 4),
                  miou_real=round(real_m, 4), miou_ratio=round(miou(conf) / real_m, 4) if real_m else 0.0,
                  pixel_acc_synth=round(pixel_accuracy(conf), 4), pixel_acc_real=round(pixel_accuracy(conf_real), 4),
                  seconds=round(float(np.median(times[1:] if len(times) > 1 else times)), 4),
                  label_ambiguous_share=round(ambiguous, 4),
                  border_ratio_synth=round(border_ratio(borders), 4), border_ratio_real=round(border_real, 4),
                  sharpness_ratio=round(float(np.mean([b[1] for b in borders]) / np.mean([b[1] for b in real_energy])), 4))
        rows.append(row)
        if on_row is not None:
            on_row(row)
        if grid is not None and tiles:
            from PIL import Image

            out = grid if len(models) == 1 else grid.with_name(f"{grid.stem}-{model}{grid.suffix}")
            out.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.concatenate(tiles, 0)).save(out)
    return rows


def _to_u8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def write_json(rows: list[Row], path: Path, extra: dict[str, Any] | None = None) -> None:
    from ..atomic import atomic_write_bytes

    data = {"task": "spade", "rows": [r.as_dict() for r in rows],
            "protocol": "facades/test labels (palette snap + 5x5 mode filter) -> synthesis (seed = index, "
                        "random style) -> our facades segmentation net; mIoU over classes present in the "
                        "set's confusion matrix; goal miou_ratio >= 0.7; seconds = median per 256^2 image; "
                        "border_ratio = mean luminance gradient energy (dx^2 + dy^2) in the outer 8 px "
                        "/ that of the interior, set means, synthesized and real photos; goal: synth "
                        "within +-15 % of real",
            **(extra or {})}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps(data, indent=2) + "\n").encode())
