"""``ganstudio bench igan``: projection quality, optimisation speed and scripted colour edits.

Rows (one JSON file, ``{"task": "igan", "rows": [...]}``):
- ``kind="projection"``, per method (encoder / optimize / hybrid at the same number of Adam
  steps): mean PSNR (RGB, dB) and SSIM (BT.601 Y) between G(z0) and the photo at the model's size,
  seconds per image, ``far_fraction`` (share of photos the far-from-the-domain check flags) and the
  mean ``domain_score`` (:mod:`engines.latent.domain_check`);
- ``kind="speed"``: optimisation steps per second (forward + backward + Adam on z) at batch 1 and
  batch 64 on this machine;
- ``kind="edit"``: scripted colour edits, a disc at a random place on each photo, four ways:
  ``keep_rest`` 0 (the paper's unconstrained edit) or the editor's "Keep the rest" weight, times
  ``colours`` "primary" (a saturated red, green or blue disc, often off the model's manifold: a
  facade GAN has no green walls) or "donor" (the colour another photo of the set has there, an
  in-domain edit). Each row: stroke colour error of G(z) before and after the edit (mean abs,
  [0, 1] units) and its mean relative change, mean abs change of the transferred photo outside the
  (dilated) stroke, seconds per edit (edit + morph + transfer at the photo's 256 px).
  ``outside_levels``: mean abs change (0-255 levels) of the transferred photo everywhere outside
  the disc itself (the halo included); ``photo_error_before/after``: mean abs difference (0-1)
  between the photo / the result and the stroke colour inside the disc (how much of the edit the
  photo got).
Every row has a ``set``: ``test`` (the photos in ``--data``), ``transformed`` (the same photos
under a random scale 0.5-2x, aspect 0.75-1.33, perspective, colour and blur, fixed seed: the
photos people bring are not rectified CMP crops) and ``outside`` (building photos that are not
facades: BSDS500 *val* ids, evaluation only, found beside ``--data`` in the shared data folder;
red and blue discs as in issue 20). Projection rows for the transformed / outside sets are hybrid
only; edit rows there use the editor's "Keep the rest".
A grid PNG beside the JSON: photo | projection | strokes | 3 candidates | transferred result.

Photos: every ``*.jpg``/``*.png`` in ``--data``; pix2pix pairs (width = 2 x height, as facades)
are cut to their left (photo) half, then centre-cropped square.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from ..core.device import make_context
from ..core.protocol import LatentEditRequest, Task, drive
from .metrics import ssim_y

METHODS = ("encoder", "optimize", "hybrid")
HEADER = f"{'model':<18} {'kind':<10} {'what':<16} {'value':>28}"


def load_photos(folder: Path, limit: int) -> list[np.ndarray]:
    files = sorted(p for p in Path(folder).glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    files.sort(key=lambda p: (len(p.stem), p.stem))  # 1, 2, ..., 10 (facades names are numbers)
    from ..train_data import load_rgb

    photos = []
    for path in files[: max(1, limit)]:
        arr = load_rgb(path)
        h, w = arr.shape[:2]
        if w == 2 * h:
            arr = arr[:, :h]
        photos.append(_square(arr).astype(np.float32) / 255.0)
    return photos


# building photos in BSDS500 val that are not CMP-style facades (chateau, office block, church,
# arch, glass pyramid, farmhouse, tower, barn...): the "outside" set, evaluation only
OUTSIDE_IDS = ("102061", "119082", "126007", "148026", "148089", "223061", "385039", "78004", "86000", "97033")


def outside_photos(data: Path) -> list[np.ndarray]:
    """The :data:`OUTSIDE_IDS` photos, centre-cropped square, when ``data`` is ``<shared>/facades/test``
    (or any folder two levels under the shared data folder); [] when they are not there."""
    folder = Path(data).resolve().parent.parent / "photos" / "bsds500" / "val"
    from ..train_data import load_rgb

    photos = []
    for i in OUTSIDE_IDS:
        path = folder / f"{i}.jpg"
        if path.is_file():
            photos.append(_square(load_rgb(path).astype(np.float32) / 255.0))
    return photos


def _square(arr: np.ndarray) -> np.ndarray:
    side = min(arr.shape[:2])
    y, x = (arr.shape[0] - side) // 2, (arr.shape[1] - side) // 2
    return np.ascontiguousarray(arr[y:y + side, x:x + side])


def transform_photo(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random geometric + photometric change of a square photo (same side): scale 0.5-2x
    (log-uniform; zoomed out = the photo's reflection fills the border), aspect 0.75-1.33,
    perspective (corners moved by up to 8 % of the side), colour (brightness 0.75-1.25, contrast
    0.7-1.3, saturation 0.6-1.4, channel gains 0.9-1.1) and Gaussian blur sigma 0-2 px at 256."""
    n = photo.shape[0]
    scale = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    aspect = float(np.exp(rng.uniform(np.log(0.75), np.log(4 / 3))))
    sx, sy = scale * np.sqrt(aspect), scale / np.sqrt(aspect)
    c = (n - 1) / 2.0
    src = np.float32([[0, 0], [n - 1, 0], [n - 1, n - 1], [0, n - 1]])
    dst = np.float32([[c + (x - c) * sx, c + (y - c) * sy] for x, y in src]) + rng.uniform(-0.08, 0.08, (4, 2)).astype(np.float32) * n
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    out = cv2.warpPerspective(photo, m, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
    out = out * rng.uniform(0.75, 1.25)
    mean = out.mean()
    out = (out - mean) * rng.uniform(0.7, 1.3) + mean
    grey = out.mean(axis=2, keepdims=True)
    out = (out - grey) * rng.uniform(0.6, 1.4) + grey
    out = out * rng.uniform(0.9, 1.1, 3)
    sigma = rng.uniform(0.0, 2.0) * n / 256
    if sigma > 0.3:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def transformed_photos(photos: list[np.ndarray], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [transform_photo(p, rng) for p in photos]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((np.clip(a, 0, 1) - b) ** 2))
    return 10.0 * np.log10(1.0 / max(mse, 1e-10))


def _small(model, photo: np.ndarray) -> np.ndarray:
    s = model.size
    return np.clip(cv2.resize(photo, (s, s), interpolation=cv2.INTER_AREA), 0, 1).astype(np.float32)


def projection_rows(engine, model_id: str, photos: list[np.ndarray], steps: int = 40, methods=METHODS,
                    set_name: str = "test") -> list[dict[str, Any]]:
    model = engine.model()
    rows = []
    for method in methods:
        if method != "optimize" and model.encoder is None:
            continue
        psnrs, ssims, secs, far, scores = [], [], [], [], []
        for photo in photos:
            small = _small(model, photo)
            t = time.perf_counter()
            r = drive(engine.run(LatentEditRequest(image=small, mode="project", projection=method,
                                                   iterations=steps), make_context(engine.info)))
            secs.append(time.perf_counter() - t)
            proj = r.extras["projection"]
            psnrs.append(_psnr(proj, small))
            ssims.append(ssim_y(proj, small))
            domain = r.extras.get("domain") or {}
            far.append(bool(domain.get("far", False)))
            scores.append(float(domain.get("score", float("nan"))))
        rows.append({"model": model_id, "kind": "projection", "set": set_name, "method": method, "images": len(photos),
                     "steps": 0 if method == "encoder" else steps, "size": model.size,
                     "psnr": round(float(np.mean(psnrs)), 3), "ssim": round(float(np.mean(ssims)), 4),
                     "seconds": round(float(np.mean(secs)), 4),
                     # the far-from-the-domain verdict (domain_check.py) of each projection
                     "far_fraction": round(float(np.mean(far)), 4),
                     "domain_score": round(float(np.nanmean(scores)), 4) if np.isfinite(scores).any() else None})
    return rows


def speed_rows(engine, model_id: str, batches=(1, 64), steps: int = 20) -> list[dict[str, Any]]:
    import torch

    from ..latent.project import reconstruction_loss

    model = engine.model()
    rows = []
    for b in batches:
        target = torch.zeros(b, 3, model.size, model.size, device=model.device)
        z = model.sample_z(b, 0).requires_grad_(True)
        opt = torch.optim.Adam([z], lr=0.05)

        def one() -> None:
            opt.zero_grad(set_to_none=True)
            reconstruction_loss(model.render(z), target).sum().backward()
            opt.step()

        one()  # warm-up
        t = time.perf_counter()
        for _ in range(steps):
            one()
        dt = time.perf_counter() - t
        rows.append({"model": model_id, "kind": "speed", "batch": b, "steps_per_second": round(steps / dt, 2),
                     "threads": torch.get_num_threads()})
    return rows


def scripted_strokes(rng: np.random.Generator, side: int, channel: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A filled disc (radius 8-14 % of the side) of a saturated colour (red, green or blue at random,
    or ``channel`` 0 / 1 / 2): H x W x 4 strokes (RGB + coverage) and the dilated coverage (where
    change is allowed)."""
    strokes = np.zeros((side, side, 4), np.float32)
    r = int(side * rng.uniform(0.08, 0.14))
    cx, cy = (int(v) for v in rng.uniform(0.25, 0.75, 2) * side)
    pick = rng.integers(3)
    colour = np.eye(3)[pick if channel is None else channel] * 0.9 + 0.05
    cov = np.zeros((side, side), np.float32)
    cv2.circle(cov, (cx, cy), r, 1.0, -1)
    strokes[..., :3] = colour
    strokes[..., 3] = cov
    near = cv2.dilate(cov, np.ones((3, 3), np.uint8), iterations=max(1, side // 8))
    return strokes, near


def _edit_size(photo: np.ndarray) -> np.ndarray:
    side = min(photo.shape[0], 256)
    return np.clip(cv2.resize(photo, (side, side), interpolation=cv2.INTER_AREA), 0, 1).astype(np.float32)


def edit_cases(engine, photos: list[np.ndarray]) -> list[tuple[np.ndarray, Any]]:
    """(photo at the edit size, its projection Result) per photo: projected once, edited many ways."""
    cases = []
    for photo in photos:
        photo = _edit_size(photo)
        cases.append((photo, drive(engine.run(LatentEditRequest(image=photo, mode="project"), make_context(engine.info)))))
    return cases


COLOURS = ("primary", "donor", "red", "blue")


def edit_rows(engine, model_id: str, cases: list[tuple[np.ndarray, Any]], seed: int = 0, starts: int = 0,
              grid_rows: list | None = None, keep_rest: float = 0.0, colours: str = "primary",
              set_name: str = "test", grid_limit: int = 6, results: list | None = None) -> list[dict[str, Any]]:
    """``cases`` from :func:`edit_cases`. ``colours``: "primary" = the disc is a saturated red,
    green or blue (often off the model's manifold: a facade GAN has no green walls); "red" / "blue"
    = always that colour; "donor" = the disc takes the mean colour that another photo of the set
    (half the set further on) has at that place, an in-domain edit. The same ``seed`` places the
    same discs in every call. ``results``: (photo, strokes, result) of every edit appended."""
    if colours not in COLOURS:
        raise ValueError(f"colours must be one of {', '.join(COLOURS)}, not {colours!r}")
    rng = np.random.default_rng(seed)
    channel = {"red": 0, "blue": 2}.get(colours)
    before, after, outside, secs, rel, levels, pb, pa = [], [], [], [], [], [], [], []
    for i, (photo, proj) in enumerate(cases):
        strokes, near = scripted_strokes(rng, photo.shape[0], channel)
        if colours == "donor":
            donor = cases[(i + max(1, len(cases) // 2)) % len(cases)][0]
            donor = cv2.resize(donor, photo.shape[1::-1], interpolation=cv2.INTER_AREA)
            strokes[..., :3] = donor[strokes[..., 3] > 0].mean(axis=0)
        t = time.perf_counter()
        r = drive(engine.run(LatentEditRequest(image=photo, latent=proj.latent, color_strokes=strokes,
                                               starts=starts, seed=i, keep_rest=keep_rest), make_context(engine.info)))
        secs.append(time.perf_counter() - t)
        b, a = r.extras["color_error_before"], r.extras["color_error_after"]
        before.append(b)
        after.append(a)
        rel.append((a - b) / max(b, 1e-6))
        outside.append(float(np.abs(r.image - photo)[near <= 0].mean()))
        disc = strokes[..., 3] > 0
        levels.append(float(np.abs(r.image - photo)[~disc].mean()) * 255.0)
        pb.append(float(np.abs(photo - strokes[..., :3])[disc].mean()))
        pa.append(float(np.abs(r.image - strokes[..., :3])[disc].mean()))
        if results is not None:
            results.append((photo, strokes, r.image))
        if grid_rows is not None and len(grid_rows) < grid_limit:
            cands = [c["image"] for c in r.extras["candidates"][:3]]
            grid_rows.append((photo, proj.extras["projection"], strokes, cands, r.image))
    return [{"model": model_id, "kind": "edit", "set": set_name, "edits": len(cases),
             "starts": starts or _default_starts(engine), "keep_rest": keep_rest, "colours": colours,
             "color_error_before": round(float(np.mean(before)), 4),
             "color_error_after": round(float(np.mean(after)), 4),
             "color_error_change": round(float(np.mean(rel)), 4),
             "change_outside": round(float(np.mean(outside)), 5),
             "outside_levels": round(float(np.mean(levels)), 3),
             "outside_levels_max": round(float(np.max(levels)), 3),
             "photo_error_before": round(float(np.mean(pb)), 4),
             "photo_error_after": round(float(np.mean(pa)), 4),
             "seconds_per_edit": round(float(np.mean(secs)), 3)}]


def _default_starts(engine) -> int:
    from ..latent.engine import DEFAULTS

    return DEFAULTS["starts"] if engine.model().device.startswith("cuda") else DEFAULTS["cpu_starts"]


def save_grid(rows: list, path: Path, cell: int = 128) -> None:
    """photo | projection | strokes over the projection | candidates 1-3 | transferred result."""
    from PIL import Image

    def fit(img: np.ndarray) -> np.ndarray:
        return cv2.resize(np.clip(img, 0, 1).astype(np.float32), (cell, cell), interpolation=cv2.INTER_AREA)

    lines = []
    for photo, proj, strokes, cands, result in rows:
        proj_big = fit(proj)
        cov = fit(strokes[..., 3])[..., None]
        painted = proj_big * (1 - cov) + fit(strokes[..., :3]) * cov
        cands = (cands + [np.ones_like(proj)] * 3)[:3]
        tiles = [fit(photo), proj_big, painted] + [fit(c) for c in cands] + [fit(result)]
        lines.append(np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=1.0) for t in tiles], 1))
    grid = np.concatenate(lines, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((grid * 255 + 0.5).astype(np.uint8)).save(path)


def resolve_engine(model_id: str):
    from ..core import registry

    return registry.get(Task.LATENT, model_id)


def run_bench(data: Path, models: list[str], limit: int = 16, json_path: Path | None = None,
              on_row: Callable[[dict], None] | None = None, engines: dict[str, Any] | None = None,
              ) -> list[dict[str, Any]]:
    """All rows for ``models`` (registered ids, or ``engines`` given directly: id -> engine)."""
    photos = load_photos(data, limit)
    if not photos:
        return []
    from ..latent.engine import DEFAULTS

    rows: list[dict[str, Any]] = []
    grid: list = []
    keep = DEFAULTS["keep_rest"]
    transformed = transformed_photos(photos)
    outside = outside_photos(data)
    for model_id in models:
        engine = (engines or {}).get(model_id) or resolve_engine(model_id)
        engine.model()  # load now: a bad weights file fails before any row

        def emit(new: list[dict[str, Any]]) -> None:
            for row in new:
                rows.append(row)
                if on_row is not None:
                    on_row(row)

        emit(projection_rows(engine, model_id, photos) + speed_rows(engine, model_id))
        emit(projection_rows(engine, model_id, transformed, methods=("hybrid",), set_name="transformed"))
        if outside:
            emit(projection_rows(engine, model_id, outside, methods=("hybrid",), set_name="outside"))
        cases = edit_cases(engine, photos)
        # edits four ways: as the paper (nothing else constrained) and with the editor's "Keep the
        # rest", each with primary and with donor colours (the grid shows the editor's default)
        emit(edit_rows(engine, model_id, cases)
             + edit_rows(engine, model_id, cases, grid_rows=grid, keep_rest=keep, grid_limit=4)
             + edit_rows(engine, model_id, cases, colours="donor")
             + edit_rows(engine, model_id, cases, keep_rest=keep, colours="donor"))
        t_cases = edit_cases(engine, transformed)
        emit(edit_rows(engine, model_id, t_cases, keep_rest=keep, set_name="transformed", grid_rows=grid,
                       grid_limit=6))
        if outside:
            o_cases = edit_cases(engine, outside)
            emit(edit_rows(engine, model_id, o_cases, keep_rest=keep, colours="red", set_name="outside",
                           grid_rows=grid, grid_limit=8)
                 + edit_rows(engine, model_id, o_cases, keep_rest=keep, colours="blue", set_name="outside",
                             grid_rows=grid, grid_limit=10))
    if json_path is not None:
        from ..atomic import atomic_write_bytes

        data_out = {"task": "igan", "rows": rows, "data": str(data),
                    "protocol": "photos centre-cropped square (pix2pix pairs: left half); projection at the "
                                "model size, PSNR on RGB [0, 1], SSIM on Y; edits at 256 px"}
        json_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(json_path, (json.dumps(data_out, indent=2) + "\n").encode())
        if grid:
            save_grid(grid, json_path.with_suffix(".png"))
    return rows


def format_row(row: dict[str, Any]) -> str:
    if row["kind"] == "projection":
        what = f"{row['method'][:6]} {row.get('set', 'test')[:5]}"
        value = (f"PSNR {row['psnr']:.2f} SSIM {row['ssim']:.3f} {row['seconds']:.2f}s "
                 f"far {row.get('far_fraction', 0.0):.0%}")
    elif row["kind"] == "speed":
        what, value = f"batch {row['batch']}", f"{row['steps_per_second']:.1f} steps/s"
    else:
        what = f"{row.get('colours', 'primary')[:5]} k{row.get('keep_rest', 0.0):g} {row.get('set', 'test')[:5]}"
        value = (f"err {row['color_error_before']:.3f}->{row['color_error_after']:.3f} "
                 f"({row['color_error_change']:+.0%}) out {row['change_outside']:.4f} "
                 f"outside {row.get('outside_levels', 0.0):.2f} lv (max {row.get('outside_levels_max', 0.0):.1f}) "
                 f"photo {row.get('photo_error_before', 0.0):.3f}->{row.get('photo_error_after', 0.0):.3f} "
                 f"{row['seconds_per_edit']:.2f}s")
    return f"{row['model']:<18} {row['kind']:<10} {what:<16} {value:>28}"
