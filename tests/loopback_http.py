"""A small HTTP server on 127.0.0.1 for download tests (no test touches the internet).

Routes (``server.files`` maps a name to bytes):

- ``/f/NAME``: the file, honouring ``Range: bytes=N-`` with 206 + ``Content-Range``.
- ``/cut/NAME``: the first request sends ``Content-Length`` of the whole file but only half the
  bytes, then closes the connection; later requests behave like ``/f/``.
- ``/norange/NAME``: always 200 with the whole file (a server that ignores Range).
- ``/evilname/NAME``: the file with ``Content-Disposition: attachment; filename="../../evil.pth"``.
- ``/stall/NAME``: headers and half the bytes, then silence for ``server.sleep`` seconds.
- ``/slow/NAME``: no answer at all for ``server.sleep`` seconds.
- ``/trickle/NAME``: headers, then one byte every ``server.trickle`` seconds.
- ``/lie/NAME``: a ``Content-Length`` 100 bytes larger than the file, the whole file, then the
  connection closes; ``Range`` requests are answered like ``/f/`` (416 past the end).
- ``/lie-norange/NAME``: the same lie, and ``Range`` ignored (always that 200).
- anything else: 404.

``server.requests`` records (path, Range header) of every request.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    server: "LoopbackServer"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        srv = self.server
        srv.requests.append((self.path, self.headers.get("Range")))
        parts = self.path.strip("/").split("/", 1)
        if len(parts) != 2 or parts[1] not in srv.files:
            self.send_error(404, "Not Found")
            return
        route, name = parts
        data = srv.files[name]
        if route == "slow":
            time.sleep(srv.sleep)
            return
        if route == "cut" and name not in srv.cut_done:
            srv.cut_done.add(name)
            self._send(200, data, len(data), body=data[: len(data) // 2])
            self.close_connection = True
            return
        if route == "trickle":
            self._send(200, data, len(data), body=b"")
            for i in range(len(data)):
                time.sleep(srv.trickle)
                try:
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up: what the test wants
            return
        if route == "lie-norange" or (route == "lie" and not self.headers.get("Range")):
            self._send(200, data, len(data) + 100, body=data)
            self.close_connection = True
            return
        if route == "stall":
            self._send(200, data, len(data), body=data[: len(data) // 2])
            time.sleep(srv.sleep)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and route != "norange":
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send(206, data, len(data) - start, body=data[start:],
                       extra={"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
            return
        extra = {"Content-Disposition": 'attachment; filename="../../evil.pth"'} if route == "evilname" else {}
        self._send(200, data, len(data), body=data, extra=extra)

    def _send(self, status, data, length, body, extra=None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.cut_done: set[str] = set()
        self.requests: list[tuple[str, str | None]] = []
        self.sleep = 2.0
        self.trickle = 0.05
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def url(self, route: str, name: str) -> str:
        return f"{self.base}/{route}/{name}"

    def __enter__(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
