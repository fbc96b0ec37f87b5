"""Model card of a trained PConv U-Net: the ``.json`` the engine registers from, plus figures.

:func:`write_card` reads the run folder (``config.json``, ``log.jsonl``, ``last.pt``) and, when given,
a ``ganstudio bench inpaint`` JSON, and writes ``<dest>.json`` beside the ``.safetensors``. The
human-readable ``.md`` card is written by hand from the same figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PAPER_BASE = 64  # Liu et al.'s first-level width


def training_facts(run: Path) -> dict[str, Any]:
    import torch

    cfg = json.loads((run / "config.json").read_text(encoding="utf-8"))
    state = torch.load(run / "last.pt", map_location="cpu", weights_only=True)
    logs = [json.loads(line) for line in (run / "log.jsonl").read_text(encoding="utf-8").splitlines() if line]
    done = [r for r in logs if r.get("done")]
    return {"steps": int(state["step"]), "wall_time_s": round(float(state.get("elapsed", 0.0)), 1),
            "finetune_from_step": next((r["step"] for r in logs if r.get("finetune")), None),
            "finished": bool(done), "config": cfg}


def bench_summary(bench_json: Path, model: str = "default") -> dict[str, Any]:
    """Per (size, bucket): PSNR hole / whole of ``model``, Telea and NS, from a bench JSON."""
    rows = json.loads(Path(bench_json).read_text(encoding="utf-8"))["rows"]
    out: dict[str, Any] = {}
    for r in rows:
        key = f"{r['size']} {r['bucket']}"
        name = "pconv" if r["model"] == model else r["model"]
        out.setdefault(key, {})[name] = {"psnr_hole": r["psnr_hole"], "psnr": r["psnr"], "ssim": r["ssim"],
                                         "l1_hole": r["l1_hole"], "seconds": r["seconds"], "images": r["images"]}
    return out


def write_card(dest: Path, run: Path, card_id: str, title: str, command: str,
               bench_json: Path | None = None, default: bool = True) -> Path:
    from ..weights import load_model

    facts = training_facts(run)
    loaded = load_model(dest)
    hp = loaded.hparams
    size_bytes = dest.stat().st_size
    narrower = PAPER_BASE // int(hp["base"])
    card: dict[str, Any] = {
        "id": card_id, "file": dest.name, "title": title, "task": "inpaint", "default": default,
        "arch": loaded.arch.name, "hparams": hp, "size_multiple": 2 ** int(hp["layers"]),
        "input_convention": "RGB (2x - 1) in [-1, 1] multiplied by the valid mask; mask N x 1, 1 = valid",
        "width_reduction": f"first-level width {hp['base']} instead of the paper's {PAPER_BASE} "
                           f"({narrower}x narrower at every level, ~{narrower ** 2}x fewer weights)",
        "license": "GAN Studio project weights (trained here on BSDS500 + CMP facades photos; research-use data)",
        "data": "BSDS500 train + test (400 photos) and CMP facades train photo halves (400); "
                "held out: BSDS500 val, CBSD68, Kodak24, facades test",
        "command": command, "file_bytes": size_bytes, "dtype": "float16",
        "card": dest.with_suffix(".md").name, **{k: v for k, v in facts.items() if k != "config"},
        "train_config": facts["config"],
        "description": (f"PConv U-Net (Liu et al. 2018), {hp['layers']} levels, width {hp['base']} "
                        f"(paper {PAPER_BASE}), trained here on the CPU for {facts['steps']} steps; "
                        "L1 hole/valid + TV losses (no VGG terms, no adversarial term in this run)."),
    }
    if bench_json is not None:
        card["metrics"] = bench_summary(bench_json)
        card["metrics_source"] = str(bench_json)
    path = dest.with_suffix(".json")
    path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return path


def metrics_table(metrics: dict[str, Any], size: int) -> str:
    """Markdown rows: bucket | PConv / Telea / NS hole PSNR | PConv - Telea | whole-image PSNR | SSIM."""
    lines = ["| bucket | PConv PSNR hole | Telea | NS | PConv − Telea | PConv PSNR image | Telea | NS "
             "| PConv SSIM image | Telea | NS | n |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key, per in metrics.items():
        s, bucket = key.split(" ", 1)
        if int(s) != size or not {"pconv", "telea", "ns"} <= set(per):
            continue
        p, t, n = per["pconv"], per["telea"], per["ns"]
        lines.append(f"| {bucket} | {p['psnr_hole']:.2f} | {t['psnr_hole']:.2f} | {n['psnr_hole']:.2f} "
                     f"| {p['psnr_hole'] - t['psnr_hole']:+.2f} | {p['psnr']:.2f} | {t['psnr']:.2f} | {n['psnr']:.2f} "
                     f"| {p['ssim']:.3f} | {t['ssim']:.3f} | {n['ssim']:.3f} | {p['images']} |")
    return "\n".join(lines)
