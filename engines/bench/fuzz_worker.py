"""The child process of ``bench fuzz``: runs cases one at a time and says how each ended.

Reads one JSON request per line on stdin (``{"path", "kind", "out"}``) and answers one JSON line
on stdout: ``{"outcome": "ok"|"clean"|"crash", "detail": ...}``. A hang or a dead process is
noticed by the parent (:mod:`engines.bench.fuzz`), which then starts a fresh child.

- ``image``: :func:`load_image`, then the result is checked (float32 ``H x W x 3`` in [0, 1],
  finite, alpha the same size, printable notes) and saved back with its EXIF, ICC and bit depth
  (``out`` names the format), so malformed metadata reaches the writers too.
- ``checkpoint``: ``models import`` of the file into a scratch store (read weights-only, the
  architecture detected, loaded strictly, NaN refused), then removed again.

"clean" means the project's error type with a readable message; any other exception, or a result
that breaks the engine convention, is a "crash".
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

MAX_MESSAGE = 2000


def _readable(message: str) -> str | None:
    """Why ``message`` is not a readable error, or None when it is."""
    if not message.strip():
        return "empty message"
    if len(message) > MAX_MESSAGE:
        return f"message of {len(message)} characters"
    if "Traceback" in message:
        return "a traceback in the message"
    bad = [ch for ch in message if not ch.isprintable() and ch not in "\n"]
    if bad:
        return f"unprintable characters in the message: {''.join(bad[:5])!r}"
    return None


def _check_image(im) -> str | None:
    import numpy as np

    rgb = im.rgb
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.float32 or rgb.ndim != 3 or rgb.shape[2] != 3:
        return f"rgb is {getattr(rgb, 'dtype', type(rgb))} {getattr(rgb, 'shape', '')}"
    if 0 in rgb.shape or not np.isfinite(rgb).all() or rgb.min() < 0 or rgb.max() > 1:
        return "rgb is empty, not finite or outside [0, 1]"
    a = im.alpha
    if a is not None and (a.shape != rgb.shape[:2] or a.dtype != np.float32 or not np.isfinite(a).all()
                          or a.min() < 0 or a.max() > 1):
        return "alpha does not match the image or leaves [0, 1]"
    for note in im.notes:
        why = _readable(note)
        if why:
            return f"note {note!r}: {why}"
    return None


def _image(path: Path, out: Path) -> dict:
    from ..imageio import load_image, save_image
    from ..readable import readable

    im = load_image(path)
    why = _check_image(im)
    if why:
        return {"outcome": "crash", "detail": f"wrong result: {why}"}
    save_image(out, im.rgb, alpha=im.alpha, bit_depth=im.bit_depth, exif=im.exif,
               icc_profile=im.icc_profile)
    back = load_image(out)
    if back.size != im.size:
        return {"outcome": "crash", "detail": f"saved {im.size}, read back {back.size}"}
    out.unlink()
    return {"outcome": "ok", "detail": readable("; ".join(im.notes))}


def _checkpoint(path: Path) -> dict:
    from ..models import install
    from ..models.manager import import_path

    gen = import_path(path, "fuzz-case")
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        installed = stop.value
    for m in installed:
        install.remove(m.id)
    return {"outcome": "ok", "detail": ", ".join(str(m.data.get("arch")) for m in installed)}


def run_case(request: dict) -> dict:
    from ..core.protocol import EngineError
    from ..readable import readable

    path = Path(request["path"])
    try:
        if request["kind"] == "checkpoint":
            return _checkpoint(path)
        return _image(path, Path(request["out"]))
    except EngineError as exc:
        message = readable(exc)
        why = _readable(message)
        if why:
            return {"outcome": "crash", "detail": f"{type(exc).__name__}: {why}: {message[:300]!r}"}
        return {"outcome": "clean", "detail": message}
    except Exception as exc:  # noqa: BLE001 - anything else is what the fuzz is looking for
        return {"outcome": "crash", "detail": readable(f"{type(exc).__name__}: {exc}")[:500]}


def main() -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # import what the cases use once, before the first case (its time is not a case's)
    import torch

    torch.set_num_threads(1)
    from ..imageio import load_image  # noqa: F401
    from ..models import manager  # noqa: F401

    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        result = run_case(json.loads(line))
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
