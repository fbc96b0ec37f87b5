"""Headless commands (no Qt): ``ganstudio batch|models|train|bench <task>``.

Exit codes: 0 done, 1 some work failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ganstudio")
    sub = p.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="print quality and speed figures")
    bench.add_argument("task", help="canvas (needs Qt), sr, inpaint, colorize, spade, igan")
    bench.add_argument("--data", help="dataset folder")
    bench.add_argument("--json", help="write the rows as JSON here")
    bench.add_argument("--models", help="comma-separated model ids")
    for name, text in (("batch", "process a folder"), ("models", "list, download, import, verify, remove models"),
                       ("train", "train an engine's weights")):
        s = sub.add_parser(name, help=text)
        s.add_argument("rest", nargs=argparse.REMAINDER)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on bad usage: keep it a return code
        return int(exc.code or 0) if exc.code in (0, None) else 2
    command = args.command if args.command != "bench" else f"bench {args.task}"
    print(f"ganstudio: '{command}' is not available in this version yet", file=sys.stderr)
    return 2
