"""`make run`'s system-library check (scripts/qt_xcb_deps.py) against the installed PySide6."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "qt_xcb_deps.py"
spec = importlib.util.spec_from_file_location("qt_xcb_deps", SCRIPT)
deps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(deps)

needs_plugin = pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("ldd") is None
                                  or deps.plugin_path() is None, reason="Linux with ldd and PySide6's xcb plugin only")


@needs_plugin
def test_every_library_the_installed_plugin_needs_has_a_package():
    libs = deps.system_libs(deps.plugin_path())
    # the libraries of the Qt 6.5+ abort message, whichever of them this machine already has
    for soname in ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"):
        assert soname in libs
    unmapped = sorted(set(libs) - set(deps.DEBIAN_PACKAGES))
    assert unmapped == [], f"add these sonames to DEBIAN_PACKAGES: {unmapped}"
    assert not any(s.startswith(("libQt6", "libc.so", "libstdc++")) for s in libs)


def test_no_display_means_nothing_to_check(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    assert deps.main([]) == 0
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # `make test`: offscreen needs no xcb
    assert deps.main([]) == 0


@needs_plugin
def test_missing_libraries_without_a_way_to_install_print_the_exact_command(monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    real = deps.system_libs
    monkeypatch.setattr(deps, "system_libs", lambda p: {**real(p), "libxcb-cursor.so.0": False, "libxcb-icccm.so.4": False})
    monkeypatch.setattr(deps, "install_command", lambda packages: None)  # not root, no usable sudo
    assert deps.main([]) == 1
    out = capsys.readouterr().out
    assert "sudo apt-get install -y libxcb-cursor0 libxcb-icccm4" in out
    assert "make run" in out


@needs_plugin
def test_missing_libraries_are_installed_with_the_package_manager(monkeypatch, capsys):
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    state = {"installed": False}
    real = deps.system_libs
    monkeypatch.setattr(deps, "system_libs", lambda p: {**real(p), "libxcb-keysyms.so.1": state["installed"]})
    monkeypatch.setattr(deps, "install_command", lambda packages: ["apt-get", "install", "-y", *packages])
    ran = []
    real_run = deps.subprocess.run

    class Done:
        returncode = 0

    def fake_run(cmd, *a, **kw):
        if cmd[0] == "ldd":
            return real_run(cmd, *a, **kw)
        ran.append(cmd)
        state["installed"] = True
        return Done()

    monkeypatch.setattr(deps.subprocess, "run", fake_run)
    assert deps.main([]) == 0
    assert ran == [["apt-get", "install", "-y", "libxcb-keysyms1"]]
