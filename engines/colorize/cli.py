"""``ganstudio train colorize`` and ``ganstudio bench colorize`` (wired into :mod:`engines.cli`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli_output import data_folder, print_progress


def add_train_parser(tsub) -> None:
    t = tsub.add_parser("colorize", help="reduced-width SIGGRAPH17 colorizer on BSDS500 train+test + facades train")
    t.add_argument("--data", help="the shared data folder (default ../shared/data)")
    t.add_argument("--out", default="runs/colorize", help="checkpoints and log (resumes from out/last.pt)")
    t.add_argument("--width", type=float, default=0.25, help="channel multiplier (1.0 = the paper's)")
    t.add_argument("--crop", type=int, default=64, help="training crop side (multiple of 8)")
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--steps", type=int, default=10000)
    t.add_argument("--minutes", type=float, default=0.0, help="wall-time budget (cosine decay follows it)")
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--spread-input", action="store_true",
                   help="our hybrid: the net also sees the hints spread over regions of similar lightness")
    t.add_argument("--many-frac", type=float, default=0.0,
                   help="fraction of samples with a dense uniform hint set (1..200 points) besides the paper's")
    t.add_argument("--spread-mode", choices=("hard", "soft"), default="hard",
                   help="the spread input in training: hard (nearest hint, as first trained) or soft (exactly "
                        "what the engine feeds the net: soft partition, 1-hint fade to the starting model's "
                        "0-hint answer)")
    t.add_argument("--init", default="", help="start a new run from this checkpoint's weights (.pt or .safetensors), "
                                              "e.g. runs/colorize/last.pt")
    t.add_argument("--eval", default="", help="monitor PSNR on a few photos of this (held-out) folder")
    t.add_argument("--export", help="write fp16 .safetensors of out/last.pt here and stop")


def train_main(args: argparse.Namespace) -> int:
    from ..train_data import default_data_root
    from .train import ColorizeTrainConfig, export, train

    out = Path(args.out)
    if args.export:
        if not (out / "last.pt").is_file():
            print(f"ganstudio train colorize: no checkpoint at {out / 'last.pt'}", file=sys.stderr)
            return 2
        print(f"wrote {export(out / 'last.pt', Path(args.export))}")
        return 0
    data = Path(args.data) if args.data else default_data_root()
    if not (data / "photos" / "bsds500" / "train").is_dir():
        print(f"ganstudio train colorize: no photos/bsds500/train under {data}", file=sys.stderr)
        return 2
    if args.crop % 8 or args.crop < 16 or args.crop > 256:
        print(f"ganstudio train colorize: --crop must be a multiple of 8 in 16..256, got {args.crop}", file=sys.stderr)
        return 2
    cfg = ColorizeTrainConfig(data=str(data), out=str(out), width=args.width, crop=args.crop, batch=args.batch,
                              steps=args.steps, minutes=args.minutes, lr=args.lr, threads=args.threads,
                              eval_dir=args.eval, spread_input=args.spread_input, many_frac=args.many_frac,
                              spread_mode=args.spread_mode, init=args.init, device=getattr(args, "device", "cpu"))
    if cfg.init and not Path(cfg.init).is_file():
        print(f"ganstudio train colorize: --init checkpoint not found: {cfg.init}", file=sys.stderr)
        return 2
    for info in train(cfg):
        print_progress(info)
    return 0


def bench_main(args: argparse.Namespace) -> int:
    from ..bench import colorize as bench
    from ..core.protocol import EngineError

    data = data_folder(args.data, "ganstudio bench colorize", "../shared/data/color/CBSD68")
    if data is None:
        return 2
    if args.weights:
        from .engine import register_models

        register_models([Path(args.weights)])
    images = bench.load_set(data, args.limit)
    if not images:
        print(f"ganstudio bench colorize: no images in {data}", file=sys.stderr)
        return 1
    models = [m.strip() for m in (args.models or "default,baseline").split(",") if m.strip()]
    print(bench.HEADER, flush=True)
    try:
        rows = bench.run_bench(images, models, data.name, on_row=lambda r: print(bench.format_row(r), flush=True))
        from ..imageio import load_image

        first = sorted(p for p in data.glob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))[0]
        timings = {m: bench.timing(m, load_image(first).rgb) for m in models}
    except EngineError as exc:
        print(f"ganstudio bench colorize: {exc}", file=sys.stderr)
        return 1
    for model, t in timings.items():
        print(f"{model}: full pass {t['full_seconds']:.3f} s at {t['width']}x{t['height']}, "
              f"preview {t['preview_seconds']:.3f} s", flush=True)
    if args.json:
        out = Path(args.json)
        png = bench.plot(rows, out.with_suffix(".png"))
        grid = bench.grid(images, models, out.with_name(out.stem + "-grid.png"))
        bench.write_json(rows, out, {"timing": timings, "plot": png.name, "grid": grid.name})
        print(f"wrote {out}, {png} and {grid}")
    return 0
