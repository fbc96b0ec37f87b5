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

from ..core.device import make_context
from ..core.protocol import EngineError, SynthesizeRequest, Task, drive
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
    context: int = 0  # px of mirrored label map the engine synthesized around each picture (then cropped)

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
        times, tiles, borders, contexts = [], [], [], set()
        for i, p in enumerate(pairs):
            started = time.perf_counter()
            result = drive(engine.run(SynthesizeRequest(p.labels, seed=i), make_context(engine.info)))
            times.append(time.perf_counter() - started)
            conf += confusion(segmenter(result.image)[0], p.labels)
            borders.append(border_energy(result.image))
            contexts.add(int(result.extras.get("context", 0)))
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
                  sharpness_ratio=round(float(np.mean([b[1] for b in borders]) / np.mean([b[1] for b in real_energy])), 4),
                  context=max(contexts) if contexts else 0)
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


# ----------------------------------------------------------------------------- segmentation robustness
# The segmentation net on facades/test photos under the transforms a user's own photo brings (issue
# 20): zoomed out / in, another aspect, a perspective view, other colours, blur. Each transform's
# random parameters come from a generator seeded by (seed, photo index, transform index), so every
# run and every model sees the same transformed photos. Geometric transforms move the truth with
# the photo (nearest neighbour); where a view reaches past the photo the border is mirrored (photo
# and truth alike), as a facade usually goes on beyond the frame.

ROBUST_TRANSFORMS = ("plain", "scale0.5", "scale2", "aspect", "perspective", "colour", "blur")
ROBUST_HEADER = (f"{'segmenter':<20} {'transform':<12} {'images':>6} {'mIoU':>7} {'ratio':>6} {'acc':>7} "
                 f"{'window IoU':>10} {'window share':>12}")
WINDOW = 2  # CMP class id of "window" (resources/palettes/facades)


@dataclass(frozen=True)
class RobustRow:
    model: str
    dataset: str
    transform: str
    images: int
    miou: float
    miou_ratio: float  # miou / miou of the plain photos
    pixel_acc: float
    window_iou: float
    window_share_pred: float  # share of pixels labelled window (truth's share in window_share_true)
    window_share_true: float
    seed: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def format_robust_row(r: RobustRow) -> str:
    return (f"{r.model:<20} {r.transform:<12} {r.images:>6} {r.miou:>7.4f} {r.miou_ratio:>6.3f} {r.pixel_acc:>7.4f} "
            f"{r.window_iou:>10.4f} {r.window_share_pred:>6.3f}/{r.window_share_true:<5.3f}")


