"""``ganstudio bench sr``: PSNR-Y / SSIM-Y / sharpness / seconds per image on SR benchmark sets.

Data layout (``../shared/data/sr``): ``<Set>/x<scale>/{HR,LR}/img_NNN.png``. Each LR image is
upscaled by each model at the set's scale and compared with HR on BT.601 Y with ``scale`` pixels
cropped at each border (the literature protocol). Rows follow docs/ARCHITECTURE.md's JSON form.
"""

from __future__ import annotations

import json
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..core.protocol import Engine, EngineError, RunContext, UpscaleRequest, drive
from .metrics import psnr_y, sharpness, ssim_y

DATASETS = ("Set5", "Set14", "BSD100")


@dataclass(frozen=True)
class Row:
    model: str
    dataset: str
    scale: int
    psnr_y: float
    ssim_y: float
    sharpness: float
    seconds: float
    images: int
    peak_rss_mb: float
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        if not d["note"]:
            d.pop("note")
        return d


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def resolve_engine(model: str, scale: int, data_dir: Path) -> Engine:
    """An engine for a model id: a registered id, ``srgan-leftthomas`` (the leftthomas SRGAN weights
    for ``scale`` found beside the benchmark data, in ``<data>/../weights/srgan/``), or a path to a
    weights file."""
    from ..core import registry
    from ..core.protocol import Task

    if model == "srgan-leftthomas":
        path = data_dir.parent / "weights" / "srgan" / f"netG_epoch_{scale}_100.pth"
        if not path.is_file():
            raise EngineError(f"srgan-leftthomas x{scale} weights not found at {path}")
        from ..sr.engine import SREngine

        return SREngine.from_file(path, model, license="MIT (leftthomas/SRGAN)")
    if Path(model).suffix in (".safetensors", ".pth", ".pt") and Path(model).is_file():
        from ..sr.engine import SREngine

        return SREngine.from_file(model)
    return registry.get(Task.UPSCALE, model)


def pairs(data_dir: Path, dataset: str, scale: int, limit: int = 0) -> list[tuple[Path, Path]]:
    root = data_dir / dataset / f"x{scale}"
    lrs = sorted((root / "LR").glob("*.png"))
    out = [(lr, root / "HR" / lr.name) for lr in lrs if (root / "HR" / lr.name).is_file()]
    return out[:limit] if limit > 0 else out


def run_bench(
    data_dir: Path, models: list[str], scales: list[int], datasets: list[str] = list(DATASETS),
    limit: int = 0, ctx_for: Callable[[Engine], RunContext] | None = None,
    on_row: Callable[[Row], None] | None = None,
) -> list[Row]:
    """Evaluate every (model, dataset, scale); missing datasets are skipped, model errors raise."""
    from ..core.device import make_context
    from ..imageio import load_image

    rows = []
    for scale in scales:
        for dataset in datasets:
            items = pairs(data_dir, dataset, scale, limit)
            if not items:
                continue
            images = [(load_image(lr).rgb, load_image(hr).rgb) for lr, hr in items]
            for model in models:
                engine = resolve_engine(model, scale, data_dir)
                ctx = ctx_for(engine) if ctx_for else make_context(engine.info)
                ps, ss, sh, secs, note = [], [], [], [], ""
                for lr, hr in images:
                    started = time.perf_counter()
                    result = drive(engine.run(UpscaleRequest(image=lr, scale=scale), ctx))
                    secs.append(time.perf_counter() - started)
                    ps.append(psnr_y(result.image, hr, scale))
                    ss.append(ssim_y(result.image, hr, scale))
                    sh.append(sharpness(result.image[scale:-scale, scale:-scale]))
                    note = result.extras.get("resized", "") or note
                row = Row(model, dataset, scale, round(float(np.mean(ps)), 3), round(float(np.mean(ss)), 4),
                          round(float(np.mean(sh)), 2), round(float(np.mean(secs)), 4), len(images),
                          round(_peak_rss_mb(), 1), note)
                rows.append(row)
                if on_row:
                    on_row(row)
            # ground-truth sharpness, for reading the sharpness column
            gt = float(np.mean([sharpness(hr[scale:-scale, scale:-scale]) for _, hr in images]))
            rows.append(Row("HR (ground truth)", dataset, scale, float("inf"), 1.0, round(gt, 2), 0.0,
                            len(images), round(_peak_rss_mb(), 1)))
            if on_row:
                on_row(rows[-1])
    return rows


HEADER = f"{'model':<28} {'set':<7} {'x':>2} {'PSNR-Y':>7} {'SSIM-Y':>7} {'sharp':>6} {'s/img':>7} {'RSS MB':>7}"


def format_row(r: Row) -> str:
    psnr = "   -   " if r.psnr_y == float("inf") else f"{r.psnr_y:7.2f}"
    return (f"{r.model:<28} {r.dataset:<7} {r.scale:>2} {psnr} {r.ssim_y:7.4f} {r.sharpness:6.2f} "
            f"{r.seconds:7.3f} {r.peak_rss_mb:7.0f}")


def write_json(rows: list[Row], path: Path) -> None:
    from ..atomic import atomic_write_bytes

    data = {"task": "sr", "rows": [r.as_dict() for r in rows if r.psnr_y != float("inf")],
            "ground_truth_sharpness": [{"dataset": r.dataset, "scale": r.scale, "sharpness": r.sharpness}
                                       for r in rows if r.psnr_y == float("inf")],
            "protocol": "PSNR/SSIM on BT.601 Y (16-235) of 8-bit-rounded output, border = scale px "
                        "cropped; sharpness = mean Sobel gradient magnitude of Y"}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps(data, indent=2) + "\n").encode())
