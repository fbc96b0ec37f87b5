"""Training photos from ``../shared/data`` with the held-out rule applied in one place.

The evaluation sets share photos with BSDS500 (BSD100 = BSDS500 ``val``, CBSD68 ⊂ ``val``), so
training may only read BSDS500 ``train`` + ``test`` and ``facades/train``; this module never lists
anything else. Images are returned as ``uint8 H x W x 3`` RGB arrays (facades: the photo half).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

TRAIN_SPLITS = {
    "bsds500": ("photos/bsds500/train", "photos/bsds500/test"),
    "facades": ("facades/train",),
}
HELD_OUT = ("photos/bsds500/val", "color/CBSD68", "color/Kodak24", "sr", "facades/test")


def default_data_root() -> Path:
    """``$GANSTUDIO_SHARED_DATA`` or ``../shared/data`` next to the checkout."""
    env = os.environ.get("GANSTUDIO_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def training_files(root: Path, sets: tuple[str, ...] = ("bsds500",)) -> list[Path]:
    """Image files of the training splits of ``sets``, sorted (deterministic)."""
    files: list[Path] = []
    for name in sets:
        if name not in TRAIN_SPLITS:
            raise ValueError(f"unknown training set '{name}' (known: {', '.join(TRAIN_SPLITS)})")
        for rel in TRAIN_SPLITS[name]:
            folder = root / rel
            files += sorted(p for p in folder.glob("*") if p.suffix.lower() in (".jpg", ".png"))
    return files


def load_rgb(path: Path, facades_photo_half: bool = False) -> np.ndarray:
    """``uint8 H x W x 3``; for pix2pix facades pairs, only the left (photo) half."""
    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"))
    if facades_photo_half:
        arr = arr[:, : arr.shape[1] // 2]
    return np.ascontiguousarray(arr)


def load_training_photos(root: Path, sets: tuple[str, ...] = ("bsds500",)) -> list[np.ndarray]:
    photos = []
    for path in training_files(root, sets):
        photos.append(load_rgb(path, facades_photo_half="facades" in path.parts))
    if not photos:
        raise FileNotFoundError(f"no training photos under {root} for {', '.join(sets)}")
    return photos


def random_crop(rng: np.random.Generator, image: np.ndarray, size: int) -> np.ndarray:
    """A ``size`` square crop with a random flip and 90° rotation (image must be ≥ size)."""
    h, w = image.shape[:2]
    y = int(rng.integers(0, h - size + 1))
    x = int(rng.integers(0, w - size + 1))
    crop = image[y : y + size, x : x + size]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    crop = np.rot90(crop, int(rng.integers(0, 4)))
    return np.ascontiguousarray(crop)
