"""``ganstudio batch --cluster ray`` (issue 23) on a real local Ray instance, loopback only: the same
outputs and journal as a single-process run, a worker killed mid-run, the driver SIGKILLed and
resumed, a bad file failing alone, cancel; Ray never imported by the editor or plain batch.

One Ray instance (2 CPUs, no dashboard, telemetry off) is shared by the module's tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engines.batch import BatchOptions, BatchRun, BatchUsageError
from engines.batch.journal import JOURNAL_NAME
from generators import run_to_end

ROOT = Path(__file__).resolve().parents[1]
BSDS_VAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "photos" / "bsds500" / "val"


# ---------------------------------------------------------------------------- helpers
def _photos(folder: Path, n: int, size=(96, 64), seed=0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        a = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        p = folder / f"img{i:02d}.png"
        Image.fromarray(a).save(p, compress_level=1)
        paths.append(p)
    return paths


def _visible(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if not p.name.startswith(".")}


def _hidden(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith(".") and p.name != JOURNAL_NAME)


def _journal_lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / JOURNAL_NAME).read_text(encoding="utf-8").splitlines()]


def _journal_content(out: Path) -> dict[str, dict]:
    """Each file's final record without the clock (time, seconds): what "identical in content" means."""
    final = {}
    for rec in _journal_lines(out):
        final[rec["file"]] = {k: v for k, v in rec.items() if k not in ("time", "seconds")}
    return final


def _drain(run):
    return run_to_end(run.run())


def _single(src: Path, out: Path, options: BatchOptions):
    summary, _ = _drain(BatchRun(src, out, options))
    return summary


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    return env


