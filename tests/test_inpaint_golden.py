"""The bundled PConv model (the default Fill's structure guide): its card, its size, and a golden
comparison with Telea; the default Fill is the texture fill guided by it (tests/test_inpaint_texture.py).

Golden cases (fixed): 256x256 centre crops with the bench's fixed-seed masks (buckets 20-30 % and
40-50 %), the image given with its holes zeroed. The bundled sample photo is always available; the
held-out BSDS500 ``val`` case skips without the shared data. Tolerance: PConv's mean hole PSNR must
be at least Telea's + ``MARGIN_DB`` (measured margins are on the model card).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from engines.bench import inpaint as bench
from engines.core import registry
from engines.core.protocol import InpaintRequest, RunContext, Task, drive
from engines.imageio import load_image
from engines.paths import BUNDLED_WEIGHTS, default_sample
from engines.train_data import default_data_root

MARGIN_DB = 0.0  # PConv must not be worse than Telea on these cases
CARDS = sorted(p for p in BUNDLED_WEIGHTS.glob("pconv-*.json"))
# the bundled default PConv's model id (the default Fill is the texture fill guided by it)
PCONV = next((json.loads(p.read_text())["id"] for p in CARDS if json.loads(p.read_text()).get("default")), "")


def _hole_psnr(model: str, crops: list[np.ndarray], buckets=(2, 4)) -> float:
    engine = registry.get(Task.INPAINT, model)
    scores = []
    for i, truth in enumerate(crops):
        for b in buckets:
            mask = bench.case_mask(256, i, b)
            hole = mask > 0.5
            given = (truth * (~hole)[..., None]).astype(np.float32)
            out = drive(engine.run(InpaintRequest(image=given, mask=mask), RunContext())).image
            scores.append(bench.psnr(out, truth, hole))
    return float(np.mean(scores))


def test_bundled_card_is_complete_and_small():
    assert CARDS, "a pconv-*.json model card is bundled in resources/weights"
    cards = [json.loads(p.read_text()) for p in CARDS]
    assert sum(bool(c.get("default")) for c in cards) == 1
    for card in cards:
        weights = BUNDLED_WEIGHTS / card["file"]
        assert card["task"] == "inpaint"
        assert weights.stat().st_size <= 20 * 1024 * 1024
        for key in ("data", "command", "steps", "wall_time_s", "metrics", "width_reduction"):
            assert key in card, key
        assert (BUNDLED_WEIGHTS / card["card"]).is_file()
    default = next(c for c in cards if c.get("default"))
    info = next(i for i in registry.infos(Task.INPAINT) if i.id == "default")
    assert info.alias_of == "texture" and info.uses_torch
    assert registry.get(Task.INPAINT, "default").guide_id == PCONV == default["id"]


def test_default_beats_telea_on_the_bundled_sample():
    photo = load_image(default_sample()).rgb
    crops = [np.ascontiguousarray(photo[y : y + 256, x : x + 256]) for y in (0, 256) for x in (0, 256)]
    pconv, telea = _hole_psnr(PCONV, crops), _hole_psnr("telea", crops)
    assert pconv >= telea + MARGIN_DB, f"PConv {pconv:.2f} dB vs Telea {telea:.2f} dB on the hole"


def test_default_beats_telea_on_held_out_bsds_val():
    val = default_data_root() / "photos" / "bsds500" / "val"
    if not val.is_dir():
        pytest.skip(f"shared data not found at {val}")
    crops = [bench.centre_crop(load_image(p).rgb, 256) for p in bench.photos(val, limit=4)]
    pconv, telea = _hole_psnr(PCONV, crops), _hole_psnr("telea", crops)
    assert pconv >= telea + MARGIN_DB, f"PConv {pconv:.2f} dB vs Telea {telea:.2f} dB on the hole"
