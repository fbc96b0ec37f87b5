"""The bad-input corpus through ``ganstudio batch``: every case ends as a correct output or a clear
per-file error (which one is asserted), and one bad file never ends the run."""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from bad_corpus import CASES, LARGE_SIZE, chmod_works, make_corpus, quadrants, simulate_unreadable  # noqa: E402

from engines.batch.journal import JOURNAL_NAME  # noqa: E402
from engines.cli import main as cli  # noqa: E402
from engines.imageio import apply_orientation, load_image  # noqa: E402


def journal_states(out: Path) -> dict[str, dict]:
    states = {}
    for line in (out / JOURNAL_NAME).read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        states[rec["file"]] = rec
    return states


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry's (mode, size, mtime, content hash) without following links."""
    import hashlib

    out = {}
    for p in folder.iterdir():
        st = p.lstat()
        digest = "" if p.is_symlink() else hashlib.sha256(p.read_bytes()).hexdigest()
        out[p.name] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    make_corpus(folder)
    folder_snapshot[str(folder)] = snapshot(folder)
    return folder


folder_snapshot: dict[str, dict] = {}


@pytest.fixture(scope="module")
def corpus_run(corpus, tmp_path_factory):
    """One batch over the corpus (bicubic x2), shared by the assertions below."""
    out = tmp_path_factory.mktemp("corpus-out")
    mp = pytest.MonkeyPatch()
    if not chmod_works():
        simulate_unreadable(mp, "unreadable.png")
    try:
        code = cli(["batch", str(corpus), str(out), "--task", "upscale", "--model", "bicubic",
                    "--scale", "2", "--quiet"])
    finally:
        mp.undo()
    return code, out, journal_states(out)


def test_every_case_gets_the_expected_outcome(corpus_run):
    code, out, states = corpus_run
    assert code == 1  # some files failed: listed, exit 1
    for case in CASES:
        rec = states.get(case.name)
        assert rec is not None, f"{case.name}: not in the journal"
        if case.expect == "ok":
            assert rec["state"] == "done", f"{case.name}: {rec.get('error')}"
            load_image(out / rec["output"], max_pixels=None)  # the output decodes
        else:
            assert rec["state"] == "failed", f"{case.name} should fail ({case.reason})"
            assert case.reason.lower() in rec["error"].lower(), rec["error"]
            assert case.name in rec["error"]  # the message names the file
            assert not (out / rec["output"]).exists()


def test_no_temporary_or_partial_files_left(corpus_run):
    _, out, states = corpus_run
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    done = sorted(r["output"] for r in states.values() if r["state"] == "done")
    assert visible == done
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [JOURNAL_NAME]


def test_kept_properties_of_correct_outputs(corpus_run):
    _, out, states = corpus_run
    r16 = load_image(out / "rgb16.png")
    assert r16.bit_depth == 16 and r16.size == (80, 48)
    assert load_image(out / "rgb16.tif").bit_depth == 16
    pal = load_image(out / "palette-transparent.png")
    assert pal.alpha is not None and pal.alpha.min() == 0.0 and pal.alpha.max() == 1.0
    ga = load_image(out / "grey-alpha.png")
    assert ga.alpha is not None and ga.size == (80, 60)
    cmyk = load_image(out / "cmyk.jpg")
    assert cmyk.source_mode == "RGB" and cmyk.size == (128, 96)
    gif = states["animated.gif"]
    assert gif["output"] == "animated.png"  # GIF can't be written: PNG beside it
    assert any("first of 3 frames" in n for n in gif["notes"])
    assert load_image(out / "large.jpg", max_pixels=None).size == (LARGE_SIZE[0] * 2, LARGE_SIZE[1] * 2)
    assert (out / "photo ünïcode café.png").is_file()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_outputs_are_upright_and_keep_exif(corpus_run, orientation):
    from PIL import Image

    _, out, _ = corpus_run
    img = load_image(out / f"orientation-{orientation}.jpg")
    expected = apply_orientation(quadrants(), orientation)
    h, w = expected.shape[:2]
    assert img.size == (w * 2, h * 2)
    # Compare the colour at the centre of each quadrant (JPEG blurs the edges).
    for fy in (0.25, 0.75):
        for fx in (0.25, 0.75):
            want = expected[int(h * fy), int(w * fx)] / 255.0
            got = img.rgb[int(h * 2 * fy), int(w * 2 * fx)]
            assert np.abs(got - want).max() < 0.1
    with Image.open(out / f"orientation-{orientation}.jpg") as im:
        exif = im.getexif()
        assert exif.get(0x0112, 1) == 1  # normalised: the pixels are upright
        assert exif.get(0x010F) == "GAN Studio corpus"  # other EXIF kept


def test_inputs_untouched(corpus, corpus_run):
    assert sorted(p.name for p in corpus.iterdir()) == sorted(c.name for c in CASES)
    assert snapshot(corpus) == folder_snapshot[str(corpus)]  # bytes, modes and times unchanged


def test_read_only_output_folder_is_refused_clearly(tmp_path, monkeypatch, capsys):
    src = tmp_path / "in"
    src.mkdir()
    from PIL import Image

    Image.fromarray(quadrants()).save(src / "a.png")
    out = tmp_path / "out"
    out.mkdir()
    if chmod_works():
        os.chmod(out, 0o555)
    else:  # root writes anyway: fail file creation there as the kernel would for a user
        import tempfile

        real = tempfile.mkstemp

        def mkstemp(*args, dir=None, **kwargs):
            if dir is not None and Path(dir).resolve() == out.resolve():
                raise PermissionError(errno.EACCES, "Permission denied", str(dir))
            return real(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    try:
        code = cli(["batch", str(src), str(out), "--task", "upscale", "--model", "bicubic", "--quiet"])
    finally:
        os.chmod(out, 0o755)
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot write to the output folder" in err and "permission denied" in err
    assert list(out.iterdir()) == []


def test_full_disk_fails_that_file_stops_and_resumes(tmp_path, monkeypatch, capsys):
    from PIL import Image

    import engines.imageio._save as save_mod

    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(4):
        Image.fromarray(np.roll(quadrants(), i * 5, axis=1)).save(src / f"p{i}.png")
    real = save_mod.atomic_write_bytes

    def full_after_first(path, data):
        if Path(path).name != "p0.png":
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)

    monkeypatch.setattr(save_mod, "atomic_write_bytes", full_after_first)
    args = ["batch", str(src), str(out), "--task", "upscale", "--model", "bicubic", "--scale", "2", "--quiet"]
    assert cli(args) == 1
    err = capsys.readouterr().err
    assert "p1.png" in err and "No space left on device" in err and "disk is full" in err
    states = journal_states(out)
    assert states["p0.png"]["state"] == "done" and states["p1.png"]["state"] == "failed"
    assert "p2.png" not in states  # stopped: not tried
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["p0.png"]
    monkeypatch.setattr(save_mod, "atomic_write_bytes", real)  # space freed
    assert cli(args) == 0
    err = capsys.readouterr().err
    assert "3 done, 1 kept" in err
