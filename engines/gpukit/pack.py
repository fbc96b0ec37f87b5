"""``ganstudio train pack``: the training splits, squeezed to travel with the repository.

Only the splits :mod:`engines.train_data` allows (BSDS500 ``train`` + ``test``, facades ``train``)
are read; the held-out sets are never opened. The result is one folder (git-ignored, named in the
device call's ``carry``) of at most :data:`BUDGET` bytes:

- ``bsds500.npz``: the 400 photos as JPEG bytes (``jpeg`` uint8 concatenated, ``offsets`` int64
  N+1), every photo turned landscape (481 x 321; the trainers rotate anyway), re-encoded 4:2:0 (as the originals are) at
  the highest quality that fits the budget beside the facades;
- ``facades.npz``: the 400 photo halves as JPEG bytes the same way (a fixed quality 75), and their label maps after the
  palette snap + mode filter (``labels`` uint8 N x 256 x 256, compressed), plus the mean share of
  ambiguous label pixels;
- ``manifest.json``: source files with their sha256, the quality used, sizes.

JPEG re-encoding at the originals' 4:2:0 changes a pixel by a few levels (the pack reports the PSNR of the round trip); the decoded
arrays (not the bytes) are what the trainers see, on the device as uint8 tensors.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..train_data import TRAIN_SPLITS, load_rgb, training_files

BUDGET = 20 * 1024 * 1024  # bytes, the whole folder
FACADES_QUALITY = 75
QUALITIES = (95, 93, 91, 89, 87, 85, 82, 78, 74, 70)
FILES = ("bsds500.npz", "facades.npz", "manifest.json")


class PackError(Exception):
    """The data cannot be packed (missing splits, or it cannot fit the budget)."""


@dataclass
class Sources:
    bsds: list[np.ndarray]  # uint8 321 x 481 x 3 (landscape)
    facades: list[np.ndarray]  # uint8 256 x 256 x 3
    labels: np.ndarray  # uint8 N x 256 x 256
    ambiguous: float
    files: list[tuple[str, str]]  # (path relative to the data root, sha256)


def _landscape(img: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(img.transpose(1, 0, 2)) if img.shape[0] > img.shape[1] else img


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_sources(root: Path, limit: int = 0) -> Sources:
    """Decode the training splits (``limit`` > 0: only that many per set, for tests)."""
    from ..spade.facades import facades_palette, read_pair

    bsds_files = training_files(root, ("bsds500",))
    fac_files = training_files(root, ("facades",))
    if limit:
        bsds_files, fac_files = bsds_files[:limit], fac_files[:limit]
    if not bsds_files or not fac_files:
        raise PackError(f"no training photos under {root} (need {', '.join(TRAIN_SPLITS['bsds500'] + TRAIN_SPLITS['facades'])})")
    bsds = [_landscape(load_rgb(p)) for p in bsds_files]
    shapes = {b.shape for b in bsds}
    if len(shapes) != 1:  # BSDS500 is 481 x 321 throughout; a stack needs one shape
        side = min(s[0] for s in shapes), min(s[1] for s in shapes)
        bsds = [np.ascontiguousarray(b[: side[0], : side[1]]) for b in bsds]
    palette = facades_palette()
    pairs = [read_pair(p, palette) for p in fac_files]
    files = [(str(p.relative_to(root)), _sha(p)) for p in bsds_files + fac_files]
    return Sources(bsds, [p.photo for p in pairs], np.stack([p.labels for p in pairs]).astype(np.uint8),
                   float(np.mean([p.ambiguous for p in pairs])), files)


def _jpeg_blob(images: list[np.ndarray], quality: int) -> tuple[np.ndarray, np.ndarray]:
    parts = []
    for img in images:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "JPEG", quality=quality, subsampling=2, optimize=True)
        parts.append(np.frombuffer(buf.getvalue(), np.uint8))
    offsets = np.zeros(len(parts) + 1, np.int64)
    offsets[1:] = np.cumsum([len(p) for p in parts])
    return np.concatenate(parts), offsets


def _psnr(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    mse = np.mean([np.mean((x.astype(np.float32) - y.astype(np.float32)) ** 2) for x, y in zip(a, b)])
    return round(float(10 * np.log10(255.0 ** 2 / max(mse, 1e-12))), 2)


def decode_blob(jpeg: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    """The RGB uint8 images of a packed JPEG blob."""
    out = []
    for a, b in zip(offsets[:-1], offsets[1:]):
        with Image.open(io.BytesIO(jpeg[int(a):int(b)].tobytes())) as im:
            out.append(np.asarray(im.convert("RGB")))
    return out


def pack(root: Path, out: Path, limit: int = 0, budget: int = BUDGET) -> dict:
    """Write the packed folder; returns the manifest. Raises :class:`PackError` when it cannot fit."""
    src = read_sources(Path(root), limit)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    labels_buf = io.BytesIO()
    np.savez_compressed(labels_buf, labels=src.labels)
    label_bytes = labels_buf.tell()
    # facades photos matter least (GAN targets at 64-256 px): a fixed quality; the photos every
    # engine learns detail from get the highest quality that still fits
    fj, fo = _jpeg_blob(src.facades, FACADES_QUALITY)
    for quality in QUALITIES:
        bj, bo = _jpeg_blob(src.bsds, quality)
        if bj.nbytes + fj.nbytes + label_bytes + 160 * 1024 <= budget:
            break
    else:
        raise PackError(f"the training data does not fit {budget / 2**20:.0f} MiB even at JPEG quality {QUALITIES[-1]}")
    np.savez(out / "bsds500.npz", jpeg=bj, offsets=bo)
    np.savez_compressed(out / "facades.npz", jpeg=fj, offsets=fo, labels=src.labels,
                        ambiguous=np.float32(src.ambiguous))
    manifest = {
        "format": 1, "jpeg_quality": {"bsds500": quality, "facades": FACADES_QUALITY}, "subsampling": "4:2:0",
        "round_trip_psnr_db": {"bsds500": _psnr(src.bsds, decode_blob(bj, bo)),
                               "facades": _psnr(src.facades, decode_blob(fj, fo))},
        "bsds500": {"count": len(src.bsds), "shape": list(src.bsds[0].shape), "orientation": "landscape"},
        "facades": {"count": len(src.facades), "shape": list(src.facades[0].shape),
                    "label_ambiguous_share": round(src.ambiguous, 4)},
        "held_out_never_read": ["photos/bsds500/val", "color/CBSD68", "color/Kodak24", "sr", "facades/test"],
        "sources": [{"path": p, "sha256": s} for p, s in src.files],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    manifest["bytes"] = folder_bytes(out)
    if manifest["bytes"] > budget:
        raise PackError(f"packed data is {manifest['bytes']} bytes, over the {budget}-byte budget")
    return manifest


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def load_packed(folder: Path) -> dict[str, np.ndarray]:
    """Decoded arrays: ``bsds`` uint8 N x 321 x 481 x 3, ``facades`` uint8 M x 256 x 256 x 3,
    ``labels`` uint8 M x 256 x 256 (class ids), ``ambiguous`` float."""
    folder = Path(folder)
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing:
        raise PackError(f"{folder} is not a packed data folder (missing {', '.join(missing)}); "
                        "run `ganstudio train pack` first")
    with np.load(folder / "bsds500.npz") as z:
        bsds = np.stack(decode_blob(z["jpeg"], z["offsets"]))
    with np.load(folder / "facades.npz") as z:
        facades = np.stack(decode_blob(z["jpeg"], z["offsets"]))
        labels, ambiguous = z["labels"], float(z["ambiguous"])
    return {"bsds": bsds, "facades": facades, "labels": labels, "ambiguous": ambiguous}
