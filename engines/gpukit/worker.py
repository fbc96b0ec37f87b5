"""One engine's training process: ``python -m engines.gpukit.worker ENGINE --data D --out O ...``.

The runner starts one per engine so that a crash, an out-of-memory or a hang in one engine costs
only that engine. It writes ``<out>/result.json`` (status, steps, images/s, exported files) last;
a missing result means the process died.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path


def run(engine: str, data: Path, out: Path, device: str, deadline: float, init: Path | None,
        dry_run: bool, max_steps: int, seed: int, threads: int, command: str) -> dict:
    import torch

    from .loop import KitContext
    from .pack import load_packed
    from .trainers import TRAINERS

    torch.set_num_threads(max(1, threads))
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    result: dict = {"engine": engine, "status": "failed", "device": device}
    try:
        arrays = load_packed(data)
        ctx = KitContext(engine=engine, data=arrays, device=torch.device(device), out=out, deadline=deadline,
                         init_dir=init, dry_run=dry_run, max_steps=max_steps, seed=seed, command=command)
        result["data_load_s"] = round(time.time() - t0, 1)
        exports = importlib.import_module(TRAINERS[engine]).train(ctx)
        seconds = time.time() - ctx.started
        seen = sum(ctx.images_seen.values())
        result.update(status="ok", seconds=round(seconds, 1), images_seen=ctx.images_seen,
                      images_per_s=round(seen / max(seconds, 1e-6), 1),
                      exports=[{"id": e.id, "files": e.files, "steps": e.card["kit"]["steps"],
                                "final_losses": e.card["kit"]["final_losses"]} for e in exports])
        if device.startswith("cuda"):
            result["gpu"] = torch.cuda.get_device_name(0)
            result["max_memory_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    except Exception as exc:  # noqa: BLE001 - report any failure in result.json, never lose the others
        result.update(error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()[-4000:])
    (out / "result.json").write_text(json.dumps(result, indent=2))
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engines.gpukit.worker")
    p.add_argument("engine")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="cpu")
    p.add_argument("--deadline", type=float, required=True, help="time.time() at which training stops")
    p.add_argument("--init", default="")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--max-steps", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--command", default="")
    a = p.parse_args(argv)
    res = run(a.engine, Path(a.data), Path(a.out), a.device, a.deadline, Path(a.init) if a.init else None,
              a.dry_run, a.max_steps, a.seed, a.threads, a.command)
    return 0 if res["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
