"""``ganstudio train spade``, ``ganstudio train segment`` and ``ganstudio bench spade``
(wired into :mod:`engines.cli`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli_output import data_folder, print_progress


def add_train_parsers(tsub) -> None:
    t = tsub.add_parser("spade", help="GauGAN/SPADE + VAE style encoder on CMP Facades train")
    _common(t, "runs/spade")
    t.add_argument("--crop", type=int, default=256, help="training crop (CPU: 128 to save time)")
    t.add_argument("--load", type=int, default=0, help="resize before cropping (default crop * 286/256)")
    t.add_argument("--ngf", type=int, default=12, help="generator width (official 64; 12 fits 20 MB fp16)")
    t.add_argument("--hidden", type=int, default=64, help="SPADE mlp width (official 128)")
    t.add_argument("--ndf", type=int, default=32, help="discriminator width (official 64)")
    t.add_argument("--batch", type=int, default=4)
    t.add_argument("--steps", type=int, default=20000)
    t.add_argument("--no-vae", action="store_true", help="train without the style encoder")
    t.add_argument("--num-up", default="normal", choices=("normal", "more", "most"),
                   help="x2 steps: 'more' gives 256 px from a 4 x 4 grid (fine-tune a 128 px model at 256)")
    t.add_argument("--padding", default="reflect", choices=("reflect", "zeros"),
                   help="generator conv padding (zeros: the official models', bands along the borders)")
    t.add_argument("--encoder-layers", type=int, default=0, help="style encoder depth (0: 6 at crop >= 256, else 5)")
    t.add_argument("--init", default="", help="generator .safetensors to start from (same widths and grid)")
    s = tsub.add_parser("segment", help="facades segmentation U-Net (photo -> 12 classes)")
    _common(s, "runs/segment")
    s.add_argument("--crop", type=int, default=256)
    s.add_argument("--load", type=int, default=0)
    s.add_argument("--width", type=int, default=24)
    s.add_argument("--batch", type=int, default=8)
    s.add_argument("--steps", type=int, default=6000)
    s.add_argument("--levels", type=int, default=5, help="U-Net levels (the first bundled model: 4)")
    s.add_argument("--base", type=int, default=0,
                   help="a whole facade's side in a view at scale 1 = the card's work_side (default --crop)")
    s.add_argument("--init", default="", help="facades-segnet .safetensors to start from (tensors that fit)")
    s.add_argument("--no-views", action="store_true",
                   help="the first trainer: resized crops + flips only, no scale/aspect/perspective/colour/blur views")


def _common(t, out: str) -> None:
    t.add_argument("--data", help="the shared data folder (default ../shared/data)")
    t.add_argument("--out", default=out, help="checkpoints and log (resumes from out/last.pt)")
    t.add_argument("--minutes", type=float, default=0.0, help="wall-time budget over resumes (0 = none)")
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1 ...")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--export", help="write fp16 .safetensors + model card of out/last.pt here and stop")


def train_main(args: argparse.Namespace) -> int:
    from ..train_data import default_data_root
    from . import train as tr

    name = f"ganstudio train {args.task}"
    out = Path(args.out)
    if args.export:
        if not (out / "last.pt").is_file():
            print(f"{name}: no checkpoint at {out / 'last.pt'}", file=sys.stderr)
            return 2
        export = tr.export_spade if args.task == "spade" else _export_segment
        print(f"wrote {export(out / 'last.pt', Path(args.export))} (+ model card .json)")
        return 0
    data = Path(args.data) if args.data else default_data_root()
    if not (data / "facades" / "train").is_dir():
        print(f"{name}: no facades/train under {data}", file=sys.stderr)
        return 2
    load = args.load or round(args.crop * 286 / 256)
    if load < args.crop:
        print(f"{name}: --load must be >= --crop", file=sys.stderr)
        return 2
    common = dict(data=str(data), out=str(out), crop=args.crop, load=load, batch=args.batch, steps=args.steps,
                  minutes=args.minutes, threads=args.threads, device=args.device, seed=args.seed)
    if args.task == "spade":
        if args.crop % 32:
            print(f"{name}: --crop must be a multiple of 32", file=sys.stderr)
            return 2
        cfg = tr.SpadeTrainConfig(ngf=args.ngf, spade_hidden=args.hidden, ndf=args.ndf, use_vae=not args.no_vae,
                                  num_up=args.num_up, padding=args.padding, encoder_layers=args.encoder_layers,
                                  init=args.init, **common)
        loop = tr.train_spade(cfg)
    elif args.no_views:
        loop = tr.train_segment(tr.SegmentTrainConfig(width=args.width, **common))
    else:
        from .segment_train import RobustSegmentConfig, train_robust_segment

        loop = train_robust_segment(RobustSegmentConfig(
            data=str(data), out=str(out), crop=args.crop, base=args.base or args.crop, width=args.width,
            levels=args.levels, batch=args.batch, steps=args.steps, minutes=args.minutes, init=args.init,
            seed=args.seed, threads=args.threads, device=args.device))
    try:
        for info in loop:
            print_progress(info)
    except (ValueError, FileNotFoundError) as exc:  # a foreign --out checkpoint, missing data
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    return 0


def _export_segment(ckpt: Path, dest: Path) -> Path:
    """A views checkpoint (it keeps an EMA) exports its EMA weights, the first trainer's its net."""
    import torch

    from . import train as tr

    if "ema" in torch.load(ckpt, map_location="cpu", weights_only=True):
        from .segment_train import export_robust_segment

        return export_robust_segment(ckpt, dest)
    return tr.export_segment(ckpt, dest)


