"""``ganstudio bench canvas``: stroke latency on a 4000 x 3000 photo, UI-thread stalls while an
engine runs, and how long Cancel takes. Prints a table and writes JSON rows; never asserts on time
(figures, not tests).

Stroke latency = one mouse-move event delivered to the canvas + the synchronous repaint of what it
dirtied, per event (a frame). UI stall = the longest gap between ticks of a 5 ms timer on the UI
thread minus 5 ms, while an engine runs on the worker for ``--engine-seconds``; the row "UI timer,
no engine" is the same timer with nothing running: what the machine's own load costs (on a busy
2-core machine that floor alone can exceed the goals). Cancel = the status bar's Cancel clicked
while the default upscaler (x4) runs on a 2000 x 1500 photo, until the job has ended
(``cancel_ms``, the worst of ``--cancel-runs`` clicks at different moments; ``answer_ms``: until
the status bar said "Cancelling…").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from pathlib import Path
from typing import Callable

import numpy as np

BUDGET_MS = 16.7  # one frame at 60 Hz
STALL_GOAL_MS = 50.0
CANCEL_GOAL_MS = 1000.0


def _photo(w: int, h: int) -> np.ndarray:
    """A smooth synthetic photo with some texture (no file needed)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([x / w, y / h, 0.5 + 0.25 * np.sin(x / 37.0) * np.cos(y / 23.0)], axis=2)
    return np.clip(img, 0, 1).astype(np.float32)


def _stroke_frames(win, qtest, n_events: int, tool: str, size: int) -> list[float]:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtWidgets import QApplication

    canvas = win.canvas
    win.set_tool(tool)
    win.state.set_size(size)
    cx, cy = canvas.width() // 2, canvas.height() // 2
    radius = min(cx, cy) * 0.6
    pts = [QPoint(int(cx + radius * math.cos(t)), int(cy + radius * math.sin(2 * t) / 2))
           for t in np.linspace(0, 2 * math.pi, n_events)]
    qtest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
    QApplication.processEvents()
    frames = []
    for p in pts[1:]:
        t0 = time.perf_counter()
        qtest.mouseMove(canvas, p)
        canvas.repaint()  # synchronous: the dirty rectangles are painted now
        frames.append((time.perf_counter() - t0) * 1000.0)
        QApplication.processEvents()  # the event loop runs between mouse events, as in real use
    qtest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])
    QApplication.processEvents()
    return frames


def _ui_timer_gaps(seconds: float, on_tick: Callable[[], None] | None = None,
                   each_pass: Callable[[], None] | None = None) -> list[float]:
    """Run the UI event loop for ``seconds`` with a 5 ms timer on it; the gaps between its ticks (ms).
    ``on_tick`` runs after each tick, ``each_pass`` before each pass through the event loop."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick():
        now = clock.nsecsElapsed()
        gaps.append((now - last[0]) / 1e6)
        last[0] = now
        if on_tick is not None:
            on_tick()

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        if each_pass is not None:
            each_pass()
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
    timer.stop()
    return gaps


def _timer_gaps(seconds: float) -> dict:
    """The 5 ms UI timer with no engine running: the machine's own floor."""
    return _stall_stats(_ui_timer_gaps(seconds))


def _stall_stats(gaps: list[float]) -> dict:
    stalls = [max(0.0, g - 5.0) for g in gaps]
    return {"ticks": len(gaps), "max_stall_ms": round(max(stalls, default=0.0), 2),
            "p99_stall_ms": round(float(np.percentile(stalls, 99)) if stalls else 0.0, 2)}


def _cancel_latency(win, runs: int, size: tuple[int, int] = (2000, 1500)) -> dict:
    """Click the status bar's Cancel while the default upscaler runs; ms until the job ended."""
    from PySide6.QtWidgets import QApplication

    from engines.core import UpscaleRequest, registry

    from ..jobs import Job

    engine = registry.get("upscale", "default")
    src = _photo(*size)
    ended: dict[int, float] = {}
    win.runner.cancelled.connect(lambda job_id: ended.setdefault(job_id, time.perf_counter()))
    cancel_ms, answer_ms = [], []
    for k in range(runs):
        started: list[float] = []
        job_id = win.runner.submit(Job(engine=engine, request=UpscaleRequest(src, scale=4), label="Upscale"))
        win.runner.started.connect(lambda jid, _label, s=started, j=job_id: s.append(time.perf_counter()) if jid == j else None)
        limit = time.perf_counter() + 60
        while not started and time.perf_counter() < limit:
            QApplication.processEvents()
            time.sleep(0.002)
        # click at different moments of the run: inside the first tiles, between layers
        until = time.perf_counter() + 0.6 + 0.9 * k
        while time.perf_counter() < until:
            QApplication.processEvents()
            time.sleep(0.002)
        t0 = time.perf_counter()
        win.status.cancel.click()
        if "Cancelling" in win.status.job_label.text() or job_id in ended:
            answer_ms.append((time.perf_counter() - t0) * 1000)
        limit = time.perf_counter() + 60
        while job_id not in ended and time.perf_counter() < limit:
            QApplication.processEvents()
            time.sleep(0.001)
        cancel_ms.append(((ended.get(job_id) or time.perf_counter()) - t0) * 1000)
    return {"image": f"{size[0]}x{size[1]}", "runs": runs, "cancel_ms": round(max(cancel_ms), 1),
            "cancel_ms_median": round(statistics.median(cancel_ms), 1),
            "cancel_ms_each": [round(v, 1) for v in cancel_ms],
            "answer_ms": round(max(answer_ms), 2) if len(answer_ms) == runs else None}


