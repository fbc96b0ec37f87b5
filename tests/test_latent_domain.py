"""Issue 20, iGAN: "Keep the rest" confines the edit to a region grown from the strokes on any
photo (bit-exact elsewhere), and the far-from-the-domain verdict of a projection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engines.core.protocol import EngineError, LatentEditRequest, RunContext, drive
from engines.latent.domain_check import FAR_MESSAGE, calibrate, domain_score, threshold_for, verdict
from engines.latent.transfer import stroke_region, transfer_edit

from latent_models import tiny_engine

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    torch.set_num_threads(1)
    return tiny_engine(str(tmp_path_factory.getbasetemp() / "igan-tiny"))


def test_stroke_region_grows_from_the_strokes_and_fades():
    painted = np.zeros((128, 96), np.float32)
    painted[60:64, 40:44] = 1.0
    region = stroke_region(painted)  # grow 1/32 of 96 = 3 px, fade over 3 px more
    assert region.shape == (128, 96) and region.dtype == np.float32
    assert region[62, 42] == 1.0 and region[62, 46] == 1.0  # on and 3 px beside the stroke
    assert 0.0 < region[62, 48] < 1.0  # fading
    assert region[62, 52] == 0.0 and region[0, 0] == 0.0 and region[127, 95] == 0.0
    keep = np.zeros_like(painted)
    keep[:, 42:] = 1.0
    cut = stroke_region(painted, keep)
    assert cut[62, 41] == 1.0 and cut[62, 43] == 0.0  # the user's keep strokes are cut out
    assert not stroke_region(np.zeros((8, 8), np.float32)).any()


def test_transfer_with_a_region_is_bit_exact_outside_it_even_when_everything_changed():
    rng = np.random.default_rng(3)
    photo = rng.random((100, 100, 3)).astype(np.float32)
    frames = np.stack([np.full((32, 32, 3), (0.4 + 0.4 * t, 0.5, 0.6 - 0.3 * t), np.float32)
                       for t in np.linspace(0, 1, 5)])  # the whole generated image turns peach
    free, _ = transfer_edit(photo, frames)
    assert np.abs(free - photo).mean() > 0.05  # without a region the whole photo is tinted
    region = np.zeros((100, 100), np.float32)
    region[40:60, 40:60] = 1.0
    out, mask = transfer_edit(photo, frames, region=region)
    assert np.array_equal(out[region == 0], photo[region == 0])
    assert np.abs(out - photo)[50, 50].mean() > 0.05 and mask[50, 50] > 0.9  # the edit happens inside
    with pytest.raises(ValueError, match="region"):
        transfer_edit(photo, frames, region=np.ones((10, 10), np.float32))


def _noise_photo(side=96, seed=0):
    """A photo the shapes model cannot know: coloured noise over a gradient."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, side, dtype=np.float32)[:, None, None]
    return np.clip(0.3 + 0.4 * ramp + 0.25 * rng.standard_normal((side, side, 3)), 0, 1).astype(np.float32)


def test_keep_rest_confines_the_edit_to_the_strokes_on_an_outside_photo(engine):
    photo = _noise_photo()
    strokes = np.zeros((96, 96, 4), np.float32)
    yy, xx = np.mgrid[:96, :96]
    disc = (yy - 40) ** 2 + (xx - 50) ** 2 <= 10 ** 2
    strokes[disc] = (0.95, 0.05, 0.05, 1.0)
    z0 = drive(engine.run(LatentEditRequest(image=photo, mode="project", iterations=10), RunContext())).latent
    req = dict(image=photo, latent=z0, color_strokes=strokes, starts=4, iterations=20, candidates=2)
    free = drive(engine.run(LatentEditRequest(**req), RunContext()))
    kept = drive(engine.run(LatentEditRequest(**req, keep_rest=0.3), RunContext()))
    region = stroke_region(strokes[..., 3])
    assert np.array_equal(kept.image[region == 0], photo[region == 0])  # bit-exact away from the strokes
    assert np.abs(kept.image - photo)[~disc].mean() * 255 <= 3.0  # the goal: <= 3 levels
    assert np.abs(kept.image - photo)[~disc].mean() <= np.abs(free.image - photo)[~disc].mean()
    # a transfer of the chosen candidate with the same strokes is confined the same way
    again = drive(engine.run(LatentEditRequest(image=photo, mode="transfer", latent=z0, target=kept.latent,
                                               color_strokes=strokes, keep_rest=0.3), RunContext()))
    assert np.array_equal(again.image[region == 0], photo[region == 0])
    with pytest.raises(EngineError, match="keep_mask"):
        drive(engine.run(LatentEditRequest(image=photo, mode="transfer", latent=z0, target=kept.latent,
                                           keep_mask=np.zeros((5, 5), np.float32)), RunContext()))


