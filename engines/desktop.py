"""Linux desktop integration: ``ganstudio --install-desktop`` (no Qt; plain file copies).

Copies the bundled desktop entry, icons and AppStream metadata into the user's XDG data folder
(``$XDG_DATA_HOME`` when absolute, else ``~/.local/share``)::

    applications/ganstudio.desktop                 Exec= rewritten to this install's launcher
    icons/hicolor/scalable/apps/ganstudio.svg
    icons/hicolor/256x256/apps/ganstudio.png
    metainfo/io.github.ganstudio.GANStudio.metainfo.xml

The ``Exec`` line names the launcher of the running install (the ``ganstudio`` script beside this
Python, else ``python -m app``), so the menu entry works from a virtual environment that is not
on ``PATH``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import paths

DESKTOP_FILE = "ganstudio.desktop"
METAINFO_FILE = "ganstudio.metainfo.xml"
APPSTREAM_ID = "io.github.ganstudio.GANStudio"
ICON_NAME = "ganstudio"


class DesktopInstallError(RuntimeError):
    """The desktop files could not be installed (missing resources, unwritable folder)."""


def xdg_data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def launcher() -> list[str]:
    """The command that starts this install: the console script beside this Python, or ``-m app``."""
    script = Path(sys.executable).parent / ("ganstudio.exe" if sys.platform == "win32" else "ganstudio")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "app"]


def _exec_quote(arg: str) -> str:
    """Quote one argument for a desktop entry's Exec key (the spec's rules for reserved characters)."""
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$") + '"'


def desktop_entry(source: Path, command: list[str]) -> str:
    """The bundled desktop entry with ``Exec``/``TryExec`` pointing at ``command``."""
    lines = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = "Exec=" + " ".join(_exec_quote(a) for a in command) + " %F"
        elif line.startswith("TryExec="):
            line = "TryExec=" + command[0]
        lines.append(line)
    return "\n".join(lines) + "\n"


def install_desktop(target: Path | None = None, resources: Path | None = None, out=None) -> int:
    """Install the menu entry, icons and metadata under ``target`` (default: XDG data home).

    Returns 0, or 1 with a message on stderr when something could not be done.
    """
    out = sys.stdout if out is None else out
    target = xdg_data_home() if target is None else Path(target)
    resources = paths.RESOURCES if resources is None else Path(resources)
    try:
        written = _install(target, resources)
    except DesktopInstallError as exc:
        print(f"ganstudio --install-desktop: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}", file=out)
    _refresh_caches(target)
    return 0


def _install(target: Path, resources: Path) -> list[Path]:
    sources = {
        "desktop": resources / "desktop" / DESKTOP_FILE,
        "metainfo": resources / "desktop" / METAINFO_FILE,
        "svg": resources / "icons" / f"{ICON_NAME}.svg",
        "png": resources / "icons" / f"{ICON_NAME}.png",
    }
    missing = [str(p) for p in sources.values() if not p.is_file()]
    if missing:
        raise DesktopInstallError(f"bundled file(s) missing: {', '.join(missing)} (a broken install?)")
    plan = [
        (target / "icons" / "hicolor" / "scalable" / "apps" / f"{ICON_NAME}.svg", sources["svg"].read_bytes()),
        (target / "icons" / "hicolor" / "256x256" / "apps" / f"{ICON_NAME}.png", sources["png"].read_bytes()),
        (target / "metainfo" / f"{APPSTREAM_ID}.metainfo.xml", sources["metainfo"].read_bytes()),
        # the menu entry last: it only appears once its icon is there
        (target / "applications" / DESKTOP_FILE, desktop_entry(sources["desktop"], launcher()).encode("utf-8")),
    ]
    from .atomic import atomic_write_bytes

    written = []
    for path, data in plan:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, data)
        except OSError as exc:
            raise DesktopInstallError(f"cannot write {path}: {exc.strerror or exc}") from exc
        written.append(path)
    return written


def _refresh_caches(target: Path) -> None:
    """Ask the desktop to re-read the folders, where the tools exist (optional: menus rescan anyway)."""
    for tool, arg in (("update-desktop-database", target / "applications"),
                      ("gtk-update-icon-cache", target / "icons" / "hicolor")):
        exe = shutil.which(tool)
        if exe is None:
            continue
        args = [exe, "-q", str(arg)] if tool == "update-desktop-database" else [exe, "-q", "-t", str(arg)]
        try:
            subprocess.run(args, check=False, timeout=30, capture_output=True)
        except (OSError, subprocess.SubprocessError):
            pass
