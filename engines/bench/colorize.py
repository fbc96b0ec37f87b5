"""``ganstudio bench colorize``: PSNR against the number of hints (Zhang et al. 2017, Fig. 5), and speed.

Protocol: each photo is resized (area) to 256², the size the paper evaluates at; for every hint
count k in ``COUNTS`` we take the first k points of ONE random hint sequence per image drawn from the
true image (uniform positions, each the mean colour of a 3 x 3 patch; seeded per image, the same
hints for every model; nested, so adding hints only adds), colorize the
photo's L with them, and measure PSNR on RGB (8-bit rounded, as saved PNGs) against the truth,
the colourfulness ratio (Hasler & Suesstrunk's M of the output / M of the truth, per photo, then
averaged) and the hint error (mean CIE76 Delta E between each hint's colour and the mean Lab of the
output over the hint's own 3 x 3 patch; None without hints).
Timing: a full pass on one photo at its own resolution and a preview pass (the photo scaled to
the editor's 256 px preview size) each report the median of a few runs on this machine.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from ..core.device import make_context
from ..core.protocol import ColorizeRequest, Engine, Task, drive
from ..colorize.engine import PREVIEW_SIDE
from ..colorize.hints import random_hints_from_image
from ..colorize.lab import rgb_to_lab

COUNTS = (0, 1, 2, 5, 10, 20, 30, 50, 100)
SIZE = 256
HINT_PATCH = 3


def psnr_rgb(pred: np.ndarray, truth: np.ndarray) -> float:
    """PSNR (dB) on RGB of two float [0, 1] images after rounding both to 8 bits."""
    a = np.round(np.clip(pred, 0, 1) * 255.0).astype(np.float64)
    b = np.round(np.clip(truth, 0, 1) * 255.0).astype(np.float64)
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness M of an RGB [0, 1] image, on the 0-255 scale."""
    x = np.clip(np.asarray(rgb, np.float64), 0, 1) * 255.0
    rg = x[..., 0] - x[..., 1]
    yb = 0.5 * (x[..., 0] + x[..., 1]) - x[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def colourfulness_ratio(pred: np.ndarray, truth: np.ndarray) -> float:
    """M of ``pred`` / M of ``truth`` (a truth with M below 1, i.e. grey, counts as 1)."""
    return colourfulness(pred) / max(1.0, colourfulness(truth))


def hint_errors(pred: np.ndarray, hints) -> np.ndarray:
    """CIE76 Delta E of each hint: its colour vs the output's mean Lab over the hint's patch."""
    if not hints:
        return np.zeros(0)
    lab = rgb_to_lab(np.clip(pred, 0, 1))
    h, w = lab.shape[:2]
    want = rgb_to_lab(np.array([hh.rgb for hh in hints], np.float32).reshape(-1, 1, 3))[:, 0]
    out = []
    for hint, target in zip(hints, want):
        size = max(1, int(hint.size))
        x0 = int(np.clip(round(hint.x - (size - 1) / 2.0), 0, w - 1))
        y0 = int(np.clip(round(hint.y - (size - 1) / 2.0), 0, h - 1))
        got = lab[y0 : y0 + size, x0 : x0 + size].reshape(-1, 3).mean(axis=0)
        out.append(float(np.linalg.norm(got - target)))
    return np.array(out)


@dataclass(frozen=True)
class Row:
    model: str
    dataset: str
    hints: int
    psnr_rgb: float
    seconds: float
    images: int
    colourfulness_ratio: float = float("nan")
    hint_error: float | None = None  # mean Delta E over all hints of all photos; None with 0 hints

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def load_set(folder: Path, limit: int = 0) -> list[np.ndarray]:
    """float32 256 x 256 x 3 RGB of every PNG/JPEG in ``folder`` (sorted; at most ``limit``)."""
    from ..imageio import load_image

    paths = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    if limit > 0:
        paths = paths[:limit]
    return [cv2.resize(load_image(p).rgb, (SIZE, SIZE), interpolation=cv2.INTER_AREA) for p in paths]


def resolve_engine(model: str) -> Engine:
    """A registered colorize model id, or a path to weights (architecture detected)."""
    from ..core import registry
    from ..core.protocol import EngineInfo

    if Path(model).suffix in (".safetensors", ".pth", ".pt") and Path(model).is_file():
        from ..colorize.engine import ColorizeEngine

        info = EngineInfo(id=Path(model).stem, task=Task.COLORIZE, title=Path(model).stem, license="?")
        return ColorizeEngine(info, Path(model))
    return registry.get(Task.COLORIZE, model)


def hint_sequence(img: np.ndarray, count: int, index: int, seed: int = 0) -> list:
    """One random hint sequence for photo ``index`` (seeded per photo, not per count): the set with
    k hints is its first k points, so adding hints only adds (each point drawn as before: uniform
    position, mean colour of a HINT_PATCH² patch of the truth)."""
    return random_hints_from_image(np.random.default_rng([seed, index]), img, count, HINT_PATCH)


def nested_hint_sets(images: list[np.ndarray], counts=COUNTS, seed: int = 0) -> dict[int, list[list]]:
    """{count: [hints of each image]}, the prefixes of one sequence per image (nested in the count)."""
    top = max(counts) if counts else 0
    seqs = [hint_sequence(img, top, i, seed) for i, img in enumerate(images)]
    return {n: [seq[:n] for seq in seqs] for n in counts}


def run_bench(images: list[np.ndarray], models: list[str], dataset: str, counts=COUNTS, seed: int = 0,
              on_row: Callable[[Row], None] | None = None) -> list[Row]:
    """One row per (model, hint count): mean PSNR over ``images`` and mean seconds per image."""
    # the same hints for every model; nested: one sequence per image, k hints = its first k points
    hint_sets = nested_hint_sets(images, counts, seed)
    rows = []
    for model in models:
        engine = resolve_engine(model)
        ctx = make_context(engine.info)  # --device
        for n in counts:
            ps, secs, cr, errs = [], [], [], []
            for img, hints in zip(images, hint_sets[n]):
                started = time.perf_counter()
                result = drive(engine.run(ColorizeRequest(image=img, hints=tuple(hints)), ctx))
                secs.append(time.perf_counter() - started)
                ps.append(psnr_rgb(result.image, img))
                cr.append(colourfulness_ratio(result.image, img))
                errs.extend(hint_errors(result.image, hints))
            row = Row(model, dataset, n, round(float(np.mean(ps)), 3), round(float(np.mean(secs)), 4), len(images),
                      round(float(np.mean(cr)), 3), round(float(np.mean(errs)), 2) if errs else None)
            rows.append(row)
            if on_row:
                on_row(row)
    return rows


def timing(model: str, photo: np.ndarray, hints: int = 10, repeats: int = 5) -> dict[str, float]:
    """Median seconds of a full pass at the photo's resolution and of an editor preview pass."""
    engine = resolve_engine(model)
    ctx = make_context(engine.info)
    hs = tuple(random_hints_from_image(np.random.default_rng(1), photo, hints, HINT_PATCH))
    # the editor's live preview: the photo scaled to PREVIEW_SIDE on its longer side
    f = min(1.0, PREVIEW_SIDE / max(photo.shape[:2]))
    small = cv2.resize(photo, (max(8, round(photo.shape[1] * f)), max(8, round(photo.shape[0] * f))),
                       interpolation=cv2.INTER_AREA)
    small_hints = tuple(type(h)(min(h.x * f, small.shape[1] - 1), min(h.y * f, small.shape[0] - 1), h.rgb, 1)
                        for h in hs)
    drive(engine.run(ColorizeRequest(image=photo, hints=hs), ctx))  # warm-up (loads weights)

    def median(img, hh) -> float:
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            drive(engine.run(ColorizeRequest(image=img, hints=hh), ctx))
            times.append(time.perf_counter() - t)
        return float(np.median(times))

    return {"full_seconds": round(median(photo, hs), 4), "preview_seconds": round(median(small, small_hints), 4),
            "width": photo.shape[1], "height": photo.shape[0]}


HEADER = f"{'model':<34} {'set':<8} {'hints':>5} {'PSNR':>7} {'colour':>6} {'hintdE':>6} {'s/img':>7}"


def format_row(r: Row) -> str:
    err = "-" if r.hint_error is None else f"{r.hint_error:.2f}"
    return (f"{r.model:<34} {r.dataset:<8} {r.hints:>5} {r.psnr_rgb:7.2f} {r.colourfulness_ratio:6.3f} {err:>6} "
            f"{r.seconds:7.3f}")


GRID_COUNTS = (0, 5, 10, 30)


def grid(images: list[np.ndarray], models: list[str], path: Path, photos: int = 3, seed: int = 0,
         counts=GRID_COUNTS) -> Path:
    """A PNG: per photo and model a row grey | output with each of ``counts`` hints | truth.

    Hints as in the bench (nested prefixes of one sequence per photo); each hint is drawn on its output as a
    small dot of its colour in a black-and-white ring, so marks around the points stay visible.
    """
    from PIL import Image

    def dots(tile: np.ndarray, hints) -> np.ndarray:
        out = np.ascontiguousarray((np.clip(tile, 0, 1) * 255).round().astype(np.uint8))
        for h in hints:
            c = (int(round(h.x)), int(round(h.y)))
            cv2.circle(out, c, 4, (255, 255, 255), 1, cv2.LINE_AA)
            cv2.circle(out, c, 3, (0, 0, 0), 1, cv2.LINE_AA)
            cv2.circle(out, c, 2, tuple(int(round(v * 255)) for v in h.rgb), -1, cv2.LINE_AA)
        return out

    label_h = 18
    rows = []
    header = np.full((label_h, SIZE * (len(counts) + 2), 3), 255, np.uint8)
    for k, name in enumerate(["grey"] + [f"{n} hints" for n in counts] + ["truth"]):
        cv2.putText(header, name, (SIZE * k + 6, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    rows.append(header)
    engines = {m: resolve_engine(m) for m in models}
    contexts = {m: make_context(engine.info) for m, engine in engines.items()}
    for i, img in enumerate(images[:photos]):
        L = rgb_to_lab(img)[..., 0]
        grey = np.repeat(((L / 100.0) * 255).round().clip(0, 255).astype(np.uint8)[..., None], 3, axis=2)
        sequence = hint_sequence(img, max(counts, default=0), i, seed)  # drawn once per photo: the same for every model
        for m, engine in engines.items():
            tiles = [grey]
            for n in counts:
                hints = tuple(sequence[:n])
                res = drive(engine.run(ColorizeRequest(image=img, hints=hints), contexts[m]))
                tiles.append(dots(res.image, hints))
            tiles.append((np.clip(img, 0, 1) * 255).round().astype(np.uint8))
            row = np.concatenate(tiles, axis=1)
            cv2.putText(row, m, (6, SIZE - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 0), 1, cv2.LINE_AA)
            rows.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)
    return path


def plot(rows: list[Row], path: Path) -> Path:
    """PSNR vs hint count, one curve per model, as a PNG (drawn with OpenCV; no matplotlib needed)."""
    W, H, m = 640, 420, 60
    canvas = np.full((H, W, 3), 255, np.uint8)
    models = list(dict.fromkeys(r.model for r in rows))
    counts = sorted({r.hints for r in rows})
    vals = [r.psnr_rgb for r in rows]
    lo, hi = np.floor(min(vals)) - 0.5, np.ceil(max(vals)) + 0.5
    xs = {n: m + (W - 2 * m) * i / max(1, len(counts) - 1) for i, n in enumerate(counts)}  # even spacing

    def y(v: float) -> int:
        return int(H - m - (H - 2 * m) * (v - lo) / (hi - lo))

    cv2.rectangle(canvas, (m, m), (W - m, H - m), (0, 0, 0), 1)
    for v in np.arange(np.ceil(lo), hi, 1.0 if hi - lo < 12 else 2.0):
        cv2.line(canvas, (m, y(v)), (W - m, y(v)), (225, 225, 225), 1)
        cv2.putText(canvas, f"{v:.0f}", (m - 30, y(v) + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    for n, x in xs.items():
        cv2.putText(canvas, str(n), (int(x) - 8, H - m + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(canvas, "number of random hints", (W // 2 - 80, H - 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(canvas, "PSNR (dB, RGB, 256x256)", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    colours = [(200, 80, 20), (30, 120, 230), (40, 160, 40), (150, 40, 150)]  # BGR-free: RGB used below
    for k, model in enumerate(models):
        c = colours[k % len(colours)]
        pts = [(int(xs[r.hints]), y(r.psnr_rgb)) for r in rows if r.model == model]
        for a, b in zip(pts, pts[1:]):
            cv2.line(canvas, a, b, c, 2, cv2.LINE_AA)
        for p in pts:
            cv2.circle(canvas, p, 3, c, -1, cv2.LINE_AA)
        cv2.putText(canvas, model, (m + 10, m + 20 + 18 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.45, c, 1, cv2.LINE_AA)
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(canvas).save(path)
    return path


def write_json(rows: list[Row], path: Path, extra: dict[str, Any] | None = None) -> None:
    from ..atomic import atomic_write_bytes

    data = {"task": "colorize", "rows": [r.as_dict() for r in rows],
            "protocol": f"photos resized (area) to {SIZE}x{SIZE}; N random hints from the true image "
                        f"(uniform positions, mean colour of a {HINT_PATCH}x{HINT_PATCH} patch, same hints "
                        "for every model; nested: the first N points of one sequence seeded per image); PSNR on 8-bit RGB; colourfulness_ratio = mean over photos of "
                        "Hasler-Suesstrunk M(output) / M(truth); hint_error = mean CIE76 Delta E between each "
                        "hint's colour and the output's mean Lab over its patch (null with 0 hints)",
            **(extra or {})}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps(data, indent=2) + "\n").encode())
