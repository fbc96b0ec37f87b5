"""Open only regular files, and never read more than they hold (docs/ARCHITECTURE.md rule 8).

A folder of "photos" can hold a named pipe (opening it blocks until a writer comes, forever), a
link to ``/dev/zero`` or ``/dev/urandom`` (an endless stream: reading it "whole" fills memory) or
another device. :func:`open_regular` checks with ``stat`` before opening, opens with
``O_NONBLOCK`` (so a pipe swapped in after the check cannot block the open) and checks again on
the open descriptor; :func:`read_regular` reads at most the size the file had when opened.
Anything else raises :class:`NotRegularFile`, an ``OSError`` whose message names what it is.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

__all__ = ["NotRegularFile", "TooLarge", "file_kind", "open_regular", "read_regular"]


class NotRegularFile(OSError):
    """The path is a pipe, a device, a socket or a folder: not something we read as a file.
    ``kind`` says which, in words (``"a named pipe (FIFO)"``)."""

    kind = "not a regular file"


class TooLarge(OSError):
    """The file holds more bytes than the caller accepts."""


def file_kind(mode: int) -> str:
    """What a ``st_mode`` is, in words (for messages)."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _refuse(path: "str | os.PathLike[str]", mode: int) -> NotRegularFile:
    kind = file_kind(mode)
    what = kind if kind == "not a regular file" else f"{kind}, not a regular file"
    exc = NotRegularFile(errno.EINVAL, what, os.fspath(path))
    exc.kind = kind
    return exc


def open_regular(path: "str | os.PathLike[str]") -> BinaryIO:
    """A binary reader for ``path`` if (after following links) it is a regular file.

    Raises :class:`NotRegularFile` for anything else, or the ``OSError`` of ``stat``/``open``
    (missing, permission, link loop).
    """
    st = os.stat(path)  # follows links: a link to /dev/zero is judged by its target
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(path, st.st_mode)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) \
        | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)  # the file may have been swapped between the stat and the open
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(path, st.st_mode)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: "str | os.PathLike[str]", max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file, at most its size when opened (a file that grows meanwhile is
    read as it was). Raises :class:`TooLarge` when that size is above ``max_bytes``."""
    with open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        if max_bytes is not None and size > max_bytes:
            raise TooLarge(errno.EFBIG, f"{size} bytes, more than the {max_bytes} accepted",
                           os.fspath(path))
        return f.read(size)