def _stall_while_engine_runs(win, seconds: float, paint: bool, qtest) -> dict:
    from PySide6.QtWidgets import QApplication

    from engines.core import UpscaleRequest, registry

    from ..jobs import Job

    engine = registry.get("upscale", "lanczos")
    src = _photo(1200, 900)
    deadline = time.perf_counter() + seconds
    jobs = []
    # queue enough real engine work (cv2 Lanczos x4, tiled) to keep the worker busy ~seconds
    while len(jobs) < 200:
        jobs.append(win.runner.submit(Job(engine=engine, request=UpscaleRequest(src, scale=4), label="bench")))
        if len(jobs) >= 2:
            break
    def keep_busy():
        if win.runner.pending_count == 0 and time.perf_counter() < deadline:
            win.runner.submit(Job(engine=engine, request=UpscaleRequest(src, scale=4), label="bench"))

    frames: list[float] = []

    def stroke():
        frames.extend(_stroke_frames(win, qtest, 40, "brush", 40))

    gaps = _ui_timer_gaps(seconds, on_tick=keep_busy, each_pass=stroke if paint else None)
    win.runner.cancel_all()
    busy_wait = time.perf_counter() + 10
    while win.runner.is_busy and time.perf_counter() < busy_wait:
        QApplication.processEvents()
    row = _stall_stats(gaps)
    if frames:
        row.update(_frame_stats(frames))
    return row


def _frame_stats(frames: list[float]) -> dict:
    return {
        "frames": len(frames),
        "ms_per_frame_mean": round(statistics.fmean(frames), 3),
        "ms_per_frame_p95": round(float(np.percentile(frames, 95)), 3),
        "ms_per_frame_max": round(max(frames), 3),
    }


def run(width: int, height: int, events: int, engine_seconds: float, cancel_runs: int = 3) -> list[dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from ..document.document import Document
    from ..mainwindow import MainWindow

    app = QApplication.instance() or QApplication(["ganstudio-bench"])
    win = MainWindow()
    win.quiet_errors = True
    win.resize(1400, 900)
    win.show()
    win.set_document(Document(_photo(width, height)))
    app.processEvents()
    image = f"{width}x{height}"
    rows = []
    for tool, size, zoom in (("brush", 40, "fit"), ("brush", 200, "fit"), ("brush", 40, "100%"), ("mask", 80, "fit"), ("label", 60, "fit")):
        if zoom == "fit":
            win.canvas.fit()
        else:
            win.canvas.actual_size()
        app.processEvents()
        frames = _stroke_frames(win, QTest, events, tool, size)
        rows.append({"model": f"{tool} {size}px @ {zoom}", "image": image, **_frame_stats(frames)})
        win.undo.undo()  # keep the document small in memory between runs
    win.canvas.fit()
    rows.append({"model": "UI timer, no engine", "image": image, "engine_seconds": engine_seconds,
                 **_timer_gaps(engine_seconds)})
    rows.append({"model": "idle UI, engine running", "image": image, "engine_seconds": engine_seconds,
                 **_stall_while_engine_runs(win, engine_seconds, paint=False, qtest=QTest)})
    rows.append({"model": "brush 40px while engine runs", "image": image, "engine_seconds": engine_seconds,
                 **_stall_while_engine_runs(win, engine_seconds, paint=True, qtest=QTest)})
    if cancel_runs > 0:
        rows.append({"model": "cancel", **_cancel_latency(win, cancel_runs)})
    win.undo.setClean()
    win.close()
    return rows


def print_table(rows: list[dict]) -> None:
    cols = ["model", "frames", "ms_per_frame_mean", "ms_per_frame_p95", "ms_per_frame_max", "max_stall_ms", "p99_stall_ms",
            "cancel_ms"]
    print(" | ".join(f"{c:>18}" if c != "model" else f"{c:<32}" for c in cols))
    for r in rows:
        print(" | ".join(f"{str(r.get(c, '')):>18}" if c != "model" else f"{r[c]:<32}" for c in cols))
    print(f"goal: <= {BUDGET_MS} ms per frame, no UI stall over {STALL_GOAL_MS:.0f} ms (p99 <= {BUDGET_MS}), "
          f"cancel <= {CANCEL_GOAL_MS:.0f} ms")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average (1 min) at the end: {load:.2f} on {os.cpu_count()} CPUs")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="ganstudio bench canvas")
    p.add_argument("--json", help="write the rows here")
    p.add_argument("--size", default="4000x3000")
    p.add_argument("--events", type=int, default=200, help="mouse-move events per stroke")
    p.add_argument("--engine-seconds", type=float, default=5.0)
    p.add_argument("--cancel-runs", type=int, default=3, help="Cancel clicks (0: no cancel row)")
    args = p.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    rows = run(w, h, args.events, args.engine_seconds, args.cancel_runs)
    print_table(rows)
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        out.write_text(json.dumps({"task": "canvas", "load_1min": load, "cpus": os.cpu_count(), "rows": rows}, indent=2))
        print(f"wrote {out}")
    return 0
