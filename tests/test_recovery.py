"""Recovery files: exact round trip, clear errors, leftovers of dead sessions, the autosaver."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.document.document import Document, ImageMeta, Layer
from app.document.recovery import (
    Autosaver, RecoveryError, RecoveryFiles, read_recovery, recovery_dir, recovery_info, write_recovery,
)
from app.settings import AUTOSAVE_INTERVAL, settings_for_tests


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GANSTUDIO_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


def sample_doc() -> Document:
    rng = np.random.default_rng(1)
    meta = ImageMeta(path=Path("/photos/a.tif"), format="TIFF", bit_depth=16, exif=b"Exif\x00\x00MM",
                     icc_profile=bytes(range(256)), had_alpha=True, notes=("converted from CMYK",))
    doc = Document(rng.random((6, 5, 3), dtype=np.float32), alpha=rng.random((6, 5), dtype=np.float32), meta=meta)
    doc.mask[1:3, 2:4] = 1.0
    doc.labels[4:, :] = 7
    doc.add_hint(doc.new_hint(1.5, 2.25, (0.1, 0.2, 0.3), size=5))
    doc.add_hint(doc.new_hint(4.0, 0.0, (1.0, 0.0, 0.5)))
    doc.set_latent(rng.standard_normal((1, 512)).astype(np.float32))
    return doc


def test_round_trip_is_exact(tmp_path):
    doc = sample_doc()
    path = write_recovery(doc, tmp_path / "r.npz", timestamp=1234.5)
    state, meta, ts = read_recovery(path)
    for name in ("image", "alpha", "mask", "labels", "latent"):
        a, b = getattr(doc, name), getattr(state, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert state.hints == tuple(doc.hints)
    assert meta == doc.meta and ts == 1234.5
    assert recovery_info(path) == (doc.meta, 1234.5)
    restored = Document.blank(1, 1)
    restored.restore(state)
    assert restored.size == doc.size


def test_minimal_document_round_trip(tmp_path):
    doc = Document.blank(3, 2)  # no hints, no latent, no exif/icc, no path
    state, meta, _ = read_recovery(write_recovery(doc, tmp_path / "m.npz"))
    assert state.hints == () and state.latent is None
    assert meta.path is None and meta.exif is None and meta.icc_profile is None


def test_corrupt_file_gives_a_clear_error(tmp_path):
    good = write_recovery(sample_doc(), tmp_path / "good.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip")
    for bad in (truncated, garbage):
        with pytest.raises(RecoveryError, match="damaged or incomplete"):
            read_recovery(bad)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))  # a valid npz that is not ours
    with pytest.raises(RecoveryError):
        read_recovery(tmp_path / "other.npz")


def test_write_is_atomic_on_failure(tmp_path, monkeypatch):
    doc = sample_doc()
    path = write_recovery(doc, tmp_path / "r.npz", timestamp=1.0)

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError):
        write_recovery(doc, path, timestamp=2.0)
    assert read_recovery(path)[2] == 1.0  # old file intact
    assert [p.name for p in tmp_path.iterdir()] == ["r.npz"]  # no temp left behind


def test_leftovers_are_files_of_dead_sessions(data_dir):
    assert recovery_dir() == data_dir / "state" / "recovery"  # the state folder, under GANSTUDIO_DATA
    files = RecoveryFiles()
    doc = Document.blank(2, 2)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # that process has exited
    parent_pid = os.getppid()  # alive
    write_recovery(doc, files.folder / f"autosave-{dead_pid}-1.npz")
    write_recovery(doc, files.folder / f"autosave-{parent_pid}-1.npz")
    mine = write_recovery(doc, files.new_path())
    (files.folder / "notes.txt").write_text("not ours")
    left = files.leftovers()
    assert [f.pid for f in left] == [dead_pid]
    assert mine.name.startswith(f"autosave-{os.getpid()}-")
    files.discard(left[0].path)
    files.discard(left[0].path)  # twice is fine
    assert files.leftovers() == []


def test_leftovers_of_an_older_version_in_the_data_folder_are_still_offered(data_dir):
    """Before the state folder, recovery files lived in <data>/recovery: an upgrade must not hide them."""
    from app.document.recovery import legacy_recovery_dir

    files = RecoveryFiles()
    assert legacy_recovery_dir() == data_dir / "recovery" != files.folder
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    old = write_recovery(Document.blank(2, 2), legacy_recovery_dir() / f"autosave-{int(dead.stdout)}-1.npz")
    assert [f.path for f in files.leftovers()] == [old]
    assert files.new_path().parent == files.folder  # new files go to the state folder only
    files.discard(old)
    assert files.leftovers() == []


def test_autosaver_writes_only_when_modified(qtbot, tmp_path, monkeypatch):
    settings = settings_for_tests(tmp_path, monkeypatch)
    settings.set(AUTOSAVE_INTERVAL, 30)
    doc = Document.blank(4, 3)
    saver = Autosaver(doc, settings=settings)
    assert saver.timer.interval() == 30_000 and saver.timer.isActive()

    assert saver.autosave() is False and not saver.path.exists()  # nothing changed yet
    doc.put_patch(Layer.MASK, (0, 0, 2, 2), np.ones((2, 2), np.float32))
    with qtbot.waitSignal(saver.saved):
        assert saver.autosave() is True
    assert np.array_equal(read_recovery(saver.path)[0].mask, doc.mask)
    mtime = saver.path.stat().st_mtime_ns
    assert saver.autosave() is False  # no change since the last write
    assert saver.path.stat().st_mtime_ns == mtime

    doc.notify(Layer.IMAGE, None)
    assert saver.autosave() is True

    doc.modified = False  # the user saved: the recovery copy would only be older
    assert saver.autosave() is False and not saver.path.exists()

    doc.notify(Layer.LABELS, None)
    assert saver.autosave() is True and saver.path.exists()
    saver.clean_exit()
    assert not saver.path.exists() and not saver.timer.isActive()


def test_autosaver_reports_write_errors(qtbot, tmp_path, monkeypatch):
    doc = Document.blank(2, 2)
    saver = Autosaver(doc, files=RecoveryFiles(tmp_path / "rec"), interval_s=0)
    assert not saver.timer.isActive()  # 0 = off
    doc.notify(Layer.IMAGE, None)

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with qtbot.waitSignal(saver.failed) as blocker:
        assert saver.autosave() is False
    assert "disk full" in blocker.args[0]


def test_autosaver_follows_a_document_provider(tmp_path):
    docs = {"current": None}
    saver = Autosaver(lambda: docs["current"], files=RecoveryFiles(tmp_path), interval_s=0)
    assert saver.autosave() is False  # no document open
    first = Document.blank(2, 2)
    first.notify(Layer.MASK, None)  # edited before the autosaver saw it
    docs["current"] = first
    assert saver.autosave() is True
    second = Document.blank(3, 3)
    docs["current"] = second
    saver.reset()  # File > Open: the old recovery file goes
    assert not saver.path.exists() and saver.autosave() is False
    second.notify(Layer.IMAGE, None)
    assert saver.autosave() is True
    assert read_recovery(saver.path)[0].image.shape == (3, 3, 3)
