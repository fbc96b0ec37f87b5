"""``ganstudio train pack | all | accept`` (wired into :mod:`engines.cli`)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path


def add_train_parsers(tsub) -> None:
    p = tsub.add_parser("pack", help="pack the training splits for a GPU run (git-ignored, <= 20 MiB)")
    p.add_argument("--data", help="the shared data folder (default ../shared/data)")
    p.add_argument("--out", default=".gpu-data", help="the packed folder (default .gpu-data)")
    p.add_argument("--limit", type=int, default=0, help="at most this many photos per set (tests)")
    a = tsub.add_parser("all", help="train every learned engine at once to one deadline (the GPU kit)")
    a.add_argument("--data", default=".gpu-data", help="the packed folder from `train pack`")
    a.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu")
    a.add_argument("--minutes", type=float, default=8.0, help="training time; exports follow")
    a.add_argument("--out", required=True, help="run folders (checkpoint-free: logs and exports)")
    a.add_argument("--init", default="", help="start from these bundled weights, e.g. resources/weights")
    a.add_argument("--engines", default="", help="comma-separated subset (default: all)")
    a.add_argument("--tar-to", default="", help="also pack the results into <= 8 files here (e.g. $OUT)")
    a.add_argument("--jobs", type=int, default=0, help="engines at once (default: all)")
    a.add_argument("--grace", type=float, default=90.0, help="seconds after the deadline before a process is killed")
    a.add_argument("--dry-run", action="store_true", help="tiny widths and a few steps: checks the kit on a CPU")
    a.add_argument("--max-steps", type=int, default=0, help="stop each engine after N steps (dry run: 3)")
    c = tsub.add_parser("accept", help="bench returned models on held-out data; bundle only the winners")
    c.add_argument("src", help="the folder with the returned .tar files (or the run folder)")
    c.add_argument("--data", help="the shared data folder (default ../shared/data)")
    c.add_argument("--weights", default="", help="the bundled weights folder (default resources/weights)")
    c.add_argument("--limit", type=int, default=20, help="at most this many images per held-out set (0 = all)")
    c.add_argument("--no-replace", action="store_true", help="report only")
    c.add_argument("--json", help="write the verdicts here")


def pack_main(args: argparse.Namespace) -> int:
    from ..train_data import default_data_root
    from .pack import PackError, pack
    from .travel import TravelError, data_budget

    data = Path(args.data) if args.data else default_data_root()
    try:
        budget = data_budget()
    except TravelError:
        budget = 20 * 1024 * 1024
    try:
        manifest = pack(data, Path(args.out), limit=args.limit, budget=budget)
    except PackError as exc:
        print(f"ganstudio train pack: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {manifest['bytes'] / 2**20:.2f} MiB (budget {budget / 2**20:.2f} MiB), "
          f"JPEG quality {manifest['jpeg_quality']}, round trip {manifest['round_trip_psnr_db']} dB, "
          f"{manifest['bsds500']['count']} + {manifest['facades']['count']} photos")
    return 0


def all_main(args: argparse.Namespace) -> int:
    from .pack import FILES
    from .runner import ENGINES, train_all

    data = Path(args.data)
    if not all((data / f).is_file() for f in FILES):
        print(f"ganstudio train all: {data} is not a packed data folder; run `ganstudio train pack` first",
              file=sys.stderr)
        return 2
    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip()) or ENGINES
    if args.init and not Path(args.init).is_dir():
        print(f"ganstudio train all: --init folder not found: {args.init}", file=sys.stderr)
        return 2
    command = "ganstudio train all " + " ".join(shlex.quote(a) for a in sys.argv[3:]) if len(sys.argv) > 3 else ""
    try:
        summary = train_all(data, Path(args.out), device=args.device, minutes=args.minutes,
                            init=Path(args.init) if args.init else None, engines=engines, dry_run=args.dry_run,
                            max_steps=args.max_steps or (3 if args.dry_run else 0),
                            tar_to=Path(args.tar_to) if args.tar_to else None, jobs=args.jobs, grace=args.grace,
                            command=command or f"ganstudio train all --device {args.device} --minutes {args.minutes}")
    except ValueError as exc:
        print(f"ganstudio train all: {exc}", file=sys.stderr)
        return 2
    failed = [e for e, r in summary["engines"].items() if r["status"] != "ok"]
    print(f"done in {summary['wall_s']} s; {len(engines) - len(failed)} of {len(engines)} engines ok"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    for w in summary.get("warnings", []):
        print(f"warning: {w}", file=sys.stderr)
    return 1 if failed else 0


def accept_main(args: argparse.Namespace) -> int:
    from ..paths import BUNDLED_WEIGHTS
    from ..train_data import default_data_root
    from .accept import accept

    src = Path(args.src)
    if not src.is_dir():
        print(f"ganstudio train accept: not a folder: {src}", file=sys.stderr)
        return 2
    data = Path(args.data) if args.data else default_data_root()
    if not (data / "sr").is_dir() or not (data / "facades" / "test").is_dir():
        print(f"ganstudio train accept: no held-out sets under {data}", file=sys.stderr)
        return 2
    weights = Path(args.weights) if args.weights else BUNDLED_WEIGHTS
    verdicts = accept(src, data, weights, limit=args.limit, replace=not args.no_replace)
    if not verdicts:
        print(f"ganstudio train accept: no returned models in {src}", file=sys.stderr)
        return 1
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps([v.__dict__ for v in verdicts], indent=2, default=str))
        print(f"wrote {args.json}")
    return 0
