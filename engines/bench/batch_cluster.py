"""``ganstudio bench batch --cluster ray --workers 1,2 --json OUT``: the same batch on Ray actors
vs the single-process runner (issue 23), in one run so the ratio compares like with like.

For the model (``--models``, default ``default``: our upscaler, x4, JPEG in and out) over the same
photos (``--data``, default BSDS500 ``val``; ``--limit``, default 100):

- one row ``mode="single"``: today's runner in this process (torch on one thread);
- one row ``mode="ray"`` per worker count: a fresh local Ray instance (loopback, telemetry off)
  with that many CPU actors (Ray gives each actor one thread), started and shut down by the run.

Columns: ``seconds`` (the whole run, start-up included) and ``images_per_s`` from it;
``startup_s`` (Ray started + actors up with the model loaded, before the first file) of which
``connect_s`` is Ray itself; ``steady_images_per_s`` = images / (seconds - startup_s);
``ratio`` = images_per_s / the single row's; ``compute_s_per_file`` (decode + engine + encode
inside the actors, mean), ``mb_in_per_file`` / ``mb_out_per_file`` (bytes through the object
store); per actor ``rss_warm_mb`` after 10 files and ``rss_end_mb`` after its last, and
``rss_growth_pct`` (the goal: <= 5 %).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .batch import bench_setup


def _subset(photos: Path, count: int, root: Path) -> Path:
    subset = root / "in"
    subset.mkdir(parents=True)
    for p in sorted(photos.iterdir())[:count]:
        if p.suffix.lower() in (".jpg", ".jpeg", ".png"):
            (subset / p.name).symlink_to(p.resolve())
    return subset


def _drain(run, label: str) -> tuple[Any, float]:
    started = time.perf_counter()
    gen = run.run()
    settled = 0
    while True:
        try:
            ev = next(gen)
        except StopIteration as stop:
            return stop.value, time.perf_counter() - started
        if ev.kind in ("done", "failed"):
            settled += 1
            print(f"  {label}: {settled}", end="\r", file=sys.stderr, flush=True)


def single_row(subset: Path, out: Path, options) -> dict[str, Any]:
    from ..batch import BatchRun

    run = BatchRun(subset, out, options)
    items = run.prepare()
    summary, seconds = _drain(run, "single")
    return {"mode": "single", "workers": 0, "images": len(items), "failed": len(summary.failed),
            "seconds": round(seconds, 2), "images_per_s": round(len(items) / seconds, 3),
            "startup_s": 0.0, "steady_images_per_s": round(len(items) / seconds, 3)}


def ray_row(subset: Path, out: Path, options, workers: int, single: dict[str, Any]) -> dict[str, Any]:
    from ..batch.cluster import ClusterBatchRun

    run = ClusterBatchRun(subset, out, options, workers=workers)  # a fresh local Ray instance
    items = run.prepare()
    summary, seconds = _drain(run, f"ray x{workers}")
    n = len(items)
    done = max(1, len(summary.done))
    actors = [{"name": s.name, "files": s.files, "rss_first_mb": round(s.rss_first_mb, 1),
               "rss_warm_mb": round(s.rss_warm_mb, 1), "rss_end_mb": round(s.rss_last_mb, 1),
               "rss_growth_pct": round(100.0 * (s.rss_last_mb - s.rss_warm_mb) / s.rss_warm_mb, 2)
               if s.rss_warm_mb else None} for s in run.stats]
    growth = [a["rss_growth_pct"] for a in actors if a["rss_growth_pct"] is not None]
    busy = sum(s.busy_s for s in run.stats)
    ips = n / seconds
    return {"mode": "ray", "workers": workers, "images": n, "failed": len(summary.failed),
            "seconds": round(seconds, 2), "images_per_s": round(ips, 3),
            "startup_s": round(run.startup_s, 2), "connect_s": round(run.connect_s, 2),
            "steady_images_per_s": round(n / max(1e-9, seconds - run.startup_s), 3),
            "ratio": round(ips / single["images_per_s"], 3),
            "compute_s_per_file": round(busy / done, 3),
            "mb_in_per_file": round(run.bytes_in / done / 1e6, 3),
            "mb_out_per_file": round(run.bytes_out / done / 1e6, 3),
            "lost_workers": run.lost_workers, "actors": actors,
            "rss_growth_pct_max": max(growth) if growth else None}


HEADER = (f"{'mode':<7} {'workers':>7} {'images':>6} {'s':>7} {'img/s':>7} {'ratio':>6} {'start s':>7} "
          f"{'steady':>7} {'compute s/f':>11} {'RSS warm->end (growth) per actor'}")


def format_row(r: dict[str, Any]) -> str:
    rss = "  ".join(f"{a['rss_warm_mb']:.0f}->{a['rss_end_mb']:.0f} ({a['rss_growth_pct']:+.1f}%)"
                    for a in r.get("actors", []) if a["rss_growth_pct"] is not None)
    return (f"{r['mode']:<7} {r['workers']:>7} {r['images']:>6} {r['seconds']:>7.1f} {r['images_per_s']:>7.3f} "
            f"{r.get('ratio', 1.0):>6.2f} {r['startup_s']:>7.1f} {r['steady_images_per_s']:>7.3f} "
            f"{r.get('compute_s_per_file', 0.0):>11.3f} {rss}")


def main(args: argparse.Namespace) -> int:
    from ..batch import BatchOptions, BatchUsageError
    from ..batch.cluster import parse_cluster

    try:
        if parse_cluster(args.cluster) is not None:
            raise BatchUsageError("bench batch measures a local instance: use --cluster ray")
        workers = [int(w) for w in (args.workers or "1,2").split(",") if w.strip()]
        if not workers or min(workers) < 1:
            raise ValueError
    except BatchUsageError as exc:
        print(f"ganstudio bench batch: {exc}", file=sys.stderr)
        return 2
    except ValueError:
        print("ganstudio bench batch: --workers takes counts such as 1,2", file=sys.stderr)
        return 2
    setup = bench_setup(args)  # one torch thread here, as each actor has
    if setup is None:
        return 2
    photos, dataset, count = setup
    models = [m.strip() for m in (args.models or "default").split(",") if m.strip()]
    print(f"photos: {photos} ({dataset}), {count} per run, upscale x4, torch threads 1 per worker", flush=True)
    print(HEADER, flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ganstudio-bench-cluster-") as tmp:
        subset = _subset(photos, count, Path(tmp))
        for model in models:
            options = BatchOptions(task="upscale", model=model, scale=4, format="keep")
            single = single_row(subset, Path(tmp) / f"single-{model}", options)
            model_rows = [single]
            for w in workers:
                out = Path(tmp) / f"ray{w}-{model}"
                row = ray_row(subset, out, options, w, single)
                reference = Path(tmp) / f"single-{model}"
                row["identical_to_single"] = all(
                    (out / p.name).read_bytes() == p.read_bytes() for p in reference.iterdir()
                    if not p.name.startswith("."))
                shutil.rmtree(out, ignore_errors=True)
                model_rows.append(row)
            for r in model_rows:
                r["model"], r["dataset"] = model, dataset
                rows.append(r)
                print(format_row(r), flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"task": "batch-cluster", "rows": rows}, indent=2) + "\n",
                                   encoding="utf-8")
        print(f"wrote {args.json}")
    return 0 if all(r["failed"] == 0 for r in rows) else 1
