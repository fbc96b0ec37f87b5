"""``ganstudio bench batch --json OUT``: batch throughput and memory growth.

For each model (default ``bicubic,default``) one ``ganstudio batch`` run (upscale x4, format kept: JPEG photos in, JPEG out)
over a folder of photos (``--data``; default: BSDS500 ``val`` from the shared data, else crops of
the bundled samples), in this process so memory can be watched:

- ``images_per_s``: files / wall seconds of the whole run (decode + engine + encode + journal);
- ``rss_warm_mb`` / ``rss_end_mb`` / ``rss_growth_pct``: resident memory after the first
  ``WARMUP`` files (the engine loaded, allocator pools filled) and after the last; the goal is
  growth <= 5 % over the remaining runs (no leak per engine run).

torch runs on one thread (the machine's cores are shared); rows follow docs/ARCHITECTURE.md's JSON form.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..batch.runner import rss_mb

WARMUP = 10
DEFAULT_COUNT = 100


def sample_photos(folder: Path, count: int) -> Path:
    """``count`` 480x320 crops of the bundled samples (when no photo folder is available)."""
    import numpy as np

    from ..imageio import load_image, save_image
    from ..paths import RESOURCES

    folder.mkdir(parents=True, exist_ok=True)
    sources = [load_image(p).rgb for p in sorted((RESOURCES / "samples").glob("*.png"))]
    rng = np.random.default_rng(0)
    for i in range(count):
        src = sources[i % len(sources)]
        h, w = src.shape[:2]
        y, x = int(rng.integers(0, max(1, h - 320))), int(rng.integers(0, max(1, w - 480)))
        save_image(folder / f"crop{i:03d}.jpg", src[y:y + 320, x:x + 480], quality=92)
    return folder


def default_photos(count: int) -> tuple[Path, str]:
    from ..train_data import default_data_root

    val = default_data_root() / "photos" / "bsds500" / "val"
    if val.is_dir() and len(list(val.glob("*.jpg"))) >= count:
        return val, "bsds500-val"
    return sample_photos(Path(tempfile.mkdtemp(prefix="ganstudio-bench-photos-")), count), "sample-crops"


def bench_model(photos: Path, model: str, count: int, out_root: Path) -> dict[str, Any]:
    import shutil

    from ..batch import BatchOptions, BatchRun

    subset = out_root / f"in-{model}"
    subset.mkdir(parents=True)
    for p in sorted(photos.iterdir())[:count]:
        if p.suffix.lower() in (".jpg", ".jpeg", ".png"):
            (subset / p.name).symlink_to(p.resolve())
    out = out_root / f"out-{model}"
    run = BatchRun(subset, out, BatchOptions(task="upscale", model=model, scale=4, format="keep"))
    items = run.prepare()
    rss_before = rss_mb()
    rss_warm = rss_before
    started = time.perf_counter()
    settled = failed = 0
    for ev in run.run():
        if ev.kind in ("done", "failed"):
            settled += 1
            failed += ev.kind == "failed"
            if settled == WARMUP:
                rss_warm = rss_mb()
            print(f"  {model}: {settled}/{len(items)}", end="\r", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    rss_end = rss_mb()
    shutil.rmtree(out, ignore_errors=True)
    return {
        "model": model, "images": len(items), "failed": failed, "scale": 4,
        "seconds": round(seconds, 2), "images_per_s": round(len(items) / seconds, 3),
        "rss_before_mb": round(rss_before, 1), "rss_warm_mb": round(rss_warm, 1),
        "rss_end_mb": round(rss_end, 1),
        "rss_growth_pct": round(100.0 * (rss_end - rss_warm) / rss_warm, 2),
    }


HEADER = f"{'model':<10} {'images':>6} {'s':>8} {'img/s':>7} {'RSS before':>10} {'warm':>8} {'end':>8} {'growth':>7}"


def format_row(r: dict[str, Any]) -> str:
    return (f"{r['model']:<10} {r['images']:>6} {r['seconds']:>8.1f} {r['images_per_s']:>7.3f} "
            f"{r['rss_before_mb']:>10.1f} {r['rss_warm_mb']:>8.1f} {r['rss_end_mb']:>8.1f} {r['rss_growth_pct']:>6.2f}%")


def bench_setup(args) -> tuple[Path, str, int] | None:
    """One torch thread (as each batch worker has) and the photos to run: ``(folder, name,
    count)``, or None after saying on stderr that ``--data`` is not a folder."""
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    count = args.limit or DEFAULT_COUNT
    if not args.data:
        photos, dataset = default_photos(count)
        return photos, dataset, count
    photos = Path(args.data)
    if not photos.is_dir():
        print(f"ganstudio bench batch: data folder not found: {photos}", file=sys.stderr)
        return None
    return photos, photos.name, count


def main(args: argparse.Namespace) -> int:
    if getattr(args, "cluster", None):  # the Ray rows (engines/bench/batch_cluster.py, issue 23)
        from .batch_cluster import main as cluster_main

        return cluster_main(args)
    setup = bench_setup(args)
    if setup is None:
        return 2
    photos, dataset, count = setup
    models = [m.strip() for m in (args.models or "bicubic,default").split(",") if m.strip()]
    print(f"photos: {photos} ({dataset}), {count} per model, torch threads 1", flush=True)
    print(HEADER, flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ganstudio-bench-batch-") as tmp:
        for model in models:
            row = bench_model(photos, model, count, Path(tmp))
            row["dataset"] = dataset
            rows.append(row)
            print(format_row(row), flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"task": "batch", "rows": rows}, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0 if all(r["failed"] == 0 for r in rows) else 1
