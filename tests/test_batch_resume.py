"""Kill -9 a batch midway, run the same command again: every output valid and byte-identical to an
uninterrupted run's, no half-written file ever visible."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from engines.batch.journal import JOURNAL_NAME
from engines.imageio import load_image

ROOT = Path(__file__).resolve().parents[1]
N_FILES = 10


def _photos(folder: Path) -> None:
    folder.mkdir()
    rng = np.random.default_rng(7)
    for i in range(N_FILES):
        a = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
        Image.fromarray(a).save(folder / f"img{i:02d}.png", compress_level=1)


def _command(src: Path, out: Path) -> list[str]:
    # bicubic is deterministic: outputs of two runs compare byte for byte
    return [sys.executable, "-m", "engines.cli", "batch", str(src), str(out), "--task", "upscale",
            "--model", "bicubic", "--scale", "4", "--quiet"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    return env


def _done_count(out: Path) -> int:
    try:
        text = (out / JOURNAL_NAME).read_text(encoding="utf-8")
    except FileNotFoundError:
        return 0
    return sum('"state": "done"' in line for line in text.splitlines())


def _visible(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if not p.name.startswith(".")}


def test_sigkill_midway_then_resume_gives_identical_outputs(tmp_path):
    src = tmp_path / "in"
    _photos(src)
    reference = tmp_path / "reference"
    from engines.cli import main as cli

    assert cli(_command(src, reference)[3:]) == 0  # the uninterrupted run, in this process
    expected = _visible(reference)
    assert len(expected) == N_FILES

    out = tmp_path / "out"
    proc = subprocess.Popen(_command(src, out), env=_env(), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while _done_count(out) < 1:  # at least one file done: the kill lands mid-run
            assert proc.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    done_before = _done_count(out)
    assert 1 <= done_before < N_FILES, f"killed after {done_before} of {N_FILES}"

    # What a reader sees after the crash: only complete, valid outputs (temporaries are hidden).
    for name, data in _visible(out).items():
        assert data == expected[name], f"{name} is visible but not complete"

    result = subprocess.run(_command(src, out), env=_env(), cwd=ROOT, timeout=120,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"{N_FILES - done_before} done, {done_before} kept" in result.stderr
    got = _visible(out)
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name] == expected[name], f"{name} differs from the uninterrupted run"
        load_image(out / name)
    hidden = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert hidden == [JOURNAL_NAME]  # killed writes' temporaries were cleaned up
    states = {}
    for line in (out / JOURNAL_NAME).read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        states[rec["file"]] = rec["state"]
    assert set(states.values()) == {"done"}
