"""`make run`'s check of the system libraries Qt's xcb (X11) platform plugin needs.

    python scripts/qt_xcb_deps.py            check; install what is missing, or say exactly how
    python scripts/qt_xcb_deps.py --list     print the sonames the installed plugin needs, exit

A fresh Debian/Ubuntu machine with a display lacks some of them (Qt >= 6.5 aborts with "xcb-cursor0
or libxcb-cursor0 is needed to load the Qt xcb platform plugin"). This script runs ``ldd`` on the
installed PySide6's ``libqxcb.so`` (plus ``libxcb-cursor.so.0``, which Qt loads at run time), and
for the missing ones runs ``apt-get install`` as root, or through ``sudo`` when that can work
(passwordless, or a terminal to ask on). Where it cannot, it prints the exact command and exits 1
with a clear message, so `make run` stops before Qt would abort.

Nothing to do (exit 0) when not on Linux, when no X display is in use (no ``DISPLAY``; a Wayland
session or ``QT_QPA_PLATFORM`` set to something other than ``xcb``), or when all libraries are there.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# soname -> Debian/Ubuntu package. tests/test_qt_xcb_deps.py checks that every system library the
# installed plugin links against is listed here.
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-present.so.0": "libxcb-present0",
    "libxcb-dri3.so.0": "libxcb-dri3-0",
    "libxcb-xkb.so.0": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libuuid.so.1": "libuuid1",
    "libexpat.so.1": "libexpat1",
    "libpng16.so.16": "libpng16-16",
    "libbrotlidec.so.1": "libbrotli1",
    "libbrotlicommon.so.1": "libbrotli1",
    "libbz2.so.1.0": "libbz2-1.0",
    "libz.so.1": "zlib1g",
    "libpcre2-8.so.0": "libpcre2-8-0",
    "libffi.so.8": "libffi8",
    "libsystemd.so.0": "libsystemd0",
    "libcap.so.2": "libcap2",
    "libgcrypt.so.20": "libgcrypt20",
    "libgpg-error.so.0": "libgpg-error0",
    "liblz4.so.1": "liblz4-1",
    "liblzma.so.5": "liblzma5",
    "libzstd.so.1": "libzstd1",
    "libbsd.so.0": "libbsd0",
    "libmd.so.0": "libmd0",
}
# glibc and the C++ runtime: always there where Python runs
BASE_LIBS = re.compile(r"^(linux-vdso|ld-linux[\w-]*|libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|"
                       r"libresolv|libutil|libmvec)\.so")
RUNTIME_LOADED = ("libxcb-cursor.so.0",)  # dlopen()ed by the plugin at start-up: ldd cannot see it


def plugin_path() -> Path | None:
    try:
        import PySide6
    except ImportError:
        return None
    path = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return path if path.is_file() else None


def ldd(path: Path) -> dict[str, str | None]:
    """soname -> resolved path (None = not found) for every library ``path`` loads, recursively."""
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=60).stdout
    libs: dict[str, str | None] = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(not found|\S+)", line)
        if m:
            libs[m.group(1)] = None if m.group(2) == "not found" else m.group(2)
    return libs


def _found_by_loader(soname: str) -> bool:
    """True when the dynamic loader can find ``soname`` (what Qt's dlopen would do)."""
    import ctypes

    try:
        ctypes.CDLL(soname)
        return True
    except OSError:
        return False


def system_libs(plugin: Path) -> dict[str, bool]:
    """Every system library the plugin needs -> found? (Qt's own libraries in PySide6 left out)."""
    qt_dir = str(plugin.parents[3])
    libs = {}
    for soname, where in ldd(plugin).items():
        if BASE_LIBS.match(soname) or (where and where.startswith(qt_dir)) or soname.startswith("libQt6"):
            continue
        libs[soname] = where is not None
    for soname in RUNTIME_LOADED:
        libs[soname] = _found_by_loader(soname)
    return libs


def install_command(packages: list[str]) -> list[str] | None:
    """The command that installs ``packages`` here, or None when this script cannot run it."""
    if shutil.which("apt-get") is None:
        return None
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if os.geteuid() == 0:
        return cmd
    sudo = shutil.which("sudo")
    if sudo is None:
        return None
    passwordless = subprocess.run([sudo, "-n", "true"], capture_output=True).returncode == 0
    return [sudo, *cmd] if passwordless or sys.stdin.isatty() else None


def _needs_xcb() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":")[0] == "xcb"
    return bool(os.environ.get("DISPLAY")) and not os.environ.get("WAYLAND_DISPLAY")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", action="store_true", help="print the sonames the plugin needs and exit")
    ap.add_argument("--force", action="store_true", help="check even without an X display")
    args = ap.parse_args(argv)
    plugin = plugin_path()
    if args.list:
        if plugin is None:
            print("qt-xcb: PySide6's xcb plugin not found", file=sys.stderr)
            return 1
        for soname, ok in sorted(system_libs(plugin).items()):
            print(f"{soname}\t{'found' if ok else 'MISSING'}\t{DEBIAN_PACKAGES.get(soname, '?')}")
        return 0
    if not (args.force or _needs_xcb()) or plugin is None or shutil.which("ldd") is None:
        return 0
    missing = sorted(s for s, ok in system_libs(plugin).items() if not ok)
    if not missing:
        return 0
    packages = sorted({DEBIAN_PACKAGES[s] for s in missing if s in DEBIAN_PACKAGES})
    unknown = [s for s in missing if s not in DEBIAN_PACKAGES]
    print(f"qt-xcb: the Qt X11 plugin needs system libraries that are missing: {', '.join(missing)}")
    cmd = install_command(packages) if packages and not unknown else None
    if cmd is None:
        if packages:
            print("qt-xcb: install them with:\n\n    sudo apt-get install -y " + " ".join(packages) + "\n")
        if unknown:
            print("qt-xcb: with your system's package manager, install the packages that provide: "
                  + ", ".join(unknown))
        print("qt-xcb: then run `make run` again (or start GAN Studio on Wayland: QT_QPA_PLATFORM=wayland).")
        return 1
    print("qt-xcb: running: " + " ".join(cmd))
    if subprocess.run(cmd).returncode != 0:  # a stale package index: refresh it once and retry
        update = cmd[: cmd.index("apt-get")] + ["apt-get", "update"]
        subprocess.run(update)
        if subprocess.run(cmd).returncode != 0:
            print("qt-xcb: the installation failed; install them yourself:\n\n    sudo apt-get install -y "
                  + " ".join(packages) + "\n")
            return 1
    still = sorted(s for s, ok in system_libs(plugin).items() if not ok)
    if still:
        print(f"qt-xcb: still missing after the installation: {', '.join(still)}")
        return 1
    print("qt-xcb: done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
