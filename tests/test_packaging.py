"""Conventions of an installed application: resources, per-user folders, entry points, closed
pipes, licences, desktop integration (the wheel itself is tested in test_install_wheel.py)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from engines import paths

ROOT = Path(__file__).resolve().parents[1]


def _reload_paths():
    import importlib

    return importlib.reload(paths)


# ---------------------------------------------------------------------------- resources
def test_resources_found_in_the_source_tree_and_overridable(monkeypatch, tmp_path):
    assert (paths.RESOURCES / "models.json").is_file()
    assert paths.check_resources() == paths.RESOURCES
    try:
        monkeypatch.setenv("GANSTUDIO_RESOURCES", str(tmp_path))
        p = _reload_paths()
        assert p.RESOURCES == tmp_path and p.BUNDLED_WEIGHTS == tmp_path / "weights"
        with pytest.raises(p.ResourcesNotFound, match="GANSTUDIO_RESOURCES points at"):
            p.check_resources()
    finally:
        monkeypatch.delenv("GANSTUDIO_RESOURCES")
        _reload_paths()
    assert paths.RESOURCES.resolve() == (ROOT / "resources").resolve()


# ---------------------------------------------------------------------------- per-user folders
def test_user_folders_follow_platformdirs_and_ignore_relative_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("GANSTUDIO_DATA")
    monkeypatch.chdir(tmp_path)
    if sys.platform in ("win32", "darwin"):
        pytest.skip("XDG variables are a Linux/BSD convention")
    home = Path.home()
    for var in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, "relative/dir")  # the spec says: ignore it
    assert paths.user_data_dir() == home / ".local" / "share" / "ganstudio"
    assert paths.user_cache_dir() == home / ".cache" / "ganstudio"
    assert paths.user_state_dir() == home / ".local" / "state" / "ganstudio"
    for var in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, "")  # empty: the default, never the current folder
    assert paths.user_data_dir() == home / ".local" / "share" / "ganstudio"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "d"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "s"))
    assert paths.user_data_dir() == tmp_path / "d" / "ganstudio"
    assert paths.user_cache_dir() == tmp_path / "c" / "ganstudio"
    assert paths.user_state_dir() == tmp_path / "s" / "ganstudio"
    assert not (tmp_path / "ganstudio").exists() and not (tmp_path / "relative").exists()


def test_ganstudio_data_holds_all_three_folders(monkeypatch, tmp_path):
    monkeypatch.setenv("GANSTUDIO_DATA", str(tmp_path))
    assert paths.user_data_dir() == tmp_path
    assert paths.user_cache_dir() == tmp_path / "cache"
    assert paths.user_state_dir() == tmp_path / "state"
    from app.document.recovery import recovery_dir
    from engines.models.install import downloads_dir, models_root

    assert downloads_dir() == tmp_path / "cache" / "downloads"  # partial downloads: the cache
    assert models_root() == tmp_path / "models"
    assert recovery_dir() == tmp_path / "state" / "recovery"


def test_install_from_a_cache_on_another_filesystem(monkeypatch, tmp_path):
    """os.replace fails with EXDEV across filesystems: the file is copied in, then the part removed."""
    from engines.models import install

    part = install.part_path("xdev", ".pth")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"weights")
    real_replace = os.replace

    def replace(src, dst):
        if Path(src) == part:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_replace(src, dst)

    monkeypatch.setattr(install.os, "replace", replace)
    model = install.install_file(part, "xdev", "upscale", ".pth", {"title": "x"})
    assert model.path.read_bytes() == b"weights" and not part.exists()
    assert not list(model.path.parent.glob("*.incoming"))


# ---------------------------------------------------------------------------- entry points
def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          timeout=120, cwd=kw.get("cwd"), env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def test_python_m_app_and_version(tmp_path):
    from engines import __version__

    proc = _cli("--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == f"ganstudio {__version__}"
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" in meta["dynamic"]  # the one version is engines.__version__
    assert meta["license"] == "MIT" and "LICENSE" in meta["license-files"]  # SPDX string form
    assert "MIT License" in (ROOT / "LICENSE").read_text()


@pytest.mark.parametrize("args, codes", [(["models", "list"], {141}), (["--help"], {0, 141}),
                                         (["batch", "--help"], {0, 141}), (["--version"], {0, 141})])
def test_a_closed_pipe_ends_quietly(args, codes):
    """`ganstudio models list | head`: no BrokenPipeError traceback, exit 141 as after SIGPIPE.

    The reading end is closed before the command starts, so its first write meets a closed pipe.
    (argparse's own --help/--version output swallows the error itself and exits 0.)"""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "app", *args], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    finally:
        os.close(write_end)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.returncode in codes


# ---------------------------------------------------------------------------- licences
def test_every_bundled_model_and_sample_is_in_the_licence_list():
    text = (paths.RESOURCES / "LICENSES.md").read_text()
    for card in paths.BUNDLED_WEIGHTS.glob("*.json"):
        model_id = json.loads(card.read_text())["id"]
        assert f"`{model_id}`" in text, f"{model_id} missing from resources/LICENSES.md"
    for sample in paths.SAMPLES.iterdir():
        if sample.suffix.lower() in (".png", ".jpg", ".jpeg"):
            assert f"`{sample.name}`" in text, sample.name


# ---------------------------------------------------------------------------- desktop integration
def _desktop_keys(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if "=" in line)


def test_desktop_entry_declares_photos_and_files():
    keys = _desktop_keys(paths.DESKTOP / "ganstudio.desktop")
    assert keys["Type"] == "Application" and keys["Icon"] == "ganstudio"
    assert keys["Exec"].endswith(" %F")
    assert set(keys["MimeType"].rstrip(";").split(";")) == {"image/png", "image/jpeg", "image/tiff", "image/webp"}


def test_install_desktop_writes_the_xdg_files(tmp_path, monkeypatch):
    from engines import desktop

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert desktop.install_desktop() == 0
    entry = tmp_path / "applications" / "ganstudio.desktop"
    keys = _desktop_keys(entry)
    assert keys["Exec"] == " ".join(desktop._exec_quote(a) for a in desktop.launcher()) + " %F"
    assert Path(keys["TryExec"]).is_file()  # this install's launcher, found without PATH
    assert (tmp_path / "icons/hicolor/scalable/apps/ganstudio.svg").read_bytes() == (paths.RESOURCES / "icons/ganstudio.svg").read_bytes()
    assert (tmp_path / "icons/hicolor/256x256/apps/ganstudio.png").is_file()
    assert (tmp_path / "metainfo" / f"{desktop.APPSTREAM_ID}.metainfo.xml").is_file()
    # a relative XDG_DATA_HOME is ignored, a missing resource is a clear error, not a traceback
    assert desktop._exec_quote("/a b/ganstudio") == '"/a b/ganstudio"'
    assert desktop.install_desktop(tmp_path / "t2", resources=tmp_path / "nothing") == 1


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstreamcli not installed (Debian: apt-get install appstream)")
def test_metainfo_validates():
    proc = subprocess.run(["appstreamcli", "validate", "--no-net", str(paths.DESKTOP / "ganstudio.metainfo.xml")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_window_icon_is_the_bundled_svg(qapp):
    from PySide6.QtSvg import QSvgRenderer

    from app.main import app_icon

    assert QSvgRenderer(str(paths.RESOURCES / "icons" / "ganstudio.svg")).isValid()
    icon = app_icon()
    assert not icon.isNull()
    image = icon.pixmap(64, 64).toImage()
    assert image.width() == 64 and image.pixelColor(32, 32).alpha() == 255  # drawn, opaque centre


# ---------------------------------------------------------------------------- the repo stands alone
def test_module_references_stay_inside_the_repo():
    """Docstrings cite docs/ARCHITECTURE.md, never a design file outside the repository."""
    assert (ROOT / "docs" / "ARCHITECTURE.md").is_file()
    design, style = "DESIGN" + ".md", "STYLE" + ".md"  # spelled apart so this file does not match
    offenders = []
    for folder in ("app", "engines", "tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8", errors="replace")
            if design in text or style in text:
                offenders.append(str(path.relative_to(ROOT)))
    readme = (ROOT / "README.md").read_text()
    assert design not in readme and style not in readme
    assert offenders == []


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate not installed (Debian: apt-get install desktop-file-utils)")
def test_desktop_entries_validate(tmp_path, monkeypatch):
    from engines import desktop

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert desktop.install_desktop() == 0
    for entry in (paths.DESKTOP / "ganstudio.desktop", tmp_path / "applications" / "ganstudio.desktop"):
        proc = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr
