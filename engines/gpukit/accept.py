"""``ganstudio train accept DIR``: bench what a GPU run returned against the bundled defaults, on
the CPU with one thread, on held-out data only, and replace a bundled model only when it wins.

Per engine, a *headline* figure decides (higher is better) and a *speed goal* must hold:

| engine   | headline (held-out)                                    | speed goal (one CPU thread)        |
|----------|--------------------------------------------------------|------------------------------------|
| sr-x4/x2 | mean PSNR-Y over Set5, Set14, BSD100                   | x4: <= 0.5 s per Set5 image        |
| inpaint  | mean hole PSNR over BSDS500 val buckets, 256² and 512² | <= 1 s per 512² crop               |
| colorize | mean RGB PSNR over 0-100 hints on CBSD68               | full pass <= 1.1 s                 |
| spade    | mIoU of synthesized facades test photos (bundled segmenter as the judge) | <= 2.5 s per 256² map |
| segment  | mIoU on real facades test photos                       | (segmenting is fast; reported)     |
| igan     | hybrid projection PSNR on facades test                 | >= 10 projection steps/s           |

Both models are registered from staging copies (ids ``<id>-bundled`` / ``<id>-candidate``, never
``default``) and run through the same bench code as ``ganstudio bench <task>``. A winner's files
replace the bundled ones (same names), and its card records old vs new figures; a loser is
reported and nothing changes. A win needs at least :data:`MARGINS` of gain on the headline.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .loop import bundled_counterpart, card_markdown

GOALS = {"sr-x4": ("sr_seconds_set5", "<=", 0.5), "inpaint": ("seconds_512", "<=", 1.0),
         "colorize": ("full_seconds", "<=", 1.1), "spade": ("seconds_per_map", "<=", 2.5),
         "igan": ("projection_steps_per_s", ">=", 10.0)}
# the least gain that counts as a win: below it the difference is within the bench's noise (a
# 1-step dry model measured +0.002 dB colorize / +0.04 dB projection on 5 images)
MARGINS = {"sr-x4": 0.02, "sr-x2": 0.02, "inpaint": 0.05, "colorize": 0.05, "spade": 0.005, "segment": 0.005,
           "igan": 0.2}
WEIGHTS_DIR_LIMIT = 80 * 1000 * 1000
DATA_FLOOR = 14 * 1024 * 1024  # what a replacement must leave of the 64 MiB trip for the training data
FILE_LIMIT = 20 * 1000 * 1000


@dataclass
class Verdict:
    engine: str
    model_id: str
    old: dict[str, float] = field(default_factory=dict)
    new: dict[str, float] = field(default_factory=dict)
    headline: str = ""
    decision: str = ""
    replaced: bool = False

    def line(self) -> str:
        o, n = self.old.get(self.headline), self.new.get(self.headline)
        return f"{self.engine:<9} {self.model_id:<34} {self.headline:<22} {o!s:>9} -> {n!s:>9}  {self.decision}"


# ----------------------------------------------------------------------------- staging


def returned_exports(src: Path, work: Path) -> list[tuple[str, Path]]:
    """(engine, export folder) for every engine a run returned: ``src`` holds the ``.tar`` files
    (or already the run folders)."""
    work.mkdir(parents=True, exist_ok=True)
    for tar_path in sorted(Path(src).glob("*.tar")):
        with tarfile.open(tar_path) as tar:
            safe = [m for m in tar.getmembers() if m.isfile() and not m.name.startswith(("/", "..")) and ".." not in m.name]
            tar.extractall(work, members=safe)  # plain files with relative names only
    roots = [work] + ([Path(src)] if any(Path(src).glob("*/export")) else [])
    found = []
    for root in roots:
        for export in sorted(root.glob("*/export")):
            result = export.parent / "result.json"
            ok = True
            if result.is_file():
                ok = json.loads(result.read_text()).get("status") == "ok"
            if ok and any(export.glob("*.json")):
                found.append((export.parent.name, export))
    return found


def stage(card_path: Path, dest: Path, suffix: str) -> tuple[Path, dict[str, Any]]:
    """Copy a card and its weights to ``dest`` under ``<id>-<suffix>``, not a default."""
    card = json.loads(card_path.read_text(encoding="utf-8"))
    dest.mkdir(parents=True, exist_ok=True)
    stem = f"{card['id']}-{suffix}"
    new = dict(card, id=stem, default=False, file=f"{stem}.safetensors")
    shutil.copy2(card_path.parent / card["file"], dest / new["file"])
    if card.get("encoder"):
        new["encoder"] = f"{stem}.encoder.safetensors"
        shutil.copy2(card_path.parent / card["encoder"], dest / new["encoder"])
    (dest / f"{stem}.json").write_text(json.dumps(new, indent=2))
    return dest / f"{stem}.json", new


# ----------------------------------------------------------------------------- judges


def _register(task_module: str, folder: Path) -> list[str]:
    import importlib

    return importlib.import_module(task_module).register_models([folder])


def judge_sr(scale: int, old: Path, new: Path, data: Path, limit: int) -> tuple[dict, dict]:
    from ..bench import sr as bench

    out = []
    for folder in (old, new):
        ids = [i for i in _register("engines.sr.engine", folder) if i != "default"]
        rows = [r for r in bench.run_bench(data / "sr", ids, [scale], list(bench.DATASETS), limit=limit)
                if r.model in ids]  # the bench adds a ground-truth reference row
        figs = {f"psnr_y_{r.dataset}": round(r.psnr_y, 3) for r in rows}
        figs["psnr_y_mean"] = round(float(np.mean([r.psnr_y for r in rows])), 3)
        set5 = [r.seconds for r in rows if r.dataset == "Set5"]
        figs["sr_seconds_set5"] = round(float(set5[0]), 4) if set5 else float("nan")
        out.append(figs)
    return out[0], out[1]


def judge_inpaint(old: Path, new: Path, data: Path, limit: int) -> tuple[dict, dict]:
    from ..bench import inpaint as bench

    out = []
    for folder in (old, new):
        ids = [i for i in _register("engines.inpaint.engine", folder) if i != "default"]
        rows = bench.run_bench(data / "photos" / "bsds500" / "val", ids, limit=limit, limit_512=max(1, limit // 2))
        figs = {f"psnr_hole_{r.size}_{r.bucket}": r.psnr_hole for r in rows}
        figs["psnr_hole_mean"] = round(float(np.mean([r.psnr_hole for r in rows])), 3)
        figs["seconds_512"] = round(float(np.mean([r.seconds for r in rows if r.size == 512])), 4)
        out.append(figs)
    return out[0], out[1]


def judge_colorize(old: Path, new: Path, data: Path, limit: int) -> tuple[dict, dict]:
    from ..bench import colorize as bench

    images = bench.load_set(data / "color" / "CBSD68", limit)
    out = []
    for folder in (old, new):
        ids = [i for i in _register("engines.colorize.engine", folder) if i != "default"]
        rows = bench.run_bench(images, ids, "CBSD68")
        figs = {f"psnr_{r.hints}_hints": r.psnr_rgb for r in rows}
        figs["psnr_mean"] = round(float(np.mean([r.psnr_rgb for r in rows])), 3)
        figs["full_seconds"] = bench.timing(ids[0], images[0])["full_seconds"]
        out.append(figs)
    return out[0], out[1]


def _bundled_segmenter(weights: Path):
    from ..spade.engine import installed_segmenter

    return installed_segmenter([weights])


def judge_spade(old: Path, new: Path, data: Path, limit: int, weights: Path) -> tuple[dict, dict]:
    from ..bench import spade as bench

    judge = _bundled_segmenter(weights)
    if judge is None:
        raise RuntimeError("no bundled facades segmenter to judge the synthesis with")
    out = []
    for folder in (old, new):
        ids = [i for i in _register("engines.spade.engine", folder) if i != "default"]
        rows = bench.run_bench(data / "facades" / "test", ids, judge, limit=limit)
        out.append({"miou_synth": rows[0].miou_synth, "miou_ratio": rows[0].miou_ratio,
                    "seconds_per_map": rows[0].seconds})
    return out[0], out[1]


def judge_segment(old: Path, new: Path, data: Path, limit: int) -> tuple[dict, dict]:
    from ..bench.spade import N_CLASSES, confusion, miou, pixel_accuracy
    from ..spade.engine import installed_segmenter
    from ..spade.facades import load_split

    pairs = load_split(data / "facades" / "test", limit)
    out = []
    for folder in (old, new):
        seg = installed_segmenter([folder])
        conf = np.zeros((N_CLASSES, N_CLASSES), np.int64)
        secs = []
        for p in pairs:
            labels, s = seg(p.photo.astype(np.float32) / 255.0)
            conf += confusion(labels, p.labels)
            secs.append(s)
        out.append({"miou_real": round(miou(conf), 4), "pixel_acc_real": round(pixel_accuracy(conf), 4),
                    "seconds": round(float(np.median(secs)), 4)})
    return out[0], out[1]


def judge_igan(old: Path, new: Path, data: Path, limit: int) -> tuple[dict, dict]:
    from ..bench import igan as bench

    photos = bench.load_photos(data / "facades" / "test", limit)
    out = []
    for folder in (old, new):
        ids = [i for i in _register("engines.latent.engine", folder) if i != "default"]
        engine = bench.resolve_engine(ids[0])
        rows = bench.projection_rows(engine, ids[0], photos)
        figs = {f"projection_psnr_{r['method']}": r["psnr"] for r in rows}
        speed = bench.speed_rows(engine, ids[0], batches=(1,))
        figs["projection_steps_per_s"] = speed[0]["steps_per_second"]
        out.append(figs)
    return out[0], out[1]


HEADLINES = {"sr-x4": "psnr_y_mean", "sr-x2": "psnr_y_mean", "inpaint": "psnr_hole_mean", "colorize": "psnr_mean",
             "spade": "miou_synth", "segment": "miou_real", "igan": "projection_psnr_hybrid"}
BENCH_TEXT = {
    "sr-x4": "Set5 + Set14 + BSD100 x4 (PSNR-Y, border 4)", "sr-x2": "Set5 + Set14 + BSD100 x2 (PSNR-Y, border 2)",
    "inpaint": "BSDS500 val centre crops, 256² and 512², hole-ratio buckets 1-60 %",
    "colorize": "CBSD68 at 256², 0-100 hints from the true colours",
    "spade": "facades test, mIoU of the bundled segmenter on synthesized photos",
    "segment": "facades test, mIoU on the real photos", "igan": "facades test, projection at 64 px (40 steps)"}


def _judge(engine: str, old: Path, new: Path, data: Path, limit: int, weights: Path) -> tuple[dict, dict]:
    if engine in ("sr-x4", "sr-x2"):
        return judge_sr(4 if engine == "sr-x4" else 2, old, new, data, limit)
    if engine == "spade":
        return judge_spade(old, new, data, limit, weights)
    table: dict[str, Callable] = {"inpaint": judge_inpaint, "colorize": judge_colorize, "segment": judge_segment,
                                  "igan": judge_igan}
    return table[engine](old, new, data, limit)


def _meets_goal(engine: str, figs: dict) -> tuple[bool, str]:
    if engine not in GOALS:
        return True, ""
    key, op, bound = GOALS[engine]
    value = figs.get(key, float("nan"))
    ok = value <= bound if op == "<=" else value >= bound
    return bool(ok), f"{key} {value} (goal {op} {bound})"


# ----------------------------------------------------------------------------- accept


def accept(src: Path, data: Path, weights: Path, limit: int = 20, replace: bool = True,
           on_line: Callable[[str], None] = print) -> list[Verdict]:
    """Judge every returned model; replace the winners in ``weights``. Returns the verdicts."""
    import torch

    torch.set_num_threads(1)  # the speed goals are one-thread figures
    from ..core import registry

    verdicts = []
    with tempfile.TemporaryDirectory(prefix="ganstudio-accept-") as tmp:
        tmp = Path(tmp)
        for engine, export in returned_exports(Path(src), tmp / "returned"):
            for card_path in sorted(export.glob("*.json")):
                card = json.loads(card_path.read_text(encoding="utf-8"))
                scale = int(card.get("scale", 0)) if card.get("task") == "upscale" else None
                bundled_card = bundled_counterpart(weights, str(card.get("task")), str(card.get("arch")), scale)
                v = Verdict(engine, str(card.get("id", card_path.stem)), headline=HEADLINES[engine])
                if bundled_card is None:
                    v.decision = f"no bundled {card.get('task')} / {card.get('arch')} model to compare with: not bundled"
                    verdicts.append(v)
                    on_line(v.line())
                    continue
                old_dir, new_dir = tmp / "stage" / engine / "old", tmp / "stage" / engine / "new"
                stage(bundled_card, old_dir, "bundled")
                stage(card_path, new_dir, "candidate")
                try:
                    v.old, v.new = _judge(engine, old_dir, new_dir, data, limit, weights)
                except Exception as exc:  # noqa: BLE001 - a candidate that cannot be benched loses
                    v.decision = f"not bundled: the bench failed ({type(exc).__name__}: {exc})"
                    verdicts.append(v)
                    on_line(v.line())
                    continue
                finally:
                    for folder in (old_dir, new_dir):  # the staging ids leave the registry again
                        for f in folder.glob("*.json"):
                            _forget(registry, f)
                fast, speed = _meets_goal(engine, v.new)
                better = v.new.get(v.headline, float("-inf")) >= v.old.get(v.headline, float("inf")) + MARGINS[engine]
                room = _room_problem(card_path, card, bundled_card, weights) if better and fast else None
                if room:
                    v.decision = f"wins, but {room}: not bundled"
                elif better and fast:
                    v.decision = "wins: " + ("replaced the bundled model" if replace else "would replace (--no-replace)")
                    if replace:
                        _replace(card_path, card, bundled_card, weights, v, limit)
                        v.replaced = True
                elif not better:
                    v.decision = f"does not beat the bundled model by {MARGINS[engine]} on {v.headline}: not bundled"
                else:
                    v.decision = f"too slow ({speed}): not bundled"
                verdicts.append(v)
                on_line(v.line())
    return verdicts


def _forget(registry, card_json: Path) -> None:
    """Take a staged model out of the registry again (ids as the engines derive them from a card)."""
    data = json.loads(card_json.read_text())
    for task in ("upscale", "inpaint", "colorize", "synthesize", "latent"):
        for mid in (data["id"], f"pconv-{data['id']}", f"spade-{data['id']}"):
            registry.unregister(task, mid)


def _files_of(card_path: Path) -> list[str]:
    """The files a card stands for: weights (+ encoder, samples), the card and its Markdown twin."""
    card = json.loads(card_path.read_text(encoding="utf-8"))
    names = [card["file"], card_path.name, card.get("card") or Path(card["file"]).with_suffix(".md").name]
    names += [card[k] for k in ("encoder", "samples") if card.get(k)]
    return [n for n in dict.fromkeys(names) if (card_path.parent / n).is_file()]


def _room_problem(card_path: Path, card: dict, bundled_card: Path, weights: Path) -> str | None:
    """Why the winner cannot be bundled (file or folder size limits, or the device trip), or None."""
    from .travel import LIMIT, TravelError, tree_bytes

    export = card_path.parent
    names = [card["file"]] + ([card["encoder"]] if card.get("encoder") else [])
    for n in names:
        if (export / n).stat().st_size > FILE_LIMIT:
            return f"{n} is {(export / n).stat().st_size} bytes, over the {FILE_LIMIT}-byte limit of a bundled file"
    leaving = set(_files_of(bundled_card))
    old_total = sum(p.stat().st_size for p in weights.iterdir() if p.is_file())
    new_total = sum(p.stat().st_size for p in weights.iterdir() if p.is_file() and p.name not in leaving | set(names))
    new_total += sum((export / n).stat().st_size for n in names)
    if new_total > WEIGHTS_DIR_LIMIT:
        return f"the bundled weights would be {new_total} bytes, over {WEIGHTS_DIR_LIMIT}"
    try:
        tree = tree_bytes()
    except TravelError:
        return None
    if new_total > old_total and tree + (new_total - old_total) + DATA_FLOOR > LIMIT:
        return (f"it adds {new_total - old_total} bytes and the repository would leave less than "
                f"{DATA_FLOOR // 2**20} MiB of the device's 64 MiB for the training data")
    return None


def _replace(card_path: Path, card: dict, bundled_card: Path, weights: Path, v: Verdict, limit: int) -> None:
    """Bundle the winner: its weights and cards in, the bundled counterpart's files out (when they
    have other names), the default flag carried over, the old card kept at the end of the new one."""
    from ..atomic import atomic_write_bytes

    export = card_path.parent
    old = json.loads(bundled_card.read_text(encoding="utf-8"))
    names = [card["file"]] + ([card["encoder"]] if card.get("encoder") else [])
    leaving = set(_files_of(bundled_card))
    old_md = bundled_card.parent / (old.get("card") or Path(old["file"]).with_suffix(".md").name)
    previous = old_md.read_text(encoding="utf-8") if old_md.is_file() else ""
    md_name = Path(card["file"]).with_suffix(".md").name
    figures = {k: (v.old.get(k), v.new.get(k)) for k in dict.fromkeys(list(v.old) + list(v.new))}
    card = dict(card, card=md_name, accept={
        "bench": BENCH_TEXT[v.engine] + (f", at most {limit} images per set" if limit else ""),
        "headline": v.headline, "figures": figures, "decision": v.decision, "threads": 1,
        "replaced": old.get("id", bundled_card.stem)})
    if "default" in old:
        card["default"] = old["default"]
    md = card_markdown(card)
    if previous:
        md += "\n## The card of the weights this replaced\n\n" + previous.replace("\n#", "\n###")
    for n in leaving - set(names) - {card_path.name, md_name}:
        (weights / n).unlink()
    for n in names:
        shutil.copy2(export / n, weights / n)
    atomic_write_bytes(weights / card_path.name, (json.dumps(card, indent=2) + "\n").encode())
    atomic_write_bytes(weights / md_name, md.encode())
