"""Batch naming, overwrite, recursion, formats, journal and resume rules, task plug-ins, out of
memory, pause and cancel (engine side, no Qt)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engines.batch import BatchOptions, BatchRun, BatchUsageError, PauseGate
from engines.batch.journal import JOURNAL_NAME, Journal
from engines.batch.plan import plan_outputs, scan_inputs
from engines.batch.progress import ProgressBar, format_duration
from engines.cli import main as cli
from engines.core import registry
from engines.core.protocol import EngineInfo, Progress, Result, Task
from engines.imageio import load_image


def photo(path: Path, w: int = 24, h: int = 16, seed: int = 0, mode: str = "RGB") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    a = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    Image.fromarray(a).convert(mode).save(path)
    return path


def batch(src: Path, out: Path, *extra: str, task: str = "upscale", model: str = "bicubic") -> int:
    return cli(["batch", str(src), str(out), "--task", task, "--model", model, "--quiet", *extra])


def states(out: Path) -> dict[str, dict]:
    return Journal(out).entries


def visible(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and not p.name.startswith("."))


# ----------------------------------------------------------------------------- naming


def test_name_clashes_in_the_plan_get_the_source_extension(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    photo(src / "a.jpg")
    photo(src / "a.png")
    photo(src / "b.png")
    assert batch(src, out, "--format", "png", "--scale", "2") == 0
    assert visible(out) == ["a-jpg.png", "a-png.png", "b.png"]


def test_existing_files_are_never_overwritten_unless_asked(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    photo(src / "a.png")
    out.mkdir()
    (out / "a.png").write_bytes(b"the user's own file")
    assert batch(src, out, "--scale", "2") == 0
    assert (out / "a.png").read_bytes() == b"the user's own file"
    assert load_image(out / "a-1.png").size == (48, 32)
    # a second run keeps its own name (from the journal), never a-2
    assert batch(src, out, "--scale", "2") == 0
    assert visible(out) == ["a-1.png", "a.png"]
    out2 = tmp_path / "out2"
    out2.mkdir()
    (out2 / "a.png").write_bytes(b"old")
    assert batch(src, out2, "--scale", "2", "--overwrite") == 0
    assert visible(out2) == ["a.png"] and load_image(out2 / "a.png").size == (48, 32)


def test_plan_is_predictable():
    files = ["x/a.jpg", "x/a.png", "y.tif"]
    items = plan_outputs(files, Path("/in"), Path("/nonexistent-out"), "webp", False, {})
    assert [i.output_rel for i in items] == ["x/a-jpg.webp", "x/a-png.webp", "y.webp"]
    items = plan_outputs(files, Path("/in"), Path("/nonexistent-out"), "keep", False, {"y.tif": "y-7.tif"})
    assert [i.output_rel for i in items] == ["x/a.jpg", "x/a.png", "y-7.tif"]


def test_recursive_keeps_the_folder_structure_and_skips_loops(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    photo(src / "top.png")
    photo(src / "sub" / "deep" / "d.png")
    photo(src / "sub" / "s.jpg")
    (src / "notes.txt").write_text("not an image")
    (src / "sub" / "back").symlink_to(src, target_is_directory=True)  # a folder loop
    assert batch(src, out, "--scale", "2") == 0
    assert visible(out) == ["top.png"]  # not recursive: sub-folders ignored
    scan = scan_inputs(src, recursive=True)
    assert scan.files == ["sub/deep/d.png", "sub/s.jpg", "top.png"]
    assert scan.ignored == 1 and any("sub/back" in w for w in scan.warnings)
    assert batch(src, out, "--scale", "2", "--recursive") == 0
    assert visible(out) == ["sub/deep/d.png", "sub/s.jpg", "top.png"]


def test_output_folder_inside_input_is_not_scanned_and_same_folder_refused(tmp_path, capsys):
    src = tmp_path / "in"
    photo(src / "a.png")
    assert batch(src, src / "results", "--recursive", "--scale", "2") == 0
    assert batch(src, src / "results", "--recursive", "--scale", "2") == 0
    assert visible(src / "results") == ["a.png"]  # its own outputs never became inputs
    assert batch(src, src) == 2
    assert "must differ from the input folder" in capsys.readouterr().err


@pytest.mark.parametrize("fmt, suffix, pil", [("png", ".png", "PNG"), ("jpg", ".jpg", "JPEG"),
                                              ("webp", ".webp", "WEBP"), ("tiff", ".tif", "TIFF")])
def test_output_formats(tmp_path, fmt, suffix, pil):
    src, out = tmp_path / "in", tmp_path / "out"
    photo(src / "a.png")
    assert batch(src, out, "--format", fmt, "--scale", "2") == 0
    assert visible(out) == [f"a{suffix}"]
    with Image.open(out / f"a{suffix}") as im:
        assert im.format == pil and im.size == (48, 32)


def test_usage_errors_exit_2(tmp_path, capsys):
    src = tmp_path / "in"
    photo(src / "a.png")
    assert batch(tmp_path / "missing", tmp_path / "o") == 2
    assert batch(src, tmp_path / "o", model="no-such-model") == 2
    assert "known:" in capsys.readouterr().err
    assert batch(src, tmp_path / "o", task="inpaint", model="telea") == 2
    assert "--masks" in capsys.readouterr().err
    assert cli(["batch", str(src)]) == 2  # argparse: OUT_DIR missing
    for task in ("colorize", "synthesize"):
        if not registry.infos(Task(task)):
            assert batch(src, tmp_path / "o", task=task) == 2
            assert f"no {task} engine is installed yet" in capsys.readouterr().err


# ----------------------------------------------------------------------------- journal and resume


def test_torn_journal_line_is_ignored_and_cut(tmp_path):
    j = Journal(tmp_path)
    j.record("a.png", "done", output="a.png")
    j.close()
    with open(tmp_path / JOURNAL_NAME, "ab") as f:
        f.write(b'{"file": "b.png", "state": "do')  # a crash mid-write
    j = Journal(tmp_path)
    assert list(j.entries) == ["a.png"] and j.torn_lines == 1
    j.record("c.png", "started", output="c.png")
    j.close()
    lines = (tmp_path / JOURNAL_NAME).read_text().splitlines()
    assert [json.loads(line)["file"] for line in lines] == ["a.png", "c.png"]


def test_resume_revalidates_outputs(tmp_path, capsys):
    src, out = tmp_path / "in", tmp_path / "out"
    for i in range(4):
        photo(src / f"p{i}.png", seed=i)
    assert batch(src, out, "--scale", "2") == 0
    good = (out / "p0.png").read_bytes()
    (out / "p1.png").write_bytes(b"\x89PNG broken")  # corrupted after the run
    (out / "p2.png").unlink()  # deleted
    (out / ".p3.png.abc123.png").write_bytes(b"half")  # a killed write's temporary
    capsys.readouterr()
    assert batch(src, out, "--scale", "2") == 0
    assert "2 done, 2 kept" in capsys.readouterr().err
    assert (out / "p0.png").read_bytes() == good
    assert load_image(out / "p1.png").size == (48, 32) and (out / "p2.png").is_file()
    assert not (out / ".p3.png.abc123.png").exists()
    # changed parameters: everything is redone under the same names
    assert batch(src, out, "--scale", "3") == 0
    assert "4 done, 0 kept" in capsys.readouterr().err
    assert load_image(out / "p0.png").size == (72, 48)
    # a changed input is redone too
    photo(src / "p0.png", seed=99)
    assert batch(src, out, "--scale", "3") == 0
    assert "1 done, 3 kept" in capsys.readouterr().err


def test_one_bad_file_never_ends_the_run(tmp_path, capsys):
    src, out = tmp_path / "in", tmp_path / "out"
    photo(src / "a.png")
    (src / "b.png").write_bytes(b"junk")
    photo(src / "c.png", seed=2)
    assert batch(src, out, "--scale", "2") == 1
    err = capsys.readouterr().err
    assert "2 done" in err and "1 failed" in err and "b.png: Cannot open b.png" in err
    assert visible(out) == ["a.png", "c.png"]


def test_jobs_give_the_same_outputs(tmp_path):
    src = tmp_path / "in"
    for i in range(6):
        photo(src / f"p{i}.png", seed=i)
    assert batch(src, tmp_path / "one", "--scale", "2") == 0
    assert batch(src, tmp_path / "three", "--scale", "2", "--jobs", "3") == 0
    for name in visible(tmp_path / "one"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "three" / name).read_bytes()


# ----------------------------------------------------------------------------- inpaint with masks


def test_inpaint_with_masks_folder(tmp_path, capsys):
    src, masks, out = tmp_path / "in", tmp_path / "masks", tmp_path / "out"
    photo(src / "a.png")
    photo(src / "sub" / "b.jpg", seed=1)
    photo(src / "c.png", seed=2)
    photo(src / "d.png", seed=3)
    m = np.zeros((16, 24), np.uint8)
    m[4:10, 6:14] = 255
    masks.mkdir()
    Image.fromarray(m).save(masks / "a.png")
    (masks / "sub").mkdir()
    Image.fromarray(m).save(masks / "sub" / "b.png")
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(masks / "c.png")  # wrong size
    assert batch(src, out, "--masks", str(masks), "--recursive", task="inpaint", model="telea") == 1
    err = capsys.readouterr().err
    assert "the mask is 5x5 but the photo is 24x16" in err
    assert "no mask for d.png" in err
    a_in, a_out = load_image(src / "a.png").rgb, load_image(out / "a.png").rgb
    assert np.array_equal(a_in[m == 0], a_out[m == 0]) and not np.array_equal(a_in, a_out)
    assert visible(out) == ["a.png", "sub/b.jpg"]


# ----------------------------------------------------------------------------- plug-in tasks, OOM


class _FakeColorize:
    info = EngineInfo(id="fake-grey", task=Task.COLORIZE, title="Fake colorizer", license="MIT")

    def run(self, request, ctx):
        yield Progress(1, 1)
        return Result(image=np.ascontiguousarray(request.image[:, :, ::-1]))


class _OomUpscale:
    """Runs out of memory unless the tile is at most ``fits``."""

    def __init__(self, fits: int) -> None:
        self.fits = fits
        self.info = EngineInfo(id=f"oom-{fits}", task=Task.UPSCALE, title="OOM test", license="MIT",
                               scale=2, supports_tiling=True)
        self.tiles: list[int] = []

    def run(self, request, ctx):
        self.tiles.append(request.tile)
        if not request.tile or request.tile > self.fits:
            raise MemoryError("out of memory")
        yield Progress(1, 1)
        return Result(image=np.repeat(np.repeat(request.image, 2, 0), 2, 1))


@pytest.fixture
def registered():
    added = []

    def add(engine):
        registry.register(engine.info, lambda: engine)
        added.append((engine.info.task, engine.info.id))
        return engine

    yield add
    for key in added:
        registry._ENGINES.pop(key, None)
        registry._INSTANCES.pop(key, None)


def test_a_task_plugs_in_by_registering_an_engine(tmp_path, registered):
    src, out = tmp_path / "in", tmp_path / "out"
    photo(src / "a.png")
    registered(_FakeColorize())
    assert batch(src, out, task="colorize", model="fake-grey") == 0
    assert np.array_equal(load_image(out / "a.png").rgb, load_image(src / "a.png").rgb[:, :, ::-1])


def test_out_of_memory_splits_the_tile_then_reports(tmp_path, registered, capsys):
    src = tmp_path / "in"
    photo(src / "a.png")
    engine = registered(_OomUpscale(fits=128))
    assert batch(src, tmp_path / "o1", "--scale", "2", model=engine.info.id) == 0
    assert engine.tiles == [0, 512, 256, 128]
    rec = states(tmp_path / "o1")["a.png"]
    assert any("finished with 128 px tiles" in n for n in rec["notes"])
    never = registered(_OomUpscale(fits=0))
    assert batch(src, tmp_path / "o2", "--scale", "2", model=never.info.id) == 1
    assert "out of memory (even with the smallest tiles)" in capsys.readouterr().err


# ----------------------------------------------------------------------------- pause, cancel, progress


def test_pause_and_cancel_between_files(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    for i in range(5):
        photo(src / f"p{i}.png", seed=i)
    gate = PauseGate()
    run = BatchRun(src, out, BatchOptions(task="upscale", model="bicubic", scale=2), gate=gate)
    gen = run.run()
    kinds = []
    for ev in gen:
        kinds.append(ev.kind)
        if ev.kind == "done":
            run.cancel.cancel()  # the user pressed Cancel after the first file
    assert kinds.count("done") == 1
    # the same run again, paused before it starts: nothing happens until resumed
    run2 = BatchRun(src, out, BatchOptions(task="upscale", model="bicubic", scale=2), gate=gate)
    gate.pause()
    gen = run2.run()
    assert next(gen).kind == "plan"
    assert next(gen).kind == "kept"  # checking earlier outputs is not paused
    import threading

    threading.Timer(0.2, gate.resume).start()
    rest = [ev.kind for ev in gen]
    assert rest.count("done") == 4


def test_progress_bar_lines_and_eta():
    import io

    from engines.batch.runner import FileEvent

    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar.update(FileEvent("plan", total=4))
    bar.update(FileEvent("start", "a.png", 4, 0))
    bar.update(FileEvent("done", "a.png", 4, 1, output=Path("out/a.png"), seconds=0.5))
    bar.update(FileEvent("failed", "b.png", 4, 2, message="Cannot open b.png: the file is empty"))
    text = stream.getvalue()
    assert "done a.png -> out/a.png" in text and "FAILED b.png: Cannot open b.png" in text
    assert bar.eta_seconds() is not None and "2/4" in bar.line()
    assert format_duration(3725) == "1:02:05" and format_duration(65) == "1:05"


def test_prepare_reports_usage_errors_as_exceptions(tmp_path):
    with pytest.raises(BatchUsageError, match="input folder not found"):
        BatchRun(tmp_path / "nope", tmp_path / "o", BatchOptions(task="upscale", model="bicubic")).prepare()


def test_two_batches_never_write_one_output_folder(tmp_path, capsys):
    src, out = tmp_path / "in", tmp_path / "out"
    photo(src / "a.png")
    assert batch(src, out, "--scale", "2") == 0
    holder = Journal(out)
    holder.open()  # a batch running now (its lock dies with its process, kill -9 included)
    try:
        assert batch(src, out, "--scale", "2") == 2
        assert "another batch is already writing" in capsys.readouterr().err
    finally:
        holder.close()
    assert batch(src, out, "--scale", "2") == 0


def test_oversized_result_is_refused_per_file(tmp_path, monkeypatch, capsys):
    import engines.batch.runner as runner

    src = tmp_path / "in"
    photo(src / "small.png", 8, 8)
    photo(src / "big.png", 64, 64)
    monkeypatch.setattr(runner, "MAX_OUTPUT_PIXELS", 100 * 100)
    assert batch(src, tmp_path / "out", "--scale", "2") == 1
    assert "big.png: the result would be 128x128 (0.016 MP), above the 0.01 MP limit" in capsys.readouterr().err
    assert visible(tmp_path / "out") == ["small.png"]


def test_journal_write_failure_stops_with_a_message(tmp_path, monkeypatch, capsys):
    import errno

    src, out = tmp_path / "in", tmp_path / "out"
    photo(src / "a.png")
    photo(src / "b.png", seed=1)
    real = Journal.record
    calls = []

    def record(self, rel, state, **fields):
        calls.append(state)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, rel, state, **fields)

    monkeypatch.setattr(Journal, "record", record)
    assert batch(src, out, "--scale", "2") == 1
    assert "cannot write the journal" in capsys.readouterr().err
    monkeypatch.setattr(Journal, "record", real)
    assert batch(src, out, "--scale", "2") == 0
    assert "1 done, 1 kept" in capsys.readouterr().err


def test_label_maps_are_read_as_class_ids(tmp_path):
    from engines.batch.tasks import labels_from
    from engines.core.protocol import EngineError

    ids = np.array([[0, 1, 2], [3, 255, 1]], np.uint8)
    pal = Image.fromarray(ids, "P")
    pal.putpalette([200, 10, 10, 10, 200, 10, 10, 10, 200, 90, 90, 90] + [0] * 756)
    pal.save(tmp_path / "pal.png")
    Image.fromarray(ids, "L").save(tmp_path / "grey.png")
    for name in ("pal.png", "grey.png"):
        got = labels_from(load_image(tmp_path / name))
        assert got.tolist() == [[0, 1, 2], [3, -1, 1]]
    photo(tmp_path / "colour.png")
    with pytest.raises(EngineError, match="colour image"):
        labels_from(load_image(tmp_path / "colour.png"))


class _BuggyUpscale:
    info = EngineInfo(id="buggy", task=Task.UPSCALE, title="Buggy", license="MIT")

    def run(self, request, ctx):
        if request.image.shape[1] > 30:
            raise ZeroDivisionError("a bug in the engine")
        yield Progress(1, 1)
        return Result(image=request.image)


def test_an_unexpected_error_fails_that_file_only(tmp_path, registered, capsys):
    src = tmp_path / "in"
    photo(src / "a.png", 24, 16)
    photo(src / "b.png", 40, 16)
    photo(src / "c.png", 24, 16, seed=3)
    engine = registered(_BuggyUpscale())
    assert batch(src, tmp_path / "out", model=engine.info.id) == 1
    err = capsys.readouterr().err
    assert "b.png: unexpected error in Buggy: ZeroDivisionError: a bug in the engine" in err
    assert visible(tmp_path / "out") == ["a.png", "c.png"]