def transform_pair(name: str, photo: np.ndarray, labels: np.ndarray,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One robustness view of a pair: uint8 H x W x 3 photo, int32 H x W ids -> the same types
    (the size may change). Parameters (ranges are part of the protocol):

    - ``scale0.5``: the photo at half size in the middle of a mirrored frame of the original size;
    - ``scale2``: a random half-size window enlarged 2x (bicubic);
    - ``aspect``: stretched 1.4-1.8x along a random axis;
    - ``perspective``: each corner moved by up to 15 % of the side (a homography);
    - ``colour``: hue turned by up to 30 deg, saturation x0.4-1.6, contrast x0.6-1.4, brightness x0.65-1.35;
    - ``blur``: Gaussian, sigma 1.5-3 px (on the 256² photo).
    """
    import cv2

    h, w = labels.shape
    lab = labels.astype(np.uint8)
    if name == "plain":
        return photo, labels
    if name == "scale0.5":
        hs, ws = h // 2, w // 2
        small = cv2.resize(photo, (ws, hs), interpolation=cv2.INTER_AREA)
        small_lab = cv2.resize(lab, (ws, hs), interpolation=cv2.INTER_NEAREST)
        pads = ((h - hs) // 2, h - hs - (h - hs) // 2, (w - ws) // 2, w - ws - (w - ws) // 2)
        return (cv2.copyMakeBorder(small, *pads, cv2.BORDER_REFLECT_101),
                cv2.copyMakeBorder(small_lab, *pads, cv2.BORDER_REFLECT_101).astype(np.int32))
    if name == "scale2":
        hs, ws = h // 2, w // 2
        y, x = int(rng.integers(0, h - hs + 1)), int(rng.integers(0, w - ws + 1))
        crop, crop_lab = photo[y : y + hs, x : x + ws], lab[y : y + hs, x : x + ws]
        big = cv2.resize(crop, (w, h), interpolation=cv2.INTER_CUBIC)
        return big, cv2.resize(crop_lab, (w, h), interpolation=cv2.INTER_NEAREST).astype(np.int32)
    if name == "aspect":
        f = float(rng.uniform(1.4, 1.8))
        size = (int(round(w * f)), h) if rng.random() < 0.5 else (w, int(round(h * f)))
        return (cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC),
                cv2.resize(lab, size, interpolation=cv2.INTER_NEAREST).astype(np.int32))
    if name == "perspective":
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = src + rng.uniform(-0.15, 0.15, size=(4, 2)).astype(np.float32) * np.float32([w, h])
        m = cv2.getPerspectiveTransform(src, dst)
        return (cv2.warpPerspective(photo, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101),
                cv2.warpPerspective(lab, m, (w, h), flags=cv2.INTER_NEAREST,
                                    borderMode=cv2.BORDER_REFLECT_101).astype(np.int32))
    if name == "colour":
        return _to_u8(colour_jitter(photo.astype(np.float32) / 255.0, rng)), labels
    if name == "blur":
        return cv2.GaussianBlur(photo, (0, 0), float(rng.uniform(1.5, 3.0))), labels
    raise ValueError(f"unknown robustness transform {name!r}; known: {', '.join(ROBUST_TRANSFORMS)}")


def colour_jitter(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """float32 H x W x 3 in [0, 1] -> the same, hue turned about the grey axis by up to 30 deg,
    then saturation x0.4-1.6, contrast x0.6-1.4 (about the mean), brightness x0.65-1.35."""
    angle = np.deg2rad(rng.uniform(-30, 30))
    # a rotation about the (1, 1, 1) axis of RGB turns the hue and keeps grey grey
    k = np.ones(3) / np.sqrt(3)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    rot = np.eye(3) + np.sin(angle) * kx + (1 - np.cos(angle)) * kx @ kx
    out = rgb @ rot.T.astype(np.float32)
    grey = out.mean(2, keepdims=True)
    out = grey + (out - grey) * rng.uniform(0.4, 1.6)
    out = out.mean() + (out - out.mean()) * rng.uniform(0.6, 1.4)
    return np.clip(out * rng.uniform(0.65, 1.35), 0.0, 1.0).astype(np.float32)


def run_robustness(data: Path, segmenter, model: str = "facades-segnet", limit: int = 0, seed: int = 0,
                   transforms: tuple[str, ...] = ROBUST_TRANSFORMS,
                   on_row: Callable[[RobustRow], None] | None = None, grid: Path | None = None,
                   grid_photos: int = 3) -> list[RobustRow]:
    """mIoU of ``segmenter`` (``photo float32 HxWx3 -> (int32 ids, seconds)``) on the facades pairs
    of ``data`` plain and under each of ``transforms`` (see :func:`transform_pair`); ``miou_ratio``
    is against the plain photos (goal >= 0.85 for each). A grid PNG (per transform one row:
    photo | truth | prediction for the first ``grid_photos`` pairs) is written to ``grid``."""
    from ..labels import load_palette
    from ..spade.facades import load_split

    pairs = load_split(data, limit)
    if not pairs:
        raise EngineError(f"no N.jpg facades pairs under {data}")
    palette = load_palette("facades") if grid is not None else None
    rows, grid_rows, plain = [], [], None
    for t, name in enumerate(transforms):
        conf = np.zeros((N_CLASSES, N_CLASSES), np.int64)
        tiles = []
        for i, p in enumerate(pairs):
            photo, labels = transform_pair(name, p.photo, p.labels, np.random.default_rng([seed, i, t]))
            pred = segmenter(photo.astype(np.float32) / 255.0)[0]
            conf += confusion(pred, labels)
            if palette is not None and i < grid_photos:
                tiles += [_fit(photo), _fit(palette.colorize(labels)), _fit(palette.colorize(pred))]
        m = miou(conf)
        plain = m if name == "plain" or plain is None else plain
        union = conf[WINDOW].sum() + conf[:, WINDOW].sum() - conf[WINDOW, WINDOW]
        total = max(int(conf.sum()), 1)
        row = RobustRow(model=model, dataset=data.name, transform=name, images=len(pairs), miou=round(m, 4),
                        miou_ratio=round(m / plain, 4) if plain else 0.0, pixel_acc=round(pixel_accuracy(conf), 4),
                        window_iou=round(float(conf[WINDOW, WINDOW] / union) if union else 0.0, 4),
                        window_share_pred=round(float(conf[:, WINDOW].sum() / total), 4),
                        window_share_true=round(float(conf[WINDOW].sum() / total), 4), seed=seed)
        rows.append(row)
        if on_row is not None:
            on_row(row)
        if tiles:
            grid_rows.append(np.concatenate(tiles, 1))
    if grid is not None and grid_rows:
        from PIL import Image

        grid.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate(grid_rows, 0)).save(grid)
    return rows


def robustness_summary(rows: list[RobustRow]) -> dict[str, float]:
    """``miou_plain``, the worst and the mean ``miou_ratio`` over the transformed rows."""
    plain = [r.miou for r in rows if r.transform == "plain"]
    ratios = [r.miou_ratio for r in rows if r.transform != "plain"]
    return {"miou_plain": plain[0] if plain else 0.0,
            "ratio_min": round(min(ratios), 4) if ratios else 0.0,
            "ratio_mean": round(float(np.mean(ratios)), 4) if ratios else 0.0}


def _fit(image: np.ndarray, side: int = 128) -> np.ndarray:
    """uint8 H x W x 3 -> side x side, the whole image shown at its own aspect on grey."""
    import cv2

    h, w = image.shape[:2]
    s = side / max(h, w)
    th, tw = max(1, round(h * s)), max(1, round(w * s))
    small = cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA)
    out = np.full((side, side, 3), 96, np.uint8)
    y, x = (side - th) // 2, (side - tw) // 2
    out[y : y + th, x : x + tw] = small
    return out
