"""``ganstudio train all``: every learned engine at once, one process each, to one deadline.

Each engine runs in its own process (:mod:`.worker`) on the same device, so they share the GPU
and a failure stays local. Training stops at ``start + minutes``; the exports follow, and a
process still alive ``grace`` seconds later is killed (its engine is reported as failed). The
results are then packed into at most 8 files for the trip back: one ``.tar`` per engine group
(run folder logs, ``result.json`` and the exported fp16 weights + cards) and ``summary.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from .travel import repo_root
from .trainers import TRAINERS

ENGINES = tuple(TRAINERS)
# what comes back: one tar per group (<= 8 files in all, each <= 16 MiB)
GROUPS = {"sr": ("sr-x4", "sr-x2"), "inpaint": ("inpaint",), "colorize": ("colorize",),
          "spade": ("spade",), "segment": ("segment",),
          "igan": ("igan",)}
RETURN_LIMIT = 16 * 1024 * 1024


def _worker_cmd(engine: str, data: Path, out: Path, device: str, deadline: float, init: Path | None,
                dry_run: bool, max_steps: int, threads: int, command: str) -> list[str]:
    cmd = [sys.executable, "-m", "engines.gpukit.worker", engine, "--data", str(data), "--out", str(out),
           "--device", device, "--deadline", f"{deadline:.3f}", "--threads", str(threads), "--command", command]
    if init is not None:
        cmd += ["--init", str(init)]
    if dry_run:
        cmd += ["--dry-run"]
    if max_steps:
        cmd += ["--max-steps", str(max_steps)]
    return cmd


def train_all(data: Path, out: Path, device: str = "cuda", minutes: float = 8.0, init: Path | None = None,
              engines: tuple[str, ...] = ENGINES, dry_run: bool = False, max_steps: int = 0,
              tar_to: Path | None = None, jobs: int = 0, grace: float = 90.0, command: str = "",
              on_line=print) -> dict:
    """Run the engines; returns the summary (also written to ``out/summary.json``).

    ``max_steps`` > 0 stops each engine after that many steps (a dry run, or a full-width smoke
    test of the device settings on the CPU); 0 trains until the deadline."""
    unknown = [e for e in engines if e not in TRAINERS]
    if unknown:
        raise ValueError(f"unknown engine(s) {', '.join(unknown)} (known: {', '.join(ENGINES)})")
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    data, init = Path(data).resolve(), (Path(init).resolve() if init else None)
    start = time.time()
    deadline = start + minutes * 60.0
    jobs = jobs or len(engines)
    threads = max(1, (os.cpu_count() or 2) // min(jobs, len(engines)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo_root())] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    pending, running, results = list(engines), {}, {}
    while pending or running:
        while pending and len(running) < jobs:
            engine = pending.pop(0)
            folder = out / engine
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "result.json").unlink(missing_ok=True)
            log = open(folder / "worker.log", "wb")
            cmd = _worker_cmd(engine, data, folder, device, deadline, init, dry_run, max_steps, threads, command)
            running[engine] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                                cwd=str(repo_root())), log)
            on_line(f"started {engine} (pid {running[engine][0].pid})")
        time.sleep(0.2)
        for engine, (proc, log) in list(running.items()):
            late = time.time() > deadline + grace
            if proc.poll() is None and not late:
                continue
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
            del running[engine]
            results[engine] = _result(out / engine, proc.returncode, late)
            r = results[engine]
            on_line(f"{engine}: {r['status']}" + (f", {r.get('images_per_s')} images/s, "
                    f"{sum(x['steps'] for x in r.get('exports', []))} steps" if r["status"] == "ok" else
                    f" ({r.get('error', '')})"))
    summary = {"device": device, "minutes": minutes, "dry_run": dry_run, "init": str(init or ""),
               "wall_s": round(time.time() - start, 1), "engines": results}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    if tar_to is not None:
        summary["returned"] = pack_results(out, Path(tar_to), summary)
    return summary


def _result(folder: Path, returncode: int | None, killed: bool) -> dict:
    path = folder / "result.json"
    if path.is_file():
        try:
            return json.loads(path.read_text())
        except ValueError:
            pass
    tail = ""
    log = folder / "worker.log"
    if log.is_file():
        tail = log.read_bytes()[-2000:].decode("utf-8", "replace")
    why = "killed after the deadline" if killed else f"process exited {returncode} without a result"
    return {"engine": folder.name, "status": "failed", "error": why, "log_tail": tail}


def pack_results(out: Path, dest: Path, summary: dict) -> list[str]:
    """``dest/<group>.tar`` per engine group that has a folder, and ``dest/summary.json``."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for group, engines in GROUPS.items():
        present = [e for e in engines if (out / e).is_dir()]
        if not present:
            continue
        tar_path = dest / f"{group}.tar"
        with tarfile.open(tar_path, "w") as tar:
            for engine in present:
                for path in sorted((out / engine).rglob("*")):
                    if path.is_file() and path.suffix != ".pt":
                        tar.add(path, arcname=str(path.relative_to(out)))
        if tar_path.stat().st_size > RETURN_LIMIT:
            summary.setdefault("warnings", []).append(f"{tar_path.name} is over 16 MiB and will not come back")
        written.append(tar_path.name)
    (dest / "summary.json").write_text(json.dumps(summary, indent=2))
    return written + ["summary.json"]
