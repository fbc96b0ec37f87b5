"""``ganstudio train igan`` and ``ganstudio bench igan`` (wired into :mod:`engines.cli`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli_output import data_folder, print_progress


def add_train_parser(tsub) -> None:
    t = tsub.add_parser("igan", help="iGAN: 64-px DCGAN / WGAN-GP generator + inverting encoder")
    t.add_argument("--domain", default="facades", choices=("facades", "shapes"),
                   help="facades (facades/train photos) or shapes (synthetic, for smoke runs)")
    t.add_argument("--data", help="the shared data folder (default ../shared/data)")
    t.add_argument("--out", default="runs/igan", help="checkpoints and log (resumes from out/last.pt)")
    t.add_argument("--loss", default="dcgan", choices=("dcgan", "wgan-gp"))
    t.add_argument("--size", type=int, default=64, help="image side: 64 (iGAN) or 128")
    t.add_argument("--nz", type=int, default=100)
    t.add_argument("--ngf", type=int, default=32,
                   help="generator width (DCGAN paper 64; 32 keeps a CPU edit near 2 s, 64 about 3x slower)")
    t.add_argument("--ndf", type=int, default=64)
    t.add_argument("--nef", type=int, default=32)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--steps", type=int, default=20000, help="generator updates")
    t.add_argument("--encoder-steps", type=int, default=4000)
    t.add_argument("--no-augment", action="store_true", help="train without DiffAugment")
    t.add_argument("--minutes", type=float, default=0.0, help="wall-time budget over resumes (0 = none)")
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1 ...")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--card-images", type=int, default=16, help="--export: photos for the card's projection check")
    t.add_argument("--export", help="write fp16 .safetensors (+ encoder, samples, model card) of out/last.pt "
                                    "here and stop; e.g. resources/weights/igan-facades.safetensors")


def train_main(args: argparse.Namespace) -> int:
    from ..train_data import default_data_root
    from . import train as tr

    name = "ganstudio train igan"
    out = Path(args.out)
    if args.export:
        if not (out / "last.pt").is_file():
            print(f"{name}: no checkpoint at {out / 'last.pt'}", file=sys.stderr)
            return 2
        print(f"wrote {tr.export_igan(out / 'last.pt', Path(args.export), figure_images=args.card_images)} (+ encoder, samples, model card)")
        return 0
    data = Path(args.data) if args.data else default_data_root()
    if args.domain == "facades" and not (data / "facades" / "train").is_dir():
        print(f"{name}: no facades/train under {data}", file=sys.stderr)
        return 2
    try:
        cfg = tr.IganTrainConfig(domain=args.domain, data=str(data), out=str(out), size=args.size, nz=args.nz,
                                 ngf=args.ngf, ndf=args.ndf, nef=args.nef, loss=args.loss,
                                 augment=not args.no_augment, batch=args.batch, steps=args.steps,
                                 encoder_steps=args.encoder_steps, minutes=args.minutes, threads=args.threads,
                                 device=args.device, seed=args.seed)
        tr._n_up(cfg.size)
        for info in tr.train_igan(cfg):
            print_progress(info)
    except (ValueError, FileNotFoundError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    return 0


def bench_main(args: argparse.Namespace) -> int:
    from ..bench import igan as bench
    from ..core.protocol import EngineError

    name = "ganstudio bench igan"
    data = data_folder(args.data, name, "../shared/data/facades/test")
    if data is None:
        return 2
    if args.weights:
        from .engine import register_models

        register_models([Path(args.weights)])
    models = [m.strip() for m in (args.models or "default").split(",") if m.strip()]
    try:
        rows = bench.run_bench(data, models, limit=args.limit or 16, json_path=Path(args.json) if args.json else None,
                               on_row=lambda r: print(bench.format_row(r), flush=True))
    except EngineError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    if not rows:
        print(f"{name}: no images under {data}", file=sys.stderr)
        return 1
    if args.json:
        print(f"wrote {args.json} (+ grid PNG beside it)")
    return 0