def bench_main(args: argparse.Namespace) -> int:
    from ..bench import spade as bench
    from ..core.protocol import EngineError, Task
    from ..core import registry
    from .engine import installed_segmenter, register_models

    name = "ganstudio bench spade"
    data = data_folder(args.data, name, "../shared/data/facades/test")
    if data is None:
        return 2
    folders = None
    if args.weights:
        from ..paths import BUNDLED_WEIGHTS, user_data_dir

        folders = [BUNDLED_WEIGHTS, user_data_dir() / "models" / "synthesize", Path(args.weights)]
        register_models([Path(args.weights)])
    segmenter = installed_segmenter(folders)
    if segmenter is None:
        print(f"{name}: no facades segmentation model installed; train one with "
              "'ganstudio train segment' and export it with --export", file=sys.stderr)
        return 1
    installed = [i.id for i in registry.infos(Task.SYNTHESIZE) if not i.alias_of]
    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else installed
    if not models:
        print(f"{name}: no synthesis model installed; train one with 'ganstudio train spade' and "
              "export it with --export", file=sys.stderr)
        return 1
    grid = Path(args.json).with_suffix(".png") if args.json else None
    print(bench.HEADER, flush=True)
    try:
        rows = bench.run_bench(data, models, segmenter, limit=args.limit,
                               on_row=lambda r: print(bench.format_row(r), flush=True), grid=grid)
    except (EngineError, ValueError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    robust, robust_grid = _segment_robustness(bench, data, segmenter, args)
    if args.json:
        bench.write_json(rows, Path(args.json), {"grid": grid.name if grid else None, **robust,
                                                 "segment_grid": robust_grid.name if robust_grid else None})
        print(f"wrote {args.json}, {grid} and {robust_grid}")
    return 0


def _segment_robustness(bench, data: Path, segmenter, args) -> tuple[dict, Path | None]:
    """The segmentation net on the plain and transformed photos (issue 20), printed; the JSON part."""
    grid = Path(args.json).with_name(Path(args.json).stem + "-segment.png") if args.json else None
    print("\n" + bench.ROBUST_HEADER, flush=True)
    rows = bench.run_robustness(data, segmenter, model=segmenter.path.stem, limit=args.limit,
                                on_row=lambda r: print(bench.format_robust_row(r), flush=True), grid=grid)
    summary = bench.robustness_summary(rows)
    print(f"segmentation: plain mIoU {summary['miou_plain']:.4f}, transformed / plain: worst {summary['ratio_min']:.3f}, "
          f"mean {summary['ratio_mean']:.3f} (goal >= 0.85)", flush=True)
    return {"segment_robustness": [r.as_dict() for r in rows], "segment_robustness_summary": summary}, grid
