"""Fetch one file over HTTP(S) into a ``.part`` file: resumable, cancellable, bounded in time and size.

:func:`fetch` is a generator: it yields :class:`~engines.core.protocol.Progress` (bytes done / total)
between chunks, checks a :class:`~engines.core.cancel.CancelToken` at the same places, and returns
the sha256 of the complete ``.part`` file. It never chooses a file name: the caller passes the
``.part`` path (built from a validated catalog id), so nothing the server says (``Content-Disposition``,
the redirected URL) ever becomes a path.

- **Resume**: when the ``.part`` file exists, the request asks for ``Range: bytes=<size>-``. A 206
  whose ``Content-Range`` starts there is appended; a 200 (the server ignores ranges) restarts from
  zero; a 416 (nothing left to send) restarts once from zero too, since the part cannot be trusted.
- **Interruptions** (connection cut, timeout mid-transfer, cancel) keep the ``.part`` file so the next
  call resumes; the error says so.
- **Timeouts**: ``timeout`` seconds for the connection and for each read (socket timeout), so a
  server that stops sending fails instead of hanging.
- **Size**: more bytes than ``max_bytes`` (the catalog size, or a hard cap) are refused and the part
  is deleted: a server cannot fill the disk.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Generator

from ..core.cancel import Cancelled, CancelToken
from ..core.protocol import Progress
from .errors import OFFLINE_HINT, ModelError

CHUNK = 1 << 16
DEFAULT_TIMEOUT = 30.0
HARD_CAP = 4 << 30  # no checkpoint we list is near 4 GiB
USER_AGENT = "ganstudio-model-manager/1"

FetchGenerator = Generator[Progress, None, str]


class AbortToken(CancelToken):
    """A cancel token that also aborts a blocking read: cancelling shuts the transfer's socket down,
    so a stalled server cannot keep a cancelled download (or a closing window) waiting for the timeout."""

    def __init__(self) -> None:
        super().__init__()
        self._aborts: list = []

    def on_cancel(self, fn) -> None:
        self._aborts.append(fn)
        if self.cancelled:
            fn()

    def cancel(self) -> None:
        super().cancel()
        for fn in list(self._aborts):
            try:
                fn()
            except OSError:
                pass


def _abort_on_cancel(response, cancel: CancelToken) -> None:
    if not isinstance(cancel, AbortToken):
        return
    # http.client keeps the socket at response.fp.raw._sock; when that changes, cancel still works,
    # only no longer interrupts a read that is already blocked (the read timeout still ends it).
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        cancel.on_cancel(lambda: sock.shutdown(socket.SHUT_RDWR))


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or url


def sha256_of(path: str | os.PathLike[str], cancel: CancelToken | None = None) -> str:
    """Hex sha256 of a file, read in chunks (cancellable between chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            if cancel is not None:
                cancel.raise_if_cancelled()
            h.update(chunk)
    return h.hexdigest()


def _open(url: str, start: int, timeout: float):
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if start > 0:
        headers["Range"] = f"bytes={start}-"
    request = urllib.request.Request(url, headers=headers)
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - http(s) only (catalog checks)


def _network_error(url: str, exc: BaseException, timeout: float) -> ModelError:
    """A user-facing error for a failure to connect or to get the file at all."""
    host = _host(url)
    if isinstance(exc, urllib.error.HTTPError):
        if exc.code == 404:
            return ModelError(f"the file is not at {url} (HTTP 404 Not Found): the catalog entry may be "
                              "out of date. " + OFFLINE_HINT)
        return ModelError(f"{host} answered HTTP {exc.code} {exc.reason} for {url}. Try again later. "
                          + OFFLINE_HINT)
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    where = f" The file: {url}"
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return ModelError(f"{host} did not answer within {timeout:g} s (timeout). " + OFFLINE_HINT + where)
    if isinstance(reason, ssl.SSLError):
        return ModelError(f"a secure connection to {host} failed ({reason}). " + OFFLINE_HINT + where)
    return ModelError(f"cannot reach {host}: the network is unreachable or the server is down "
                      f"({reason}). " + OFFLINE_HINT + where)


def fetch(url: str, part: str | os.PathLike[str], *, timeout: float = DEFAULT_TIMEOUT,
          cancel: CancelToken | None = None, max_bytes: int | None = None,
          _restarted: bool = False) -> FetchGenerator:
    """Download ``url`` into ``part`` (resuming it), yielding progress; returns the file's sha256.

    Raises :class:`ModelError` (network, HTTP status, timeout, interruption, too large) or
    :class:`~engines.core.cancel.Cancelled`. On interruption and cancel the part file is kept for a
    resume; on a refused size it is deleted.
    """
    part = Path(part)
    part.parent.mkdir(parents=True, exist_ok=True)
    cancel = cancel or CancelToken()
    limit = max_bytes or HARD_CAP
    start = part.stat().st_size if part.is_file() else 0
    if start > limit:
        part.unlink()
        start = 0
    cancel.raise_if_cancelled()
    try:
        response = _open(url, start, timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and start > 0 and not _restarted:  # the part is not a prefix we can extend
            part.unlink(missing_ok=True)
            return (yield from fetch(url, part, timeout=timeout, cancel=cancel, max_bytes=max_bytes,
                                     _restarted=True))
        raise _network_error(url, exc, timeout) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _network_error(url, exc, timeout) from exc
    _abort_on_cancel(response, cancel)
    with response:
        status = response.status
        if start > 0 and status == 206:
            first = _content_range_start(response.headers.get("Content-Range", ""))
            if first != start:
                raise ModelError(f"{_host(url)} sent bytes from {first}, not from {start} as asked; "
                                 "delete the partial download (`ganstudio models remove ID`) and retry")
            mode = "ab"
        else:  # a fresh download, or the server ignores Range: start over
            start, mode = 0, "wb"
        length = response.headers.get("Content-Length")
        total = start + int(length) if length and length.isdigit() else 0
        if total > limit:
            part.unlink(missing_ok=True)
            raise ModelError(f"{url} is {total} bytes, more than the {limit} expected: refused")
        hasher = hashlib.sha256()
        if start:
            _hash_into(hasher, part, cancel)
        done = start
        yield Progress(done, total, "resuming" if start else "downloading")
        with open(part, mode) as out:
            while True:
                if cancel.cancelled:
                    out.flush()
                    raise Cancelled()
                try:
                    # read1: whatever has arrived (up to CHUNK), so a stall keeps the bytes before it
                    chunk = response.read1(CHUNK)
                except http.client.IncompleteRead as exc:
                    out.write(exc.partial)
                    done += len(exc.partial)
                    cancel.raise_if_cancelled()  # an aborted socket reads as a cut transfer
                    raise _interrupted(url, done, total) from exc
                except (socket.timeout, TimeoutError) as exc:
                    raise ModelError(f"{_host(url)} stopped sending for {timeout:g} s after {_mb(done)} "
                                     f"(timeout). Run the download again to resume. {OFFLINE_HINT}") from exc
                except (OSError, http.client.HTTPException) as exc:
                    cancel.raise_if_cancelled()
                    raise _interrupted(url, done, total) from exc
                if not chunk:
                    cancel.raise_if_cancelled()
                    break
                done += len(chunk)
                if done > limit:
                    out.close()
                    part.unlink(missing_ok=True)
                    raise ModelError(f"{url} sent more than the {limit} bytes expected: refused")
                out.write(chunk)
                hasher.update(chunk)
                yield Progress(done, total, "downloading")
            out.flush()
            os.fsync(out.fileno())
    if total and done < total:
        raise _interrupted(url, done, total)
    return hasher.hexdigest()


def _hash_into(hasher, path: Path, cancel: CancelToken) -> None:
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            cancel.raise_if_cancelled()
            hasher.update(chunk)


def _content_range_start(value: str) -> int:
    # "bytes 100-999/1000"
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return -1


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _interrupted(url: str, done: int, total: int) -> ModelError:
    of = f" of {_mb(total)}" if total else ""
    return ModelError(f"the download from {_host(url)} was interrupted after {_mb(done)}{of}; "
                      "run it again to resume where it stopped")
