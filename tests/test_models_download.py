"""Model downloads against a loopback HTTP server serving a real small checkpoint.

Covers: verified install, an interrupted transfer that resumes (HTTP Range), a server ignoring
Range, a wrong checksum refused, the publisher's sha256 prefix, 404, timeouts (no answer / a stall
mid-transfer), offline (a closed port), cancel, names from the network never used as paths, and a
malicious pickle that is refused with nothing run. Nothing here touches the internet or the user's
folders (conftest points GANSTUDIO_DATA at a temporary folder).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import torch

from engines.core import CancelToken, Cancelled, Task, registry
from engines.models import ModelError, download, installed_cards, load_catalog, model_rows, refresh_engines
from engines.models.install import downloads_dir, part_path, task_dir
from engines.sr.archs import SRVGGNetCompact
from loopback_http import LoopbackServer, closed_port
from test_weights_loader import _Evil

torch.set_num_threads(1)


def _checkpoint_bytes(tmp: Path) -> bytes:
    """A real SRVGGNetCompact x2 checkpoint (~150 kB, several 64 kB chunks) in the official wrapping."""
    torch.manual_seed(0)
    net = SRVGGNetCompact(num_feat=32, num_conv=4, upscale=2)
    path = tmp / "tiny_srvgg.pth"
    torch.save({"params_ema": net.state_dict()}, path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("served")
    with LoopbackServer() as srv:
        srv.files["tiny.pth"] = _checkpoint_bytes(tmp)
        evil = tmp / "evil.pth"
        torch.save({"params": {"w": torch.zeros(1)}, "payload": _Evil(str(tmp / "pwned"))}, evil)
        srv.files["evil.pth"] = evil.read_bytes()
        srv.pwned = tmp / "pwned"
        yield srv


def _catalog(tmp_path: Path, monkeypatch, **entries) -> list:
    """Write a catalog whose entries point at the loopback server; make it the one in use."""
    models = []
    for model_id, fields in entries.items():
        models.append({"id": model_id, "task": "upscale", "arch": "srvgg", "title": model_id,
                       "suffix": ".pth", "license": "test", **fields})
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"models": models}))
    monkeypatch.setenv("GANSTUDIO_CATALOG", str(path))
    return load_catalog()


from generators import run_to_end as _run  # noqa: E402 - (value, events)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_download_verifies_installs_and_registers_the_engine(server, tmp_path, monkeypatch):
    data = server.files["tiny.pth"]
    _catalog(tmp_path, monkeypatch, **{"tiny-x2": {"url": server.url("f", "tiny.pth"), "sha256": _sha(data)}})
    installed, events = _run(download("tiny-x2", timeout=5))
    assert installed.path == task_dir(Task.UPSCALE) / "tiny-x2.pth"
    assert installed.path.read_bytes() == data
    card = json.loads(installed.card.read_text())
    assert card["sha256"] == _sha(data) and card["sha256_origin"] == "publisher"
    assert card["arch"] == "srvgg" and card["scale"] == 2 and card["arch_checked"] is True
    assert card["hparams"]["num_feat"] == 32 and card["size"] == len(data)
    assert events[-2].done == len(data) and events[-2].total == len(data)
    assert not list(downloads_dir().glob("*"))  # nothing left behind
    refresh_engines()
    try:
        engine = registry.get(Task.UPSCALE, "tiny-x2")
        assert engine.info.scale == 2
    finally:
        registry.unregister(Task.UPSCALE, "tiny-x2")
    assert [r.state for r in model_rows() if r.id == "tiny-x2"] == ["installed"]


def test_interrupted_transfer_resumes_with_range(server, tmp_path, monkeypatch):
    data = server.files["tiny.pth"]
    server.cut_done.discard("tiny.pth")
    _catalog(tmp_path, monkeypatch, cut={"url": server.url("cut", "tiny.pth")})
    with pytest.raises(ModelError, match="interrupted after .* run it again to resume"):
        _run(download("cut", timeout=5))
    part = part_path("cut", ".pth")
    assert 0 < part.stat().st_size < len(data)
    assert not installed_cards()  # nothing half-installed
    assert [r.state for r in model_rows() if r.id == "cut"] == ["partial"]
    first = len(server.requests)
    installed, events = _run(download("cut", timeout=5))
    assert server.requests[first][1] == f"bytes={len(data) // 2}-"
    assert events[0].message == "resuming" and events[0].done == len(data) // 2
    assert installed.path.read_bytes() == data
    card = json.loads(installed.card.read_text())
    assert card["sha256"] == _sha(data) and card["sha256_origin"] == "recorded at install"


def test_server_ignoring_range_restarts_from_zero(server, tmp_path, monkeypatch):
    data = server.files["tiny.pth"]
    _catalog(tmp_path, monkeypatch, nr={"url": server.url("norange", "tiny.pth"), "sha256": _sha(data)})
    part = part_path("nr", ".pth")
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(b"garbage that is not a prefix")
    installed, _ = _run(download("nr", timeout=5))
    assert installed.path.read_bytes() == data


def test_wrong_checksum_is_refused_and_nothing_remains(server, tmp_path, monkeypatch):
    _catalog(tmp_path, monkeypatch, bad={"url": server.url("f", "tiny.pth"), "sha256": "0" * 64},
             badprefix={"url": server.url("f", "tiny.pth"), "sha256_prefix": "deadbeef"})
    for model_id in ("bad", "badprefix"):
        with pytest.raises(ModelError, match="checksum mismatch.*nothing was installed"):
            _run(download(model_id, timeout=5))
        assert not part_path(model_id, ".pth").exists()
    assert not installed_cards()
    assert not task_dir(Task.UPSCALE).exists() or not list(task_dir(Task.UPSCALE).iterdir())


def test_publisher_prefix_is_checked_and_full_hash_recorded(server, tmp_path, monkeypatch):
    data = server.files["tiny.pth"]
    _catalog(tmp_path, monkeypatch, pre={"url": server.url("f", "tiny.pth"), "sha256_prefix": _sha(data)[:8]})
    installed, _ = _run(download("pre", timeout=5))
    assert installed.sha256 == _sha(data)
    assert installed.data["sha256_origin"].startswith("publisher prefix")


def test_404_timeout_and_offline_give_clear_errors(server, tmp_path, monkeypatch):
    server.sleep = 1.5
    _catalog(tmp_path, monkeypatch,
             missing={"url": server.url("f", "nope.pth")},
             slow={"url": server.url("slow", "tiny.pth")},
             stall={"url": server.url("stall", "tiny.pth")},
             offline={"url": f"http://127.0.0.1:{closed_port()}/x.pth"})
    with pytest.raises(ModelError, match="HTTP 404"):
        _run(download("missing", timeout=2))
    with pytest.raises(ModelError, match=r"did not answer within 0.3 s \(timeout\).*models import FILE"):
        _run(download("slow", timeout=0.3))
    with pytest.raises(ModelError, match=r"stopped sending for 0.3 s .*resume"):
        _run(download("stall", timeout=0.3))
    assert part_path("stall", ".pth").stat().st_size == len(server.files["tiny.pth"]) // 2  # kept for resume
    with pytest.raises(ModelError, match="network is unreachable.*ganstudio models import FILE"):
        _run(download("offline", timeout=2))
    assert not installed_cards()


def test_cancel_keeps_the_part_for_resume_and_installs_nothing(server, tmp_path, monkeypatch):
    data = server.files["tiny.pth"]
    _catalog(tmp_path, monkeypatch, c={"url": server.url("f", "tiny.pth"), "sha256": _sha(data)})
    token = CancelToken()
    gen = download("c", timeout=5, cancel=token)
    next(gen)
    next(gen)  # one chunk written
    token.cancel()
    with pytest.raises(Cancelled):
        _run(gen)
    assert 0 < part_path("c", ".pth").stat().st_size < len(data)
    assert not installed_cards()
    installed, _ = _run(download("c", timeout=5))
    assert installed.path.read_bytes() == data


def test_names_from_the_network_are_never_paths(server, tmp_path, monkeypatch):
    data = server.files["tiny.pth"]
    _catalog(tmp_path, monkeypatch, ok={"url": server.url("evilname", "tiny.pth"), "sha256": _sha(data)})
    installed, _ = _run(download("ok", timeout=5))
    assert installed.path.name == "ok.pth"
    data_root = Path(os.environ["GANSTUDIO_DATA"])
    assert not list(data_root.parent.rglob("evil.pth"))
    # ids and file names with folders are refused wherever they could become paths
    for bad in ("../evil", "a/b", "..", ".hidden", "Evil"):
        with pytest.raises(ModelError, match="invalid model id"):
            _catalog(tmp_path, monkeypatch, **{bad: {"url": server.url("f", "tiny.pth")}})
        with pytest.raises(ModelError, match="invalid model id"):
            part_path(bad, ".pth")
    with pytest.raises(ModelError, match="only http"):
        _catalog(tmp_path, monkeypatch, f={"url": "file:///etc/passwd"})


def test_malicious_pickle_download_is_refused_and_nothing_ran(server, tmp_path, monkeypatch):
    _catalog(tmp_path, monkeypatch, evil={"url": server.url("f", "evil.pth")})
    with pytest.raises(ModelError, match="refused to load"):
        _run(download("evil", timeout=5))
    assert not server.pwned.exists()
    assert not installed_cards() and not part_path("evil", ".pth").exists()


def test_download_of_an_unregistered_architecture_is_read_safely_and_kept(server, tmp_path, monkeypatch):
    """Engines of other tasks register their architectures later: the file is checked as far as it can be."""
    data = server.files["tiny.pth"]
    _catalog(tmp_path, monkeypatch, col={"url": server.url("f", "tiny.pth"), "task": "colorize",
                                         "arch": "not-registered-yet", "sha256": _sha(data)})
    installed, _ = _run(download("col", timeout=5))
    assert installed.path.parent == task_dir(Task.COLORIZE) and installed.data["arch_checked"] is False
    assert [m.id for m in installed_cards(Task.COLORIZE)] == ["col"]


def test_catalog_entry_of_the_wrong_architecture_is_refused(server, tmp_path, monkeypatch):
    _catalog(tmp_path, monkeypatch, wrong={"url": server.url("f", "tiny.pth"), "arch": "rrdbnet"})
    with pytest.raises(ModelError, match="is a srvgg network, the catalog says rrdbnet"):
        _run(download("wrong", timeout=5))
    assert not installed_cards()


def test_a_server_sending_more_than_expected_is_cut_off(server, tmp_path):
    from engines.models.download import fetch

    part = tmp_path / "big.part"
    with pytest.raises(ModelError, match="more than the 1000 expected: refused"):
        _run(fetch(server.url("f", "tiny.pth"), part, timeout=5, max_bytes=1000))
    assert not part.exists()


def test_cancel_aborts_a_blocked_read_at_once(server, tmp_path):
    import threading
    import time

    from engines.models.download import AbortToken, fetch

    server.sleep = 5.0
    token = AbortToken()
    gen = fetch(server.url("stall", "tiny.pth"), tmp_path / "s.part", timeout=30, cancel=token)
    next(gen)  # connected, headers read
    threading.Timer(0.2, token.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        _run(gen)
    assert time.monotonic() - started < 2.0
    assert (tmp_path / "s.part").stat().st_size == len(server.files["tiny.pth"]) // 2


def test_cli_download_prints_progress_and_installs(server, tmp_path, monkeypatch, capsys):
    from engines.cli import main

    data = server.files["tiny.pth"]
    _catalog(tmp_path, monkeypatch, cli={"url": server.url("f", "tiny.pth"), "sha256": _sha(data)},
             clibad={"url": server.url("f", "tiny.pth"), "sha256": "2" * 64})
    try:
        assert main(["models", "download", "cli", "--timeout", "5"]) == 0
        out, err = capsys.readouterr()
        assert "installed cli (srvgg, upscale)" in out and "(publisher)" in out
        assert "cli:" in err and "100%" in err  # the progress line
        assert main(["models", "download", "clibad", "--timeout", "5"]) == 1
        assert "checksum mismatch" in capsys.readouterr().err
    finally:
        registry.unregister(Task.UPSCALE, "cli")


def test_catalog_domain_reaches_the_card_and_the_engine(server, tmp_path, monkeypatch):
    """An anime checkpoint from the catalog is listed as one (issue 21: photos first)."""
    data = server.files["tiny.pth"]
    _catalog(tmp_path, monkeypatch, **{"toon-x2": {"url": server.url("f", "tiny.pth"), "sha256": _sha(data),
                                                   "domain": "anime"}})
    installed, _ = _run(download("toon-x2", timeout=5))
    assert json.loads(installed.card.read_text())["domain"] == "anime"
    refresh_engines()
    assert next(i for i in registry.infos(Task.UPSCALE) if i.id == "toon-x2").domain == "anime"
