"""Fetch one file over HTTP(S) into a ``.part`` file: resumable, cancellable, bounded in time and size.

:func:`fetch` is a generator: it yields :class:`~engines.core.protocol.Progress` (bytes done / total)
between chunks, checks a :class:`~engines.core.cancel.CancelToken` at the same places, and returns
the sha256 of the complete ``.part`` file. It never chooses a file name: the caller passes the
``.part`` path (built from a validated catalog id), so nothing the server says (``Content-Disposition``,
the redirected URL) ever becomes a path.

- **Resume**: when the ``.part`` file exists, the request asks for ``Range: bytes=<size>-``. A 206
  whose ``Content-Range`` starts there is appended; a 200 (the server ignores ranges) restarts from
  zero; a 416 (nothing left to send) whose ``Content-Range: bytes */N`` says N is the part's size
  means the part is complete (a server whose ``Content-Length`` promised more than it sent), else it
  restarts once from zero, since the part cannot be trusted. A fresh download that ends short at
  exactly the size the previous attempt had is taken as complete too. The sha256 judges both.
- **Interruptions** (connection cut, timeout mid-transfer, too slow, cancel) keep the ``.part`` file
  so the next call resumes; the error says so.
- **Timeouts**: ``timeout`` seconds for the connection and for each read (socket timeout), so a
  server that stops sending fails instead of hanging; and an overall stall rule (``min_rate``
  bytes/s over each ``window`` s), so a server that trickles a byte every few seconds fails too.
  With an :class:`AbortToken`, cancelling shuts the socket down from the moment it connects.
- **Size**: more bytes than ``max_bytes`` (the catalog size, or a hard cap) are refused and the part
  is deleted: a server cannot fill the disk.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import ssl
import time
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
# The overall stall rule: under 1 kB/s averaged over a minute the transfer is abandoned (the part
# kept for a resume). Any real mirror is far above it; a trickling server is far below.
MIN_RATE = 1000.0
STALL_WINDOW = 60.0
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


def _abortable(connection_class, cancel: AbortToken):
    """``connection_class`` whose socket is shut down when ``cancel`` fires, from the moment it
    connects: so Cancel also ends a server that accepts and then sends no headers (the response
    object, and with it :func:`_abort_on_cancel`, only exists once the headers have arrived)."""

    class Connection(connection_class):
        def connect(self) -> None:
            super().connect()
            sock = self.sock
            cancel.on_cancel(lambda: sock.shutdown(socket.SHUT_RDWR))

    return Connection


def _opener(cancel: CancelToken) -> urllib.request.OpenerDirector:
    if not isinstance(cancel, AbortToken):
        return urllib.request.build_opener()

    class HTTP(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(_abortable(http.client.HTTPConnection, cancel), req)

    class HTTPS(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(_abortable(http.client.HTTPSConnection, cancel), req,
                                context=self._context)

    return urllib.request.build_opener(HTTP, HTTPS)


def _open(url: str, start: int, timeout: float, cancel: CancelToken | None = None):
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if start > 0:
        headers["Range"] = f"bytes={start}-"
    request = urllib.request.Request(url, headers=headers)
    # http(s) only (the catalog checks the scheme)
    return _opener(cancel or CancelToken()).open(request, timeout=timeout)


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
          min_rate: float = MIN_RATE, window: float = STALL_WINDOW,
          _restarted: bool = False, _previous_size: int = 0) -> FetchGenerator:
    """Download ``url`` into ``part`` (resuming it), yielding progress; returns the file's sha256.

    ``timeout`` bounds each wait for data; ``min_rate`` (bytes/s, averaged over each ``window``
    seconds) bounds the whole transfer, so a server that trickles a byte every few seconds fails
    too instead of taking days.

    Raises :class:`ModelError` (network, HTTP status, timeout, too slow, interruption, too large) or
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
    again = dict(timeout=timeout, cancel=cancel, max_bytes=max_bytes, min_rate=min_rate, window=window)
    try:
        response = _open(url, start, timeout, cancel)
    except urllib.error.HTTPError as exc:
        exc.close()
        cancel.raise_if_cancelled()
        if exc.code == 416 and start > 0:
            if _range_total(exc.headers.get("Content-Range", "")) == start:
                # "bytes */N" with N = what we hold: the part is the whole file already (a server
                # whose Content-Length promised more than it sent); the checksum judges it
                yield Progress(start, start, "complete")
                return sha256_of(part, cancel)
            if not _restarted:  # the part is not a prefix we can extend: start over, once
                part.unlink(missing_ok=True)
                return (yield from fetch(url, part, **again, _restarted=True, _previous_size=start))
        raise _network_error(url, exc, timeout) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        cancel.raise_if_cancelled()  # the socket was shut down by a cancel, not by the server
        raise _network_error(url, exc, timeout) from exc
    _abort_on_cancel(response, cancel)
    with response:
        status = response.status
        previous = max(start, _previous_size)  # what an earlier attempt ended with
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
        pace = _Pace(min_rate, window, done)
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
                    hasher.update(exc.partial)
                    done += len(exc.partial)
                    cancel.raise_if_cancelled()  # an aborted socket reads as a cut transfer
                    break  # cut short: judged below, like a connection that closed early
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
                if pace.too_slow(done):
                    out.flush()
                    raise ModelError(f"{_host(url)} is sending too slowly ({pace.describe()}, below "
                                     f"{_rate(min_rate)}) after {_mb(done)}: stopped. Run the download "
                                     f"again to resume, or later. {OFFLINE_HINT}")
                yield Progress(done, total, "downloading")
            out.flush()
            os.fsync(out.fileno())
    if total and done < total:
        if mode == "wb" and done == previous > 0:
            # The same size twice, both short of the Content-Length: the server's length is wrong,
            # not the transfer (no resume could ever get the missing bytes). The checksum judges it.
            return hasher.hexdigest()
        raise _interrupted(url, done, total)
    return hasher.hexdigest()


def _hash_into(hasher, path: Path, cancel: CancelToken) -> None:
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            cancel.raise_if_cancelled()
            hasher.update(chunk)


class _Pace:
    """The overall stall rule: at least ``min_rate`` bytes/s over each ``window`` seconds
    (tumbling windows: cheap, and a burst in one window cannot hide a stall in the next)."""

    def __init__(self, min_rate: float, window: float, done: int) -> None:
        self.min_rate, self.window = min_rate, window
        self.since, self.at = time.monotonic(), done
        self.last = (0, 0.0)

    def too_slow(self, done: int) -> bool:
        now = time.monotonic()
        if self.min_rate <= 0 or now - self.since < self.window:
            return False
        self.last = (done - self.at, now - self.since)
        slow = self.last[0] < self.min_rate * self.last[1]
        self.since, self.at = now, done
        return slow

    def describe(self) -> str:
        got, seconds = self.last
        return f"{got} bytes in the last {seconds:.0f} s"


def _rate(bytes_per_s: float) -> str:
    return f"{bytes_per_s / 1e3:g} kB/s" if bytes_per_s >= 1e3 else f"{bytes_per_s:g} bytes/s"


def _range_total(value: str) -> int:
    # "bytes */1000" (a 416's Content-Range): the full size, or -1
    try:
        return int(value.rsplit("/", 1)[1])
    except (IndexError, ValueError):
        return -1


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
