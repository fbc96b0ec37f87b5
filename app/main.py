"""The one entry point, ``ganstudio``.

    ganstudio [IMAGE]                        the editor
    ganstudio --screenshot OUT.png [IMAGE]   render the main window offscreen, save it, exit 0
    ganstudio bench canvas --json OUT        canvas latency / UI stall figures (needs Qt, offscreen)
    ganstudio batch|models|train|bench ...   headless commands (no Qt imported)
    ganstudio --install-desktop              add the menu entry and icons to ~/.local/share (XDG)
    python -m app ...                        the same entry point

Headless sub-commands are dispatched before anything imports Qt, so they run with no display.
A reader that closes the pipe early (``ganstudio models list | head``) ends any command quietly.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

HEADLESS = ("batch", "models", "train", "bench")


def _mistyped_command(arg: str) -> bool:
    """A bare word (no option dash, no folder, no extension) that names no file, such as
    ``ganstudio frobnicate``: a mistyped command, not a photo to open (without a display the
    editor would abort instead of saying so)."""
    return not arg.startswith("-") and "." not in arg and "/" not in arg and os.sep not in arg \
        and not os.path.lexists(arg)


def _gui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ganstudio", description="GAN Studio: a photo editor whose brush strokes drive generative networks.",
                                epilog="Headless: ganstudio batch|models|train|bench --help")
    p.add_argument("image", nargs="?", help="photo to open")
    p.add_argument("--screenshot", metavar="OUT.png", help="render the main window offscreen to OUT.png and exit")
    p.add_argument("--size", default="1400x900", help="window size for --screenshot (WxH)")
    from engines import __version__

    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--install-desktop", action="store_true",
                   help="install the menu entry, icons and AppStream data into ~/.local/share and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows here, not as a traceback at interpreter exit
        return code
    except BrokenPipeError:
        return _closed_pipe()


def _closed_pipe() -> int:
    """The reader went away (``| head``): stop quietly, as a command killed by SIGPIPE would."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing left to flush at exit
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for such a command


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=os.environ.get("GANSTUDIO_LOG", "WARNING"))
    if argv and argv[0] in HEADLESS:
        if argv[0] == "bench" and len(argv) > 1 and argv[1] == "canvas":
            from .canvas.bench import main as bench_canvas

            return bench_canvas(argv[2:])
        from engines.cli import main as headless

        return headless(argv)
    if argv and _mistyped_command(argv[0]):
        _gui_parser().print_usage(sys.stderr)
        print(f"ganstudio: '{argv[0]}' is neither a command ({', '.join(HEADLESS)}) nor a file",
              file=sys.stderr)
        return 2
    args = _gui_parser().parse_args(argv)
    if args.install_desktop:
        from engines.desktop import install_desktop

        return install_desktop()
    if args.screenshot:
        import tempfile

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        # a fresh layout every time, and the user's own settings are never touched
        os.environ.setdefault("GANSTUDIO_SETTINGS", os.path.join(tempfile.mkdtemp(prefix="ganstudio-shot-"), "settings.ini"))
        return _screenshot(args)
    return _run_editor(args)


def _make_app():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("GAN Studio")
    app.setOrganizationName("GANStudio")
    app.setDesktopFileName("ganstudio")  # Wayland/X11 match the window to ganstudio.desktop
    app.setWindowIcon(app_icon())
    return app


def app_icon():
    """The application icon (bundled SVG + 256-px PNG); an empty icon if the files are missing."""
    from PySide6.QtGui import QIcon

    from engines import paths

    icon = QIcon()
    for name in ("ganstudio.svg", "ganstudio.png"):
        path = paths.RESOURCES / "icons" / name
        if path.is_file():
            icon.addFile(str(path))
    return icon


def _run_editor(args) -> int:
    app = _make_app()
    from .mainwindow import MainWindow
    from .dialogs.recovery_prompt import offer_recovery

    win = MainWindow()
    win.show()
    if not offer_recovery(win) and args.image:
        win.open_path(args.image)
    return app.exec()


def _screenshot(args) -> int:
    app = _make_app()
    from PySide6.QtCore import QTimer

    from .mainwindow import MainWindow

    win = MainWindow()
    win.quiet_errors = True
    w, h = (int(v) for v in args.size.lower().split("x"))
    win.resize(w, h)
    win.show()
    if args.image and not win.open_path(args.image):
        print(f"ganstudio: could not open {args.image}", file=sys.stderr)
        return 1
    for _ in range(5):
        app.processEvents()
    QTimer.singleShot(0, lambda: None)
    app.processEvents()
    out = Path(args.screenshot)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = win.grab().save(str(out))
    win.undo.setClean()
    win.close()
    if not ok:
        print(f"ganstudio: could not write {out}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
