"""What every kit trainer shares: the deadline, EMA weights, mixed precision, initialisation from
bundled weights, throughput logging and the fp16 export with a model card.

A trainer is a function ``train(ctx) -> list[Export]``; it steps until :meth:`KitContext.running`
says stop (the shared deadline, or ``max_steps`` in a dry run), calls :meth:`KitContext.log` now
and then, and exports its EMA weights at the end.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..train_utils import cosine_lr


@dataclass
class KitContext:
    engine: str
    data: dict[str, Any]  # numpy arrays from engines.gpukit.pack.load_packed
    device: torch.device
    out: Path  # this engine's run folder; exports go to out / "export"
    deadline: float  # time.time() by which training stops (the export follows)
    init_dir: Path | None = None  # bundled weights to start from (resources/weights)
    dry_run: bool = False
    max_steps: int = 0  # 0 = until the deadline
    seed: int = 0
    amp: bool = True  # bf16 autocast (on the CPU too in a dry run: the same code path)
    command: str = ""
    started: float = field(default_factory=time.time)
    images_seen: dict[str, int] = field(default_factory=dict)
    _last_log: float = field(default_factory=time.time)
    _last_images: int = 0

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        (self.out / "export").mkdir(parents=True, exist_ok=True)
        self.gen = torch.Generator(device=self.device).manual_seed(self.seed)
        torch.manual_seed(self.seed)

    def running(self, step: int, share: float = 1.0) -> bool:
        """Go on with step ``step``? ``share`` < 1 stops at that fraction of the time (phases)."""
        if self.max_steps and step >= self.max_steps:
            return False
        return time.time() < self.started + share * (self.deadline - self.started)

    def progress(self, step: int) -> float:
        """0..1 over the run (steps in a dry run, wall time on the device): drives the schedules."""
        if self.max_steps:
            return min(1.0, step / self.max_steps)
        return min(1.0, (time.time() - self.started) / max(1e-6, self.deadline - self.started))

    def autocast(self):
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def seen(self, model: str, n: int) -> None:
        self.images_seen[model] = self.images_seen.get(model, 0) + int(n)

    def log(self, step: int, losses: dict[str, float], **extra: Any) -> dict[str, Any]:
        now = time.time()
        total = sum(self.images_seen.values())
        rate = (total - self._last_images) / max(1e-6, now - self._last_log)
        self._last_log, self._last_images = now, total
        info = {"engine": self.engine, "step": step, "elapsed_s": round(now - self.started, 1),
                "images_per_s": round(rate, 1), **{k: round(float(v), 5) for k, v in losses.items()}, **extra}
        with open(self.out / "log.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(info) + "\n")
        print(json.dumps(info), flush=True)
        return info


def scaled_lr(base_lr: float, batch: int, base_batch: int, cap: float = 4.0) -> float:
    """Adam learning rate for a larger batch: square-root scaling, at most ``cap`` x the batch ratio's
    root (stated on every card)."""
    return base_lr * math.sqrt(min(cap * cap, max(1.0, batch / base_batch)))


def cosine(progress: float, lr: float, min_lr: float, warmup: float = 0.02) -> float:
    """Linear warm-up (from 5 % of ``lr``) over the first ``warmup`` of the run, then
    :func:`engines.train_utils.cosine_lr` over the rest."""
    if progress < warmup:
        return lr * max(0.05, progress / warmup)
    t = (progress - warmup) / max(1e-6, 1 - warmup)
    return cosine_lr(min(1.0, t), lr, min_lr)


def set_lr(opt, lr: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr


class EMA:
    """Exponential moving average of a model's parameters (buffers copied), the weights exported."""

    def __init__(self, model: torch.nn.Module, decay: float = 0.999) -> None:
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay, self.updates = decay, 0

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))  # short runs: a shorter memory
        ema_p = [p for p in self.model.parameters()]
        src_p = [p.detach() for p in model.parameters()]
        torch._foreach_lerp_(ema_p, src_p, 1.0 - d)
        for eb, b in zip(self.model.buffers(), model.buffers()):
            eb.copy_(b)


