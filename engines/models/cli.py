"""``ganstudio models list|download|import|verify|remove``: the model manager on the command line.

Exit codes (as ``engines/cli.py``): 0 done, 1 the work failed (network, checksum, a corrupt file
found by ``verify``), 2 bad usage (unknown id, no such file).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from ..core.cancel import Cancelled
from ..core.protocol import EngineError, Progress
from .errors import ModelError


def add_arguments(msub: Any) -> None:
    """Add the manager's actions to the ``models`` sub-parser (``import-ncnn`` stays in engines/cli.py)."""
    lst = msub.add_parser("list", help="installed and available models (state, size, licence)")
    lst.add_argument("--engines", action="store_true", help="list the registered engines instead")
    dl = msub.add_parser("download", help="download, verify and install a catalog model")
    dl.add_argument("id", help="a model id from `ganstudio models list`")
    dl.add_argument("--timeout", type=float, default=30.0, help="seconds without data before giving up")
    imp = msub.add_parser("import", help="install a .pth / .safetensors file or an ncnn folder")
    imp.add_argument("src", help="weights file, or a folder of ncnn .param + .bin pairs")
    imp.add_argument("--id", help="model id to install it as (default: from the file name)")
    msub.add_parser("verify", help="re-check every installed file against its sha256")
    rm = msub.add_parser("remove", help="delete an installed model (and its partial download)")
    rm.add_argument("id")


ACTIONS = ("list", "download", "import", "verify", "remove")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    prog = f"ganstudio models {args.action}"
    try:
        if args.action == "list":
            return _list(args, out)
        if args.action == "download":
            return _download(args, out, err)
        if args.action == "import":
            return _import(args, out, err)
        if args.action == "verify":
            return _verify(out)
        if args.action == "remove":
            return _remove(args, out)
    except ModelError as exc:
        print(f"{prog}: {exc}", file=err)
        return 2 if _is_usage(exc) else 1
    except EngineError as exc:
        print(f"{prog}: {exc}", file=err)
        return 1
    except Cancelled:
        print(f"{prog}: cancelled (a partial download is kept and resumes next time)", file=err)
        return 1
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted (a partial download is kept and resumes next time)", file=err)
        return 1
    print(f"ganstudio models: unknown action {args.action}", file=err)
    return 2


def _is_usage(exc: ModelError) -> bool:
    text = str(exc)
    return text.startswith(("no model '", "invalid model id", "no such file", "'")) or "is not installed" in text


def _list(args: argparse.Namespace, out: TextIO) -> int:
    if args.engines:
        from ..core.registry import infos

        for info in infos():
            print(f"{info.task.value:<11} {info.id:<30} x{info.scale:<2} {info.license}", file=out)
        return 0
    from .manager import model_rows

    rows = model_rows()
    print(f"{'id':<32} {'task':<10} {'state':<10} {'size':>10}  licence", file=out)
    for r in rows:
        print(f"{r.id:<32} {r.task.value:<10} {r.state:<10} {r.size_text:>10}  {r.license}", file=out)
    manual = [r for r in rows if r.state == "manual"]
    if manual:
        print(f"\n{len(manual)} model(s) have no direct download: `ganstudio models download ID` "
              "says where to get them, then `ganstudio models import FILE`.", file=out)
    return 0


class _ProgressLine:
    """One terminal line rewritten in place (``\\r``); at most ~10 updates a second."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream, self.label, self.last = stream, label, 0.0
        self.tty = bool(getattr(stream, "isatty", lambda: False)())

    def update(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and p.done != p.total:
            return
        self.last = now
        if p.total > 1:
            text = f"{self.label}: {p.done / 1e6:7.1f} / {p.total / 1e6:.1f} MB {100 * p.fraction:3.0f}% {p.message}"
        else:
            text = f"{self.label}: {p.done / 1e6:7.1f} MB {p.message}"
        if self.tty:
            self.stream.write("\r" + text.ljust(72))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _drive(gen, line: _ProgressLine):
    try:
        while True:
            line.update(next(gen))
    except StopIteration as stop:
        return stop.value
    finally:
        line.end()


def _download(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .manager import download, refresh_engines

    installed = _drive(download(args.id, timeout=args.timeout), _ProgressLine(err, args.id))
    refresh_engines()
    print(f"installed {installed.id} ({installed.data.get('arch', '?')}, {installed.task.value}) -> "
          f"{installed.path}\nsha256 {installed.sha256} ({installed.data.get('sha256_origin')})", file=out)
    return 0


def _import(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from pathlib import Path

    from .manager import import_path, refresh_engines

    src = Path(args.src)
    if not src.exists():
        print(f"ganstudio models import: no such file or folder: {src}", file=err)
        return 2
    models = _drive(import_path(src, args.id), _ProgressLine(err, src.name))
    refresh_engines()
    for m in models:
        hp = ", ".join(f"{k}={v}" for k, v in (m.data.get("hparams") or {}).items())
        print(f"installed {m.id}: {m.data.get('arch')} ({m.task.value}, x{m.data.get('scale', 1)}; {hp}) -> {m.path}",
              file=out)
    return 0


def _verify(out: TextIO) -> int:
    from .manager import verify

    results = verify()
    if not results:
        print("no installed models to verify (bundled models ship with the program)", file=out)
        return 0
    for r in results:
        print(f"{'ok     ' if r.ok else 'FAILED '} {r.id:<32} {r.task.value:<10} {r.message}", file=out)
    return 0 if all(r.ok for r in results) else 1


def _remove(args: argparse.Namespace, out: TextIO) -> int:
    from .manager import remove

    for path in remove(args.id):
        print(f"deleted {path}", file=out)
    return 0
