"""Downloads from servers that misbehave slowly (issue 18, defects 5 and 6), on a loopback server.

- a server that trickles (a byte at a time, each within the read timeout) is stopped by the
  overall stall rule, with a clear message, and the ``.part`` is kept and resumes;
- Cancel ends a connection whose server never sends headers (before: the read timeout);
- a ``Content-Length`` larger than the body leaves a part the next run completes.
"""

from __future__ import annotations

import hashlib
import threading

import pytest

from engines.core import Cancelled
from engines.models import ModelError
from engines.models.download import AbortToken, fetch
from loopback_http import LoopbackServer

DATA = bytes(range(256)) * 4  # 1 kB


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        srv.files["w.pth"] = DATA
        yield srv


from generators import result_of as _run  # noqa: E402


def test_a_trickling_server_is_stopped_and_the_part_resumes(server, tmp_path):
    server.trickle = 0.05  # 20 bytes/s: every read returns well within the 5-s timeout
    part = tmp_path / "w.pth.part"
    with pytest.raises(ModelError, match="too slowly") as err:
        _run(fetch(server.url("trickle", "w.pth"), part, timeout=5, min_rate=200, window=0.5))
    assert "resume" in str(err.value)
    kept = part.stat().st_size
    assert 0 < kept < len(DATA)
    digest = _run(fetch(server.url("f", "w.pth"), part, timeout=5))
    assert digest == hashlib.sha256(DATA).hexdigest()
    assert server.requests[-1][1] == f"bytes={kept}-"  # resumed, not restarted


def test_cancel_ends_a_connection_that_sends_no_headers(server, tmp_path):
    server.sleep = 30.0  # accepts, then says nothing; the fetch's own timeout is longer still
    token = AbortToken()
    gen = fetch(server.url("slow", "w.pth"), tmp_path / "s.part", timeout=120, cancel=token)
    threading.Timer(0.3, token.cancel).start()
    # Before the fix the socket was only known once headers arrived: the cancel did nothing and
    # the request ended 30 s later with a network error instead of Cancelled.
    with pytest.raises(Cancelled):
        _run(gen)


def test_content_length_larger_than_the_body_completes_on_the_next_run(server, tmp_path):
    part = tmp_path / "w.pth.part"
    with pytest.raises(ModelError, match="interrupted"):
        _run(fetch(server.url("lie", "w.pth"), part, timeout=5))
    assert part.read_bytes() == DATA  # all there, but the server promised 100 bytes more
    digest = _run(fetch(server.url("lie", "w.pth"), part, timeout=5))  # 416 "bytes */1024"
    assert digest == hashlib.sha256(DATA).hexdigest()
    assert part.read_bytes() == DATA


def test_content_length_lie_from_a_server_ignoring_range_completes_too(server, tmp_path):
    part = tmp_path / "w.pth.part"
    url = server.url("lie-norange", "w.pth")
    with pytest.raises(ModelError, match="interrupted"):
        _run(fetch(url, part, timeout=5))
    # the same short size twice: the length is the lie, not the transfer
    assert _run(fetch(url, part, timeout=5)) == hashlib.sha256(DATA).hexdigest()