def channels_last(model: torch.nn.Module) -> torch.nn.Module:
    return model.to(memory_format=torch.channels_last)


def prepare(ctx: KitContext, model: torch.nn.Module, cfg: dict[str, Any], task: str, arch: str,
            scale: int | None = None, cap: float = 4.0) -> float:
    """Start ``model`` from its bundled counterpart (``--init``), switch it to channels_last and
    return the batch-scaled learning rate; ``cfg`` records both for the card."""
    init = load_init(model, counterpart_weights(ctx, task, arch, scale))
    cfg["init"] = init["from"]
    cfg["init_tensors"] = f"{init['loaded']} loaded, {init['skipped']} new"
    channels_last(model)
    cfg["lr"] = scaled_lr(cfg["base_lr"], cfg["batch"], cfg["base_batch"], cap)
    return cfg["lr"]


def load_init(model: torch.nn.Module, path: Path | None) -> dict[str, int]:
    """Copy the tensors of a bundled ``.safetensors`` whose names and shapes match (so a wider or
    larger-crop model still starts from what fits); returns counts for the card."""
    if path is None or not Path(path).is_file():
        return {"loaded": 0, "skipped": 0, "from": ""}
    from ..weights.files import read_state_dict

    src = read_state_dict(path)
    own = model.state_dict()
    take = {k: v.to(own[k].dtype) for k, v in src.items() if k in own and own[k].shape == v.shape}
    own.update(take)
    model.load_state_dict(own)
    return {"loaded": len(take), "skipped": len(own) - len(take), "from": str(path)}


@dataclass
class Export:
    """One exported model: files written (names relative to the export folder) and its card."""
    id: str
    files: list[str]
    card: dict[str, Any]


def bundled_counterpart(folder: Path, task: str, arch: str, scale: int | None = None) -> Path | None:
    """The card (``.json``) of the bundled model a kit model competes with: same task, architecture
    (and SR scale), the default first. Found by what it is, not by file name, so a wider kit model
    (``pconv-compact-w24``) replaces a narrower bundled one (``pconv-compact-w16``)."""
    found = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            card = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(card, dict) or card.get("task") != task or card.get("arch") != arch:
            continue
        if scale is not None and int(card.get("scale", 0) or 0) != scale:
            continue
        found.append((not card.get("default", False), path.name, path))
    return sorted(found)[0][2] if found else None


def counterpart_weights(ctx: KitContext, task: str, arch: str, scale: int | None = None) -> Path | None:
    """The bundled weights file to start from (``--init``), or None."""
    if ctx.init_dir is None:
        return None
    card = bundled_counterpart(ctx.init_dir, task, arch, scale)
    if card is None:
        return None
    return card.parent / str(json.loads(card.read_text(encoding="utf-8")).get("file", ""))


def template_card(ctx: KitContext, task: str, arch: str, scale: int | None = None) -> dict[str, Any]:
    """The bundled counterpart's card (title, licence, conventions, default flag) minus every figure
    and training record, which belong to other weights; ``train accept`` adds old vs new figures."""
    from ..paths import BUNDLED_WEIGHTS

    src = bundled_counterpart(ctx.init_dir or BUNDLED_WEIGHTS, task, arch, scale)
    card: dict[str, Any] = json.loads(src.read_text(encoding="utf-8")) if src is not None else {}
    for stale in ("metrics", "figures", "projection", "sha256", "size_bytes", "file_bytes", "train_config",
                  "steps", "train_seconds", "wall_time_s", "wall_minutes", "encoder_steps", "source",
                  "command", "finished", "finetune_from_step", "total_steps_with_init",
                  "total_wall_minutes_with_init", "init", "parameters", "description", "samples",
                  "width_reduction", "accept", "kit", "title"):
        card.pop(stale, None)
    return card