def test_domain_score_and_verdict():
    rng = np.random.default_rng(0)
    photo = np.clip(0.5 + 0.2 * rng.standard_normal((64, 64, 3)), 0, 1).astype(np.float32)
    import cv2

    close = np.clip(photo + 0.02 * rng.standard_normal(photo.shape), 0, 1).astype(np.float32)
    unrelated = cv2.GaussianBlur(rng.random((64, 64, 3)).astype(np.float32), (0, 0), 4.0)
    assert domain_score(photo, close) < domain_score(photo, unrelated) - 3.0
    v = verdict(domain_score(photo, unrelated), threshold=domain_score(photo, close) + 1.0, domain="facades")
    assert v.far and v.message == FAR_MESSAGE.format(domain="facades")
    assert "far from what the facades model knows; edits will be coarse" in v.message
    near = verdict(domain_score(photo, close), threshold=v.threshold, domain="facades")
    assert not near.far and near.message == ""
    assert not verdict(99.0, None).far  # no calibrated threshold: no verdict
    assert calibrate(range(100)) == pytest.approx(89.1)
    assert threshold_for(-4.0, "hybrid") == -4.0 and threshold_for(-4.0, "encoder") is None
    assert threshold_for({"encoder": -3.0, "optimize": None}, "encoder") == -3.0
    assert threshold_for({"encoder": -3.0}, "optimize") is None and threshold_for(None, "hybrid") is None
    with pytest.raises(ValueError, match="at least 5"):
        calibrate([1.0, 2.0])
    with pytest.raises(ValueError, match="differ"):
        domain_score(photo, photo[:32, :32])
    with pytest.raises(ValueError, match="NaN"):
        domain_score(np.full((16, 16, 3), np.nan, np.float32), np.zeros((16, 16, 3), np.float32))


def test_projection_reports_the_domain_verdict(engine):
    photo = _noise_photo(64, 2)
    r = drive(engine.run(LatentEditRequest(image=photo, mode="project", iterations=5), RunContext()))
    d = r.extras["domain"]
    assert d["threshold"] is None and not d["far"] and np.isfinite(d["score"])  # an uncalibrated model
    engine.domain, engine.domain_threshold = "shapes", d["score"] - 1.0  # a number: hybrid projections
    try:
        d = drive(engine.run(LatentEditRequest(image=photo, mode="project", iterations=5), RunContext())).extras["domain"]
        enc = drive(engine.run(LatentEditRequest(image=photo, mode="project", projection="encoder"),
                               RunContext())).extras["domain"]
    finally:
        engine.domain, engine.domain_threshold = "", None
    assert d["far"] and d["message"] == FAR_MESSAGE.format(domain="shapes")
    assert enc["threshold"] is None and not enc["far"]  # not calibrated for encoder-only projections


@pytest.mark.data
@pytest.mark.slow
def test_bundled_facades_model_flags_outside_photos_but_not_facades(shared_data):
    """Held-out facades/test photos pass; the bundled sample photos (an astronaut, a cat, a cup of
    coffee, a rocket) are flagged. Threshold calibrated on facades/train only."""
    from engines.latent.domain_check import THRESHOLDS
    from engines.latent.engine import LatentEngine
    from engines.train_data import load_rgb

    weights = ROOT / "resources" / "weights"
    eng = LatentEngine.from_files(weights / "igan-facades.safetensors", weights / "igan-facades.encoder.safetensors")
    eng.domain, eng.domain_threshold = "facades", THRESHOLDS["igan-facades"]
    torch.set_num_threads(1)

    def far(img: np.ndarray) -> bool:
        side = min(img.shape[:2])
        y, x = (img.shape[0] - side) // 2, (img.shape[1] - side) // 2
        sq = img[y:y + side, x:x + side].astype(np.float32) / 255.0
        return drive(eng.run(LatentEditRequest(image=sq, mode="project"), RunContext())).extras["domain"]["far"]

    facades = [load_rgb(shared_data / "facades" / "test" / f"{i}.jpg", facades_photo_half=True) for i in range(1, 7)]
    assert sum(far(p) for p in facades) <= 1
    samples = [load_rgb(p) for p in sorted((ROOT / "resources" / "samples").glob("*.[pj]*g"))]
    assert len(samples) >= 3 and sum(far(p) for p in samples) >= len(samples) - 1
