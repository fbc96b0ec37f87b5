"""engines.atomic: a target is replaced by a complete file or not at all, and no temp is left."""

from __future__ import annotations

import os

import pytest

from engines import atomic
from engines.atomic import atomic_path, atomic_write_bytes


def _names(d):
    return sorted(p.name for p in d.iterdir())


def test_write_bytes_creates_and_replaces(tmp_path):
    target = tmp_path / "a.bin"
    atomic_write_bytes(target, b"one")
    assert target.read_bytes() == b"one"
    atomic_write_bytes(target, b"two two")
    assert target.read_bytes() == b"two two"
    assert _names(tmp_path) == ["a.bin"]


def test_write_bytes_accepts_str_path_and_keeps_mode(tmp_path):
    target = tmp_path / "m.txt"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    atomic_write_bytes(str(target), b"new")
    assert target.read_bytes() == b"new"
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o640


def test_new_file_gets_umask_permissions_not_0600(tmp_path):
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    target = tmp_path / "fresh.txt"
    old = os.umask(0o022)
    try:
        atomic_write_bytes(target, b"x")
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o644


def test_atomic_path_temp_is_beside_target_with_suffix(tmp_path):
    target = tmp_path / "img.png"
    with atomic_path(target, ".png") as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.endswith(".png") and tmp != target
        assert tmp.exists()
        tmp.write_bytes(b"data")
        assert not target.exists()  # nothing visible until the block succeeds
    assert target.read_bytes() == b"data"
    assert _names(tmp_path) == ["img.png"]


def test_failure_mid_write_leaves_original_and_no_temp(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_bytes(b"original")
    with pytest.raises(RuntimeError, match="disk on fire"):
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"half-wri")
            raise RuntimeError("disk on fire")
    assert target.read_bytes() == b"original"
    assert _names(tmp_path) == ["keep.txt"]


def test_fsync_failure_leaves_original_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "keep.txt"
    target.write_bytes(b"original")

    def broken(path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "_fsync_file", broken)
    with pytest.raises(OSError, match="No space"):
        atomic_write_bytes(target, b"new content")
    assert target.read_bytes() == b"original"
    assert _names(tmp_path) == ["keep.txt"]


def test_replace_failure_leaves_original_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "keep.txt"
    target.write_bytes(b"original")

    def broken(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic.os, "replace", broken)
    with pytest.raises(PermissionError):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"original"
    assert _names(tmp_path) == ["keep.txt"]


def test_block_deleting_temp_is_an_error_and_target_untouched(tmp_path):
    target = tmp_path / "t.txt"
    target.write_bytes(b"original")
    with pytest.raises(FileNotFoundError):
        with atomic_path(target) as tmp:
            tmp.unlink()
    assert target.read_bytes() == b"original"
    assert _names(tmp_path) == ["t.txt"]


def test_missing_directory_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_write_bytes(tmp_path / "nope" / "a.bin", b"x")
