"""``ganstudio train inpaint`` and ``ganstudio bench inpaint`` (wired into :mod:`engines.cli`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..cli_output import print_progress


def add_train_parser(tsub) -> None:
    t = tsub.add_parser("inpaint", help="PConv U-Net on BSDS500 train+test + facades photos")
    t.add_argument("--data", help="the shared data folder (default ../shared/data)")
    t.add_argument("--out", default="runs/inpaint", help="checkpoints and log (resumes from out/last.pt)")
    t.add_argument("--base", type=int, default=24, help="width of the first level (paper: 64)")
    t.add_argument("--layers", type=int, default=7, help="U-Net levels (paper: 7 or 8)")
    t.add_argument("--crop", type=int, default=256)
    t.add_argument("--batch", type=int, default=4)
    t.add_argument("--steps", type=int, default=20000)
    t.add_argument("--minutes", type=float, default=0.0, help="wall-time budget (schedule follows it)")
    t.add_argument("--lr", type=float, default=2e-4)
    t.add_argument("--adv", type=float, default=0.0, help="PatchGAN hinge weight (0 = off)")
    t.add_argument("--fm", type=float, default=0.0, help="discriminator feature-matching weight")
    t.add_argument("--init", default="", help="start a new run from this checkpoint's weights (fresh optimiser "
                                              "and schedule), e.g. runs/inpaint/last.pt")
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--export", help="write fp16 .safetensors of out/last.pt here and stop")


def train_main(args: argparse.Namespace) -> int:
    from ..train_data import default_data_root
    from .train import InpaintTrainConfig, export, train

    out = Path(args.out)
    if args.export:
        if not (out / "last.pt").is_file():
            print(f"ganstudio train inpaint: no checkpoint at {out / 'last.pt'}", file=sys.stderr)
            return 2
        print(f"wrote {export(out / 'last.pt', Path(args.export))}")
        return 0
    data = Path(args.data) if args.data else default_data_root()
    if not (data / "photos" / "bsds500" / "train").is_dir():
        print(f"ganstudio train inpaint: no photos/bsds500/train under {data}", file=sys.stderr)
        return 2
    cfg = InpaintTrainConfig(data=str(data), out=str(out), base=args.base, layers=args.layers,
                             crop=args.crop, batch=args.batch, steps=args.steps,
                             max_minutes=args.minutes, lr=args.lr, adv_weight=args.adv,
                             fm_weight=args.fm, threads=args.threads, seed=args.seed, init=args.init,
                             device=getattr(args, "device", "cpu"))
    if cfg.init and not Path(cfg.init).is_file():
        print(f"ganstudio train inpaint: --init checkpoint not found: {cfg.init}", file=sys.stderr)
        return 2
    try:
        for info in train(cfg):
            print_progress(info)
    except ValueError as exc:
        print(f"ganstudio train inpaint: {exc}", file=sys.stderr)
        return 2
    return 0


def bench_main(args: argparse.Namespace) -> int:
    """``ganstudio bench inpaint --data DIR --json OUT [--models a,b] [--limit N] [--limit-512 N]``."""
    from ..bench import inpaint as bench
    from ..core.protocol import EngineError
    from ..train_data import default_data_root

    data = Path(args.data) if args.data else default_data_root() / "photos" / "bsds500" / "val"
    if not bench.photos(data):
        print(f"ganstudio bench inpaint: no photos in {data}", file=sys.stderr)
        return 2
    models = [m.strip() for m in (args.models or ",".join(default_models())).split(",") if m.strip()]
    grid_cases: dict[tuple[int, int], dict[str, Any]] = {}
    grid_bucket, grid_images = 3, (0, 1, 2, 3, 4, 5)

    def keep(size: int, image: int, bucket: int, model: str, output) -> None:
        if size == bench.SIZES[0] and bucket == grid_bucket and image in grid_images:
            grid_cases.setdefault((image, bucket), {})[model] = output

    print(bench.HEADER)
    try:
        rows = bench.run_bench(data, models, limit=args.limit, limit_512=args.limit_512,
                               on_row=lambda r: print(bench.format_row(r), flush=True), keep=keep)
    except EngineError as exc:
        print(f"ganstudio bench inpaint: {exc}", file=sys.stderr)
        return 1
    extra: dict[str, Any] = {"data": str(data), "limit": args.limit, "limit_512": args.limit_512}
    if args.merge:
        previous = json.loads(Path(args.merge).read_text(encoding="utf-8"))
        if (previous.get("limit"), previous.get("limit_512")) != (args.limit, args.limit_512):
            print("ganstudio bench inpaint: --merge JSON used other limits; not merged", file=sys.stderr)
            return 2
        kept = [bench.Row(**r) for r in previous["rows"] if r["model"] not in models]
        rows = kept + rows
        extra["merged_from"] = str(args.merge)
    if args.json:
        out = Path(args.json)
        bench.write_json(rows, out, extra)
        print(f"wrote {out}")
        _write_grid(bench, data, out, grid_cases, grid_bucket, models)
    return 0


def default_models() -> list[str]:
    """The default Fill, the network it is guided by (the bundled PConv) and the classical anchors."""
    from ..core import registry
    from ..core.protocol import EngineError, Task

    models = ["default"]
    try:
        guide = getattr(registry.get(Task.INPAINT, "default"), "guide_id", "")
    except EngineError:
        guide = ""
    models += [guide] if guide else []
    known = {i.id for i in registry.infos(Task.INPAINT)}
    return models + [m for m in ("telea", "ns", "fsr") if m in known]


def _write_grid(bench, data: Path, out: Path, cases: dict, bucket: int, models: list[str]) -> None:
    """masked input | Telea | FSR | PConv | default (texture fill) | truth, for a few 256 crops of
    the grid bucket.

    Methods not run by this invocation (their rows came from ``--merge``) are run here for these
    few crops only, so the figure always shows all three.
    """
    import numpy as np

    from ..core.device import make_context
    from ..core.protocol import EngineError, InpaintRequest, drive
    from ..imageio import load_image

    shown = []
    pconv = next((m for m in default_models()[1:2] if m.startswith("pconv-")), "")
    order = ["telea", "fsr"] + ([pconv] if pconv else []) + ["default"]
    for m in order + [m for m in models if m not in order and m != "ns"]:
        try:
            bench.resolve(m)
            shown.append(m)
        except EngineError:  # e.g. no default network installed: the figure shows the others
            pass
    files = bench.photos(data)
    rows = []
    for (image, b), outputs in sorted(cases.items()):
        truth = bench.centre_crop(load_image(files[image]).rgb, bench.SIZES[0])
        mask = bench.case_mask(bench.SIZES[0], image, b)
        for m in shown:
            if m not in outputs:
                given = (truth * (mask <= 0.5)[..., None]).astype(np.float32)
                req = InpaintRequest(image=given, mask=mask)
                engine = bench.resolve(m)
                outputs[m] = drive(engine.run(req, make_context(engine.info))).image
        rows.append((truth, mask, [outputs[m] for m in shown]))
    if rows:
        path = out.with_name(out.stem + "_grid.png")
        labels = ["masked", *[("texture (default)" if m == "default" else "pconv" if m == pconv else m)
                              for m in shown], "truth"]
        bench.grid_png(path, rows, labels)
        print(f"wrote {path}")
