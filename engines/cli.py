"""Headless commands (no Qt): ``ganstudio batch|models|train|bench <task>``.

Exit codes: 0 done, 1 some work failed, 2 bad usage.

Implemented here: ``bench sr``, ``models import-ncnn`` and ``models list|download|import|verify|remove``
(in ``engines/models/cli.py``), ``batch`` (``engines/batch/cli.py``) and ``bench batch``; the rest report
"not available".
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from .cli_device import add_device_argument, apply_device, report
from .cli_output import data_folder, print_progress


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ganstudio")
    sub = p.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="print quality and speed figures")
    bench.add_argument("task", help="canvas (needs Qt), sr, inpaint, colorize, spade, igan, batch, fuzz")
    bench.add_argument("--data", help="dataset folder")
    bench.add_argument("--json", help="write the rows as JSON here")
    bench.add_argument("--models", help="comma-separated model ids")
    bench.add_argument("--scale", help="sr: comma-separated scales (default 2,4); fuzz: times the mutations (default 1)")
    bench.add_argument("--datasets", help="sr: comma-separated sets (default Set5,Set14,BSD100)")
    bench.add_argument("--limit", type=int, default=0, help="at most this many images per set")
    bench.add_argument("--weights", help="sr, igan: also register the model cards in this folder")
    bench.add_argument("--tile", type=int, help="sr-tiling: tile edge (default 128); sr-memory: (default auto)")
    bench.add_argument("--size", type=int, default=512, help="sr-tiling: test image edge")
    bench.add_argument("--overlaps", help="sr-tiling: comma-separated overlaps (0 = the engine's)")
    bench.add_argument("--image-size", help="sr-memory: WIDTHxHEIGHT of the input (default 6000x4000)")
    bench.add_argument("--limit-512", type=int, default=0, help="inpaint: at most this many 512 crops")
    bench.add_argument("--merge", help="inpaint: keep rows of other models from this earlier JSON")
    bench.add_argument("--cluster", help="batch: also on Ray actors (ray = a local instance)")
    bench.add_argument("--workers", help="batch --cluster: comma-separated worker counts (default 1,2)")
    add_device_argument(bench)
    models = sub.add_parser("models", help="list, download, import, verify, remove models")
    msub = models.add_subparsers(dest="action", required=True)
    from .models.cli import add_arguments as _add_models_arguments

    _add_models_arguments(msub)  # list, download, import, verify, remove
    imp = msub.add_parser("import-ncnn", help="convert ncnn .param/.bin SR models to .safetensors")
    imp.add_argument("src", help="folder with .param + .bin pairs")
    imp.add_argument("--out", help="output folder (default: the user's models/sr folder)")
    imp.add_argument("--fp32", action="store_true", help="keep float32 (default: fp16)")
    from .batch.cli import add_arguments as _add_batch_arguments

    batch = sub.add_parser("batch", help="process a folder (resumable)")
    _add_batch_arguments(batch)
    add_device_argument(batch)
    train = sub.add_parser("train", help="train an engine's weights")
    tsub = train.add_subparsers(dest="task", required=True)
    _add_train_sr(tsub)
    from .inpaint.cli import add_train_parser as _add_train_inpaint

    _add_train_inpaint(tsub)
    from .colorize.cli import add_train_parser as _add_train_colorize

    _add_train_colorize(tsub)
    from .spade.cli import add_train_parsers as _add_train_spade

    _add_train_spade(tsub)  # spade, segment
    from .latent.cli import add_train_parser as _add_train_igan

    _add_train_igan(tsub)
    from .gpukit.cli import add_train_parsers as _add_train_kit

    _add_train_kit(tsub)  # pack, all, accept: the GPU training kit
    for name, parser in tsub.choices.items():
        if name != "pack":  # pack only copies files; spade, segment, igan, all keep their own default
            add_device_argument(parser)
    return p


def _add_train_sr(tsub) -> None:
    t = tsub.add_parser("sr", help="PSNR-oriented SRVGGNetCompact on BSDS500 train+test")
    t.add_argument("--data", help="the shared data folder (default ../shared/data)")
    t.add_argument("--out", default="runs/sr", help="checkpoints and log (resumes from out/last.pt)")
    t.add_argument("--scale", type=int, default=4)
    t.add_argument("--feat", type=int, default=48)
    t.add_argument("--convs", type=int, default=12)
    t.add_argument("--steps", type=int, default=20000)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--patch", type=int, default=32, help="LR crop side")
    t.add_argument("--lr", type=float, default=5e-4)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--eval", default="", help="monitor PSNR-Y on this <set>/x<scale> folder")
    t.add_argument("--export", help="write fp16 .safetensors of out/last.pt here and stop")
    t.add_argument("--init", default="", help="start from this checkpoint where shapes match")


def _train_sr(args: argparse.Namespace) -> int:
    from .sr.train import SRTrainConfig, export, train
    from .train_data import default_data_root

    out = Path(args.out)
    if args.export:
        if not (out / "last.pt").is_file():
            print(f"ganstudio train sr: no checkpoint at {out / 'last.pt'}", file=sys.stderr)
            return 2
        print(f"wrote {export(out / 'last.pt', Path(args.export))}")
        return 0
    data = Path(args.data) if args.data else default_data_root()
    if not (data / "photos" / "bsds500" / "train").is_dir():
        print(f"ganstudio train sr: no photos/bsds500/train under {data}", file=sys.stderr)
        return 2
    cfg = SRTrainConfig(data=str(data), out=str(out), scale=args.scale, num_feat=args.feat,
                        num_conv=args.convs, steps=args.steps, batch=args.batch, lr_patch=args.patch,
                        lr=args.lr, threads=args.threads, eval_dir=args.eval,
                        init=args.init, device=getattr(args, "device", "cpu"))
    for info in train(cfg):
        print_progress(info)
    return 0


def _ints(text: str | None, default: list[int]) -> list[int]:
    if not text:
        return default
    return [int(t) for t in text.split(",") if t.strip()]


def _names(text: str | None, default: list[str]) -> list[str]:
    if not text:
        return default
    return [t.strip() for t in text.split(",") if t.strip()]


def _bench_sr(args: argparse.Namespace) -> int:
    from .bench import sr as bench_sr
    from .core.protocol import EngineError

    data = data_folder(args.data, "ganstudio bench sr", "../shared/data/sr")
    if data is None:
        return 2
    try:
        scales = _ints(args.scale, [2, 4])
    except ValueError:
        print(f"ganstudio bench sr: bad --scale '{args.scale}'", file=sys.stderr)
        return 2
    if args.weights:
        from .sr.engine import register_models

        register_models([Path(args.weights)])
    models = _names(args.models, ["bicubic", "lanczos", "default"])
    datasets = _names(args.datasets, list(bench_sr.DATASETS))
    print(bench_sr.HEADER, flush=True)
    try:
        rows = bench_sr.run_bench(data, models, scales, datasets, limit=args.limit,
                                  on_row=lambda r: print(bench_sr.format_row(r), flush=True))
    except EngineError as exc:
        print(f"ganstudio bench sr: {exc}", file=sys.stderr)
        return 1
    if not rows:
        print(f"ganstudio bench sr: no <Set>/x<scale>/LR+HR images under {data}", file=sys.stderr)
        return 1
    if args.json:
        bench_sr.write_json(rows, Path(args.json))
        print(f"wrote {args.json}")
    return 0


def _bench_sr_memory(args: argparse.Namespace) -> int:
    """``bench sr-memory --models default --image-size 6000x4000``: peak RSS of one big upscale."""
    import json

    from .bench.sr import resolve_engine
    from .bench.sr_memory import measure
    from .core.protocol import EngineError

    try:
        width, height = (int(v) for v in (args.image_size or "6000x4000").lower().split("x"))
        rows = []
        for model in _names(args.models, ["default"]):
            row = measure(resolve_engine(model, 4, Path(args.data or ".")), width, height,
                          scale=_ints(args.scale, [4])[0], tile=args.tile or 0)
            print(json.dumps(row), flush=True)
            rows.append(row)
    except (EngineError, ValueError) as exc:
        print(f"ganstudio bench sr-memory: {exc}", file=sys.stderr)
        return 1
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"task": "sr-memory", "rows": rows}, indent=2))
    return 0


def _bench_sr_grid(args: argparse.Namespace) -> int:
    """``bench sr-grid --data DIR --datasets Set14 --models a,b --json OUT.png``: a crop grid PNG."""
    from .bench.sr_grid import sr_grid
    from .core.protocol import EngineError

    if not args.data or not Path(args.data).is_dir():
        print("ganstudio bench sr-grid: --data DIR (the sr benchmark folder) is required", file=sys.stderr)
        return 2
    out = Path(args.json or "bench/out/sr_grid.png").with_suffix(".png")
    try:
        for scale in _ints(args.scale, [4]):
            dataset = _names(args.datasets, ["Set14"])[0]
            path = sr_grid(Path(args.data), dataset, _names(args.models, ["bicubic", "default"]),
                           out.with_name(f"{out.stem}_{dataset}_x{scale}.png"), scale=scale,
                           limit=args.limit or 4)
            print(f"wrote {path}")
    except EngineError as exc:
        print(f"ganstudio bench sr-grid: {exc}", file=sys.stderr)
        return 1
    return 0


def _bench_sr_tiling(args: argparse.Namespace) -> int:
    from .bench import sr_tiling
    from .bench.sr import resolve_engine
    from .core.protocol import EngineError

    if args.weights:
        from .sr.engine import register_models

        register_models([Path(args.weights)])
    image = sr_tiling.sample_crop(args.size)
    rows = []
    print(sr_tiling.HEADER, flush=True)
    try:
        overlaps = _ints(args.overlaps, [0])
        for model in _names(args.models, ["default"]):
            engine = resolve_engine(model, 4, Path(args.data or "."))
            for row in sr_tiling.measure(engine, model, image, args.tile or 128, overlaps):
                print(sr_tiling.format_row(row), flush=True)
                rows.append(row)
    except (EngineError, ValueError) as exc:
        print(f"ganstudio bench sr-tiling: {exc}", file=sys.stderr)
        return 1
    if args.json:
        sr_tiling.write_json(rows, Path(args.json))
        print(f"wrote {args.json}")
    return 0


def _models(args: argparse.Namespace) -> int:
    from .core.protocol import EngineError

    from .models import cli as models_cli

    if args.action in models_cli.ACTIONS:
        return models_cli.run(args)
    from .paths import user_data_dir
    from .sr.ncnn import import_folder

    src = Path(args.src)
    if not src.is_dir():
        print(f"ganstudio models import-ncnn: not a folder: {src}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else user_data_dir() / "models" / "sr"
    try:
        written = import_folder(src, out, half=not args.fp32)
    except EngineError as exc:
        print(f"ganstudio models import-ncnn: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


# (command, task) -> "module:function" taking the parsed args; imported only when used, so that
# `ganstudio bench sr` never imports the SPADE code (and nothing here imports torch up front)
_HANDLERS = {
    ("batch", ""): ".batch.cli:main",
    ("bench", "batch"): ".bench.batch:main",
    ("bench", "fuzz"): ".bench.fuzz:main",
    ("train", "inpaint"): ".inpaint.cli:train_main",
    ("bench", "inpaint"): ".inpaint.cli:bench_main",
    ("train", "colorize"): ".colorize.cli:train_main",
    ("bench", "colorize"): ".colorize.cli:bench_main",
    ("train", "spade"): ".spade.cli:train_main",
    ("train", "segment"): ".spade.cli:train_main",
    ("bench", "spade"): ".spade.cli:bench_main",
    ("train", "igan"): ".latent.cli:train_main",
    ("bench", "igan"): ".latent.cli:bench_main",
    ("train", "pack"): ".gpukit.cli:pack_main",
    ("train", "all"): ".gpukit.cli:all_main",
    ("train", "accept"): ".gpukit.cli:accept_main",
}


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on bad usage: keep it a return code
        return int(exc.code or 0) if exc.code in (0, None) else 2
    key = (args.command, args.task if args.command in ("train", "bench") else "")
    command = " ".join(["ganstudio", *filter(None, key)])
    problem = apply_device(args, command)
    if problem is not None:  # unknown or unavailable device: one line, exit 2, before any work
        return report(problem)
    local = {("bench", "sr"): _bench_sr, ("bench", "sr-tiling"): _bench_sr_tiling,
             ("bench", "sr-grid"): _bench_sr_grid, ("bench", "sr-memory"): _bench_sr_memory,
             ("train", "sr"): _train_sr, ("models", ""): _models}
    if key in local:
        return local[key](args)
    handler = _HANDLERS.get(key)
    if handler is not None:
        module, name = handler.split(":")
        return getattr(importlib.import_module(module, __package__), name)(args)
    command = args.command if args.command != "bench" else f"bench {args.task}"
    print(f"ganstudio: '{command}' is not available in this version yet", file=sys.stderr)
    return 2


if __name__ == "__main__":  # python -m engines.cli ...
    sys.exit(main())
