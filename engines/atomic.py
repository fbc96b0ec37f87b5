"""Atomic file writes (docs/ARCHITECTURE.md rule 7: nothing the user made is lost).

A write goes to a temporary file in the target's own directory (same filesystem, so the final
``os.replace`` is atomic), is flushed and fsynced, and only then replaces the target. If anything
fails before that, the temporary file is removed and the target keeps its old content: a reader
sees either the complete old file or the complete new one, never a half-written one.

Usage::

    atomic_write_bytes("out.json", data)

    with atomic_path("out.png", suffix=".png") as tmp:
        some_writer_that_wants_a_path(tmp)   # e.g. cv2.imwrite, which needs the right suffix
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator, Union

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["atomic_write_bytes", "atomic_path", "fsync_directory", "temp_prefix"]

NAME_MAX = 255  # bytes in one file name on ext4, XFS, btrfs, APFS, NTFS (UTF-16 units there)
RANDOM_BYTES = 8  # what mkstemp adds between prefix and suffix
MAX_SUFFIX_BYTES = 16  # a longer "suffix" is part of a name, not a format: use ".tmp"


def _temp_suffix(name: str, suffix: str | None) -> str:
    suffix = Path(name).suffix if suffix is None else suffix
    if not suffix or len(os.fsencode(suffix)) > MAX_SUFFIX_BYTES:
        return ".tmp"
    return suffix


def temp_prefix(name: str, suffix: str | None = None) -> str:
    """The hidden prefix of the temporary files written for ``name``: ``.<name>.``, with ``name``
    cut (at the end, in bytes) so that prefix + random part + ``suffix`` fit in one file name.

    The user's own name is never shortened, only the temporary one: a 250-byte output name still
    gets a temporary file. Cleaning up after a crash globs for this same prefix. ``suffix`` is
    the one given to :func:`atomic_path` (``None``: the name's own).
    """
    room = NAME_MAX - 2 - RANDOM_BYTES - len(os.fsencode(_temp_suffix(name, suffix)))
    raw = os.fsencode(name)
    if len(raw) > room:
        # fsdecode keeps a cut multi-byte character as escaped bytes: still a valid file name
        name = os.fsdecode(raw[:room])
    return f".{name}."


def fsync_directory(directory: PathLike) -> None:
    """Flush a directory entry (the rename) to disk. A no-op where directories can't be opened
    (Windows) or the filesystem refuses (some network mounts): the data itself is already synced."""
    if os.name != "posix":
        return
    try:
        fd = os.open(os.fspath(directory), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    # Writers given a path (cv2, Pillow) close the file themselves; reopen it to sync the data.
    fd = os.open(os.fspath(path), os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        pass  # best effort: the original error is the one worth reporting


@contextlib.contextmanager
def atomic_path(path: PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed onto ``path``.

    Args:
        path: the final file. Its directory must exist.
        suffix: suffix of the temporary name (writers such as ``cv2.imwrite`` pick the format
            from it). Defaults to ``path``'s own suffix.

    The temporary file exists (empty) when the block starts. If the block raises, or leaves the
    temporary file missing, the target is untouched and the temporary file is removed. The
    target's permission bits are kept when it already exists.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(target.name, suffix),
                                    suffix=_temp_suffix(target.name, suffix), dir=directory)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"the temporary file for {target.name} disappeared")
        _fsync_file(tmp)
        try:
            mode = os.stat(target).st_mode & 0o7777
        except OSError:
            # New file: mkstemp creates 0600; give it the usual umask-based permissions.
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        try:
            os.chmod(tmp, mode)
        except OSError:
            pass
        os.replace(tmp, target)
    except BaseException:
        _remove_quietly(tmp)
        raise
    fsync_directory(directory)


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
