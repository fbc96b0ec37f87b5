"""Hostile input folders through ``ganstudio batch`` (issue 18, defects 1-4 and the batch half of
7): names that are not UTF-8, a FIFO, a link to /dev/zero, a folder named like a photo, names of
255 bytes, masks that are folders or link loops. Each ends as a correct output or a clear per-file
message, the run always ends, and a resumed run finishes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engines.atomic import temp_prefix
from engines.batch.journal import JOURNAL_NAME, Journal
from engines.cli import main as cli
from engines.imageio import load_image, save_image

BAD_NAME = os.fsdecode(b"bad-\xff.png")  # the bytes 0xff are not UTF-8
LONG_NAME = "a" * 251 + ".png"  # 255 bytes: the most one file name can hold


def photo(path: Path, seed: int = 0) -> Path:
    a = np.random.default_rng(seed).integers(0, 256, (16, 24, 3), dtype=np.uint8)
    Image.fromarray(a).save(path)
    return path


def batch(src: Path, out: Path, *extra: str, task: str = "upscale", model: str = "bicubic") -> int:
    return cli(["batch", str(src), str(out), "--task", task, "--model", model, "--quiet",
                "--scale", "2", *extra])


def test_a_name_that_is_not_utf8_is_processed_journaled_and_resumed(tmp_path, capsys):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i, name in enumerate(("a.png", BAD_NAME, "c.png")):
        photo(src / name, seed=i)
    (src / os.fsdecode(b"broken-\xfe.png")).write_bytes(b"not an image")
    assert batch(src, out) == 1  # only the broken file fails
    err = capsys.readouterr().err
    assert "broken-\\xfe.png" in err and "not an image" in err  # shown readably
    assert b"bad-\xff.png" in os.listdir(os.fsencode(out))  # the output keeps the exact bytes
    (out / JOURNAL_NAME).read_bytes().decode("utf-8")  # the journal stays valid UTF-8 ...
    entries = Journal(out).entries
    assert entries[BAD_NAME]["state"] == "done"  # ... and gives the name back losslessly
    assert entries[BAD_NAME]["output"] == BAD_NAME
    assert "broken-\\xfe.png" in entries[os.fsdecode(b"broken-\xfe.png")]["error"]
    big = load_image(out / BAD_NAME).rgb
    assert big.shape == (32, 48, 3)
    (src / os.fsdecode(b"broken-\xfe.png")).unlink()
    assert batch(src, out) == 0  # the same command finishes: the three outputs are kept
    assert "0 done, 3 kept" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
def test_special_files_fail_alone_and_the_run_ends(tmp_path):
    """A FIFO used to hang the run forever (with --jobs 2 the rest finished but it never exited),
    a link to /dev/zero read until MemoryError, a folder named x.png vanished silently. Run in a
    child process so that a regression fails on its timeout instead of hanging the suite."""
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    photo(src / "a.png")
    os.mkfifo(src / "x.png")
    os.symlink("/dev/zero", src / "z.png")
    (src / "d.png").mkdir()
    photo(src / "d.png" / "inner.png")
    proc = subprocess.run([sys.executable, "-m", "engines.cli", "batch", str(src), str(out), "--task",
                           "upscale", "--model", "bicubic", "--scale", "2", "--jobs", "2", "--quiet"],
                          capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[1])
    assert proc.returncode == 1, proc.stderr
    assert "x.png: Cannot open x.png: it is a named pipe (FIFO), not a regular file" in proc.stderr
    assert "z.png: Cannot open z.png: it is a character device, not a regular file" in proc.stderr
    assert "d.png: skipped (a folder, not an image file" in proc.stderr
    assert "1 done, 0 kept from an earlier run, 2 failed, 3 in all" in proc.stderr
    assert (out / "a.png").is_file() and "Traceback" not in proc.stderr


def test_names_of_255_bytes_are_written_and_stale_temporaries_cleaned(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    photo(src / LONG_NAME)
    stale = out / (temp_prefix(LONG_NAME) + "abcdefgh.png")  # a write killed before its rename
    stale.write_bytes(b"half")
    assert len(os.fsencode(stale.name)) <= 255
    assert batch(src, out) == 0
    assert load_image(out / LONG_NAME).rgb.shape == (32, 48, 3)
    assert sorted(p.name for p in out.iterdir()) == sorted([LONG_NAME, JOURNAL_NAME])
    # the editor's save goes through the same atomic write, with any suffix and multi-byte names
    for name in ("é" * 125 + ".tif", "b" * 250 + ".jpeg"):
        save_image(tmp_path / name, np.full((4, 4, 3), 0.5, np.float32))
        assert load_image(tmp_path / name).size == (4, 4)


def test_a_mask_that_is_a_folder_or_a_link_loop_says_so(tmp_path, capsys):
    src, masks, out = tmp_path / "in", tmp_path / "masks", tmp_path / "out"
    src.mkdir()
    masks.mkdir()
    photo(src / "a.png")
    photo(src / "b.png", seed=1)
    (masks / "a.png").mkdir()
    os.symlink("b.png", masks / "b.png")  # points at itself
    assert batch(src, out, "--masks", str(masks), task="inpaint", model="telea") == 1
    err = capsys.readouterr().err
    assert "mask: Cannot open a.png: it is a folder, not an image file" in err
    assert "mask: Cannot open b.png: it is a symbolic link loop" in err
    assert "no mask" not in err


def test_long_names_that_the_naming_rules_lengthen_are_cut_to_fit(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    stem = "é" * 125  # 250 bytes: "-jpg" + ".png" would make 258
    photo(src / (stem + ".jpg"))
    photo(src / (stem + ".png"), seed=1)
    assert batch(src, out, "--format", "png") == 0
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert len(names) == 2 and names[0] != names[1]
    assert all(len(os.fsencode(n)) <= 255 and n.startswith("é" * 100) for n in names)
    assert {n[-8:] for n in names} == {"-jpg.png", "-png.png"}  # cut at a character, tags kept
    assert batch(src, out, "--format", "png") == 0  # resumes with the same names