# ---------------------------------------------------------------------------- no Ray needed
def test_ray_is_never_imported_by_the_editor_or_plain_batch(tmp_path):
    _photos(tmp_path / "in", 2, size=(16, 12))
    code = (
        "import sys\n"
        "import app.dialogs.batch_dialog, app.mainwindow, engines.batch, engines.batch.cli, engines.cli\n"
        "import engines.batch.cluster\n"  # the cluster module itself imports Ray only when a run starts
        f"rc = engines.cli.main(['batch', {str(tmp_path / 'in')!r}, {str(tmp_path / 'out')!r}, "
        "'--task', 'upscale', '--model', 'bicubic', '--scale', '2', '--quiet'])\n"
        "assert rc == 0, rc\n"
        "bad = sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.'))\n"
        "print('RAY', bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    env = _env()
    env["QT_QPA_PLATFORM"] = "offscreen"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "RAY []" in r.stdout


def test_cluster_argument_and_usage_errors(tmp_path, capsys):
    from engines import cli
    from engines.batch.cluster import parse_cluster

    assert parse_cluster("ray") is None
    assert parse_cluster("ray:auto") == "auto"
    assert parse_cluster("ray:10.0.0.5:6379") == "10.0.0.5:6379"
    for bad in ("spark", "ray:", "", "dask:auto"):
        with pytest.raises(BatchUsageError):
            parse_cluster(bad)
    _photos(tmp_path / "in", 1, size=(16, 12))
    args = ["batch", str(tmp_path / "in"), str(tmp_path / "out"), "--task", "upscale", "--model", "bicubic"]
    assert cli.main(args + ["--workers", "2"]) == 2
    assert "go with --cluster" in capsys.readouterr().err
    assert cli.main(args + ["--cluster", "spark"]) == 2
    assert "unknown cluster 'spark'" in capsys.readouterr().err
    assert cli.main(args + ["--cluster", "ray", "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err


def test_the_worker_alone_processes_a_private_copy(tmp_path):
    """The actor's class without Ray: bytes in, bytes out, nothing left in its folder."""
    from engines.batch.cluster import BatchWorker
    from engines.batch.metadata import make_record

    src = _photos(tmp_path / "in", 1, size=(24, 16))[0]
    options = BatchOptions(task="upscale", model="bicubic", scale=2)
    w = BatchWorker(options, None, None)
    record = make_record("upscale", w.run.engine, {"scale": 2, "tile": 0, "format": "keep", "quality": 95})
    res = w.process("sub/img00.png", "sub/img00.png", src.read_bytes(), None, None, record)
    assert res["ok"] and Image.open(__import__("io").BytesIO(res["data"])).size == (48, 32)
    bad = w.process("x.png", "x.png", b"not a png", None, None, record)
    assert not bad["ok"] and bad["message"].startswith("Cannot open x.png")
    assert [p for p in w.tmp.rglob("*") if p.is_file()] == []
    w.close()
    assert not w.tmp.exists()


def test_private_folders_of_dead_actors_are_swept(tmp_path):
    """A killed actor cannot clean up: the next actor on that node removes its private folder."""
    from engines.batch.cluster import PRIVATE_PREFIX, sweep_private_folders

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead = tmp_path / f"{PRIVATE_PREFIX}{int(gone.stdout)}-abc"
    (dead / "in").mkdir(parents=True)
    (dead / "in" / "img03.png").write_bytes(b"copy")
    alive = tmp_path / f"{PRIVATE_PREFIX}{os.getpid()}-def"
    alive.mkdir()
    other = tmp_path / f"{PRIVATE_PREFIX}notapid"
    other.mkdir()
    assert sweep_private_folders(str(tmp_path)) == [dead]
    assert not dead.exists() and alive.exists() and other.exists()


# ---------------------------------------------------------------------------- a real Ray instance
@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    from engines.batch.cluster import import_ray

    try:
        ray = import_ray(local=True)  # telemetry off, loopback only
    except BatchUsageError as exc:
        pytest.skip(f"Ray is not installed ({exc}); `make test` installs the cluster extra")
    user = tmp_path_factory.mktemp("ray-user")
    ctx = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
                   runtime_env={"env_vars": {"GANSTUDIO_DATA": str(user / "data"),
                                             "XDG_CACHE_HOME": str(user / "cache"),
                                             "RAY_USAGE_STATS_ENABLED": "0"}})
    address = ctx.address_info["gcs_address"]
    assert address.startswith("127.0.0.1:"), address  # loopback only
    yield ray, address
    ray.shutdown()


def _cluster(src, out, options, workers=2, **kw):
    from engines.batch.cluster import ClusterBatchRun

    return ClusterBatchRun(src, out, options, workers=workers, **kw)


def _wait_for_free_cpus(ray, n=2):
    import time

    for _ in range(600):  # the actors of a finished (or killed) driver are released asynchronously
        if ray.available_resources().get("CPU", 0) >= n:
            return
        time.sleep(0.1)
    pytest.fail(f"Ray never freed its CPUs: {ray.available_resources()}")


@pytest.mark.data
def test_24_bsds500_photos_identical_to_the_single_process_run(ray_cluster, tmp_path, one_torch_thread):
    if not BSDS_VAL.is_dir():
        pytest.skip(f"BSDS500 val photos not found in {BSDS_VAL}")
    ray, _ = ray_cluster
    _wait_for_free_cpus(ray)
    src = tmp_path / "in"
    src.mkdir()
    for p in sorted(BSDS_VAL.glob("*.jpg"))[:24]:  # small crops keep the suite quick
        with Image.open(p) as im:
            im.crop((160, 100, 256, 172)).save(src / p.name, quality=92)
    options = BatchOptions(task="upscale", model="default", scale=4)
    single = _single(src, tmp_path / "single", options)
    assert single.complete and len(single.done) == 24
    run = _cluster(src, tmp_path / "cluster", options)
    summary, events = _drain(run)
    assert summary.complete and len(summary.done) == 24
    assert _visible(tmp_path / "cluster") == _visible(tmp_path / "single")  # byte-identical
    assert _journal_content(tmp_path / "cluster") == _journal_content(tmp_path / "single")
    assert _hidden(tmp_path / "cluster") == []
    assert sum(s.files for s in run.stats) == 24 and len(run.stats) == 2
    assert all(s.files > 0 for s in run.stats)  # both workers took files
    assert [e.kind for e in events].count("done") == 24


def test_a_worker_killed_mid_run_its_file_is_redone_elsewhere(ray_cluster, tmp_path, one_torch_thread):
    ray, _ = ray_cluster
    _wait_for_free_cpus(ray)
    src = tmp_path / "in"
    _photos(src, 8, size=(160, 96), seed=3)
    options = BatchOptions(task="upscale", model="default", scale=4)
    assert _single(src, tmp_path / "single", options).complete
    run = _cluster(src, tmp_path / "cluster", options)
    gen = run.run()
    killed = None
    while True:
        try:
            ev = next(gen)
        except StopIteration as stop:
            summary = stop.value
            break
        if ev.kind == "start" and ev.rel == "img03.png" and killed is None:
            killed = run.actor_of(ev.rel)  # the file was just sent to it: mid-file
            assert killed is not None
            ray.kill(killed, no_restart=True)
    assert summary.complete and len(summary.done) == 8, summary.failed
    assert run.lost_workers == 1 and len(run.stats) == 3  # a replacement was started
    assert _visible(tmp_path / "cluster") == _visible(tmp_path / "single")  # every output valid
    assert _hidden(tmp_path / "cluster") == []  # no temporary files
    lines = _journal_lines(tmp_path / "cluster")
    done = [r["file"] for r in lines if r["state"] == "done"]
    assert sorted(done) == sorted(set(done)) and len(done) == 8  # no duplicates
    assert [r["state"] for r in lines if r["file"] == "img03.png"] == ["started", "done"]
    assert _journal_content(tmp_path / "cluster") == _journal_content(tmp_path / "single")


def test_a_file_whose_worker_dies_every_time_fails_after_three_tries(ray_cluster, tmp_path, one_torch_thread):
    ray, _ = ray_cluster
    _wait_for_free_cpus(ray)
    src = tmp_path / "in"
    _photos(src, 3, size=(160, 96), seed=4)
    run = _cluster(src, tmp_path / "out", BatchOptions(task="upscale", model="default", scale=4))
    gen = run.run()
    while True:
        try:
            ev = next(gen)
        except StopIteration as stop:
            summary = stop.value
            break
        if ev.kind == "start" and ev.rel == "img01.png":  # as if this file crashed its worker
            ray.kill(run.actor_of(ev.rel), no_restart=True)
    assert sorted(summary.done) == ["img00.png", "img02.png"]
    assert [rel for rel, _ in summary.failed] == ["img01.png"]
    assert "its batch worker was lost 3 times" in summary.failed[0][1]
    assert run.lost_workers == 3
    assert _hidden(tmp_path / "out") == [] and sorted(_visible(tmp_path / "out")) == ["img00.png", "img02.png"]


def test_driver_sigkilled_then_the_same_command_resumes(ray_cluster, tmp_path, one_torch_thread):
    import time

    ray, address = ray_cluster
    _wait_for_free_cpus(ray)
    src = tmp_path / "in"
    _photos(src, 10, size=(128, 96), seed=5)
    options = BatchOptions(task="upscale", model="default", scale=4)
    assert _single(src, tmp_path / "single", options).complete
    out = tmp_path / "cluster"
    cmd = [sys.executable, "-m", "engines.cli", "batch", str(src), str(out), "--task", "upscale",
           "--model", "default", "--scale", "4", "--quiet", "--cluster", f"ray:{address}", "--workers", "1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(3000):  # wait (no timing asserted) until some files are done, then kill -9
            text = (out / JOURNAL_NAME).read_text(encoding="utf-8") if (out / JOURNAL_NAME).exists() else ""
            if text.count('"state": "done"') >= 3 or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()
        proc.send_signal(signal.SIGKILL)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    done_before = sum(r["state"] == "done" for r in _journal_lines(out))
    assert 3 <= done_before < 10
    victim = next(r["output"] for r in _journal_lines(out) if r["state"] == "done")
    (out / victim).write_bytes((out / victim).read_bytes()[:100])  # damaged since: must be redone
    _wait_for_free_cpus(ray)  # the killed driver's actor is released by Ray
    run = _cluster(src, out, options)
    summary, _ = _drain(run)
    assert summary.complete
    assert len(summary.kept) == done_before - 1 and victim not in summary.kept  # re-validated
    assert _visible(out) == _visible(tmp_path / "single")
    assert _hidden(out) == []
    assert _journal_content(out) == _journal_content(tmp_path / "single")


def test_a_bad_file_fails_alone_with_its_reason(ray_cluster, tmp_path, capsys):
    from engines import cli

    ray, _ = ray_cluster
    _wait_for_free_cpus(ray)
    src = tmp_path / "in"
    _photos(src, 4, size=(32, 24))
    (src / "broken.png").write_bytes(b"not a png")
    os.mkfifo(src / "pipe.png")  # never read by the driver (it would block): fails as in a plain run
    out = tmp_path / "out"
    rc = cli.main(["batch", str(src), str(out), "--task", "upscale", "--model", "bicubic", "--scale", "2",
                   "--quiet", "--cluster", "ray", "--workers", "2"])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "4 done, 0 kept from an earlier run, 2 failed, 6 in all" in err
    assert "broken.png: Cannot open broken.png: not an image file" in err
    assert "pipe.png: " in err.split("failed files:")[1]
    assert "cluster: start-up" in err and "w0@" in err and "w1@" in err
    assert sorted(_visible(out)) == [f"img{i:02d}.png" for i in range(4)]
    plain = tmp_path / "plain"
    assert cli.main(["batch", str(src), str(plain), "--task", "upscale", "--model", "bicubic", "--scale", "2",
                     "--quiet"]) == 1
    plain_err = capsys.readouterr().err
    assert _journal_content(out) == _journal_content(plain)  # the same reasons, word for word
    assert "pipe.png" in plain_err


def test_inpaint_masks_travel_with_the_photos_and_shared_storage_mode(ray_cluster, tmp_path):
    ray, _ = ray_cluster
    _wait_for_free_cpus(ray)
    src = tmp_path / "in"
    _photos(src, 4, size=(48, 32), seed=9)
    masks = tmp_path / "masks"
    masks.mkdir()
    for i in range(3):  # img03 has no mask: fails, naming the user's masks folder
        m = np.zeros((32, 48), np.uint8)
        m[8:20, 10:30] = 255
        Image.fromarray(m).save(masks / f"img{i:02d}.png")
    options = BatchOptions(task="inpaint", model="telea", masks=masks)
    single = _single(src, tmp_path / "single", options)
    for shared in (False, True):
        _wait_for_free_cpus(ray)
        out = tmp_path / f"cluster-{shared}"
        summary, _ = _drain(_cluster(src, out, options, shared=shared))
        assert len(summary.done) == 3 and [r for r, _ in summary.failed] == ["img03.png"]
        assert str(masks) in summary.failed[0][1]
        assert summary.failed == single.failed
        assert _visible(out) == _visible(tmp_path / "single")
        assert _journal_content(out) == _journal_content(tmp_path / "single")


def test_cancel_stops_the_actors_and_the_run_resumes(ray_cluster, tmp_path):
    ray, _ = ray_cluster
    _wait_for_free_cpus(ray)
    src = tmp_path / "in"
    _photos(src, 6, size=(32, 24))
    options = BatchOptions(task="upscale", model="bicubic", scale=2)
    run = _cluster(src, tmp_path / "out", options)
    gen = run.run()
    summary = None
    while True:
        try:
            ev = next(gen)
        except StopIteration as stop:
            summary = stop.value
            break
        if ev.kind == "done":
            run.cancel.cancel()
    assert summary.cancelled and 1 <= len(summary.done) < 6
    assert run._slots == {} and _hidden(tmp_path / "out") == []
    _wait_for_free_cpus(ray)  # the actors were killed: their CPUs are free again
    again, _ = _drain(_cluster(src, tmp_path / "out", options))
    assert again.complete and len(again.kept) == len(summary.done)


# ---------------------------------------------------------------------------- the editor's dialog
def test_dialog_cluster_field_is_off_by_default_and_runs_on_ray(qtbot, ray_cluster, tmp_path):
    from app.dialogs.batch_dialog import BatchDialog
    from engines.batch.cluster import ClusterBatchRun

    ray, _ = ray_cluster
    _wait_for_free_cpus(ray)
    d = BatchDialog()
    qtbot.addWidget(d)
    assert not d.cluster.isChecked() and not d.cluster_address.isEnabled()
    _photos(tmp_path / "in", 3, size=(32, 24))
    d.input.edit.setText(str(tmp_path / "in"))
    d.output.edit.setText(str(tmp_path / "out"))
    d.model.setCurrentIndex(d.model.findData("bicubic"))
    d.scale.setValue(2)
    d.cluster.setChecked(True)
    assert d.cluster_address.isEnabled()
    d.cluster_address.setText("spark")
    assert not d.start_run()
    assert "unknown cluster 'spark'" in d.overall_label.text()
    d.cluster_address.setText("ray")
    assert d.start_run()
    assert isinstance(d.worker.batch, ClusterBatchRun)
    qtbot.waitUntil(lambda: d.worker is None, timeout=120000)
    assert d.last_summary.complete and len(d.last_summary.done) == 3
    d.cluster.setChecked(False)
    assert isinstance(d.make_run(tmp_path / "in", tmp_path / "out2", set()), BatchRun)
    assert not isinstance(d.make_run(tmp_path / "in", tmp_path / "out2", set()), ClusterBatchRun)