def write_export(ctx: KitContext, file_stem: str, tensors: dict[str, dict[str, torch.Tensor]],
                 card: dict[str, Any], config: dict[str, Any], steps: int, losses: dict[str, float]) -> Export:
    """Write ``<stem>.safetensors`` (+ extra files, e.g. ``<stem>.encoder.safetensors``), the JSON
    card and its Markdown twin into ``out/export``. ``tensors`` maps a file name to a state dict."""
    from ..atomic import atomic_write_bytes
    from ..weights.files import half_where_fits, save_safetensors

    folder = ctx.out / "export"
    files = []
    for name, sd in tensors.items():
        save_safetensors(half_where_fits(sd), folder / name, half=False)
        files.append(name)
    gpu = torch.cuda.get_device_name(ctx.device) if ctx.device.type == "cuda" else "none (CPU)"
    minutes = (time.time() - ctx.started) / 60
    card = {**card, "id": file_stem, "file": f"{file_stem}.safetensors", "card": f"{file_stem}.md", "dtype": "float16",
            "kit": {"trainer": f"ganstudio train all (engine {ctx.engine})", "command": ctx.command,
                    "steps": steps, "images_seen": dict(ctx.images_seen), "device": str(ctx.device),
                    "gpu": gpu, "minutes": round(minutes, 2), "dry_run": ctx.dry_run,
                    "final_losses": {k: round(float(v), 5) for k, v in losses.items()},
                    "torch": torch.__version__, "config": config,
                    "data": "packed training splits only: BSDS500 train + test (400 photos), CMP facades "
                            "train (400 pairs); held out and never read: BSDS500 val, CBSD68, Kodak24, "
                            "Set5/Set14/BSD100, facades test"}}
    atomic_write_bytes(folder / f"{file_stem}.json", (json.dumps(card, indent=2) + "\n").encode())
    atomic_write_bytes(folder / f"{file_stem}.md", card_markdown(card).encode())
    files += [f"{file_stem}.json", f"{file_stem}.md"]
    return Export(str(card.get("id", file_stem)), files, card)


def card_markdown(card: dict[str, Any]) -> str:
    kit = card.get("kit", {})
    cfg = kit.get("config", {})
    seen = ", ".join(f"{k} {v:,}" for k, v in kit.get("images_seen", {}).items()) or "?"
    lines = [
        f"# {card.get('title', card.get('id', ''))}", "",
        card.get("description", ""), "",
        "## Training (GPU kit)",
        f"- Command: `{kit.get('command', '')}`",
        f"- Data: {kit.get('data', '')}",
        f"- Hardware: {kit.get('gpu', '?')} ({kit.get('device', '?')}), torch {kit.get('torch', '?')}; "
        f"{kit.get('minutes', '?')} minutes, {kit.get('steps', '?')} steps, images seen: {seen}",
        f"- Settings: {', '.join(f'{k} {v}' for k, v in cfg.items())}",
        f"- Final losses: {', '.join(f'{k} {v}' for k, v in kit.get('final_losses', {}).items())}",
        f"- Started from: {cfg.get('init') or 'random initialisation'}",
        "- Exported: the EMA of the weights, fp16 (values that do not fit fp16 stay fp32).", "",
        "## Held-out figures",
    ]
    acc = card.get("accept")
    if acc:
        lines += [f"Measured by `ganstudio train accept` on the CPU: {acc.get('bench', '')}", "",
                  "| figure | bundled before | this model |", "|---|---|---|"]
        for name, (old, new) in acc.get("figures", {}).items():
            lines.append(f"| {name} | {old} | {new} |")
        lines += ["", f"Decision: {acc.get('decision', '')}", ""]
    else:
        lines += ["Not measured yet: `ganstudio train accept` benches this model on the held-out sets "
                  "and records old vs new figures here.", ""]
    lines += ["## Licence", str(card.get("license", "GAN Studio project weights")), ""]
    return "\n".join(lines)
