"""The iGAN engine on a tiny generator trained in the test session on synthetic shapes:
projection, constrained colour / sketch edits, transfer back to the photo, cancel, registry."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engines.core.cancel import Cancelled, CancelToken
from engines.core.protocol import EngineError, LatentEditRequest, Preview, Progress, RunContext, Task, drive
from engines.latent.domains import shapes

from latent_models import tiny_checkpoint, tiny_engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    torch.set_num_threads(1)
    return tiny_engine(str(tmp_path_factory.getbasetemp() / "igan-tiny"))


def _photo(seed: int = 5, side: int = 96) -> np.ndarray:
    import cv2

    img = shapes(1, 32, seed=seed)[0].astype(np.float32) / 255.0
    return np.clip(cv2.resize(img, (side, side), interpolation=cv2.INTER_CUBIC), 0, 1).astype(np.float32)


def _project(engine, photo, method, steps=30):
    return drive(engine.run(LatentEditRequest(image=photo, mode="project", projection=method, iterations=steps),
                            RunContext()))


def test_optimisation_lowers_projection_error(engine):
    from engines.latent.project import project

    model = engine.model()
    target = model.to_net(_photo())
    gen = project(model, target, "optimize", steps=30, starts=2)
    first = None
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            final = stop.value
            break
    with torch.no_grad():
        from engines.latent.project import reconstruction_loss

        first = float(reconstruction_loss(model.render(model.sample_z(2, 0)), target.expand(2, -1, -1, -1)).min())
    assert final.loss < 0.9 * first  # a 100-step 16-px generator: modest, but clearly falling


def test_hybrid_is_no_worse_than_encoder_only(engine):
    for seed in (1, 2, 3):
        photo = _photo(seed)
        enc = _project(engine, photo, "encoder")
        hyb = _project(engine, photo, "hybrid")
        assert hyb.extras["psnr"] >= enc.extras["psnr"] - 1e-3
        assert enc.latent.shape == (16,) and hyb.image.shape == photo.shape


def test_colour_edit_reduces_stroke_error_and_returns_ranked_candidates(engine):
    photo = _photo(7)
    z0 = _project(engine, photo, "hybrid").latent
    strokes = np.zeros(photo.shape[:2] + (4,), np.float32)
    strokes[30:60, 30:60] = (0.9, 0.1, 0.1, 1.0)
    events = []
    r = drive(engine.run(LatentEditRequest(image=photo, latent=z0, color_strokes=strokes, starts=8,
                                           iterations=30, candidates=4), RunContext()), events.append)
    assert r.extras["color_error_after"] < 0.85 * r.extras["color_error_before"]
    costs = [c["cost"] for c in r.extras["candidates"]]
    assert len(costs) == 4 and costs == sorted(costs)
    s = engine.model().size
    assert r.extras["frames"].shape == (16, s, s, 3)
    assert r.image.shape == photo.shape and r.image.dtype == np.float32
    assert any(isinstance(e, Preview) for e in events) and any(isinstance(e, Progress) for e in events)


def test_sketch_and_keep_constraints_run(engine):
    photo = _photo(8)
    sketch = np.zeros(photo.shape[:2], np.float32)
    sketch[20:76, 48] = 1.0
    keep = np.zeros(photo.shape[:2], np.float32)
    keep[:, :20] = 1.0
    r = drive(engine.run(LatentEditRequest(image=photo, sketch_strokes=sketch, keep_mask=keep, starts=4,
                                           iterations=10, candidates=2), RunContext()))
    assert len(r.extras["candidates"]) == 2 and np.isfinite(r.image).all()


def test_transfer_keeps_pixels_outside_the_edit():
    from engines.latent.transfer import transfer_edit

    rng = np.random.default_rng(0)
    photo = rng.random((120, 90, 3)).astype(np.float32)  # detail the generator could never make
    frames = np.full((4, 32, 32, 3), 0.5, np.float32)
    for i, t in enumerate(np.linspace(0, 1, 4)):
        frames[i, 10:18, 10:18] = (0.5 + 0.4 * t, 0.5, 0.5 - 0.4 * t)  # a patch turns red
    out, mask = transfer_edit(photo, frames)
    far = mask <= 0
    assert far.mean() > 0.5
    assert np.array_equal(out[far], photo[far])  # bit-exact outside the edit
    inside = mask > 0.99
    assert inside.any()
    assert out[inside][:, 0].mean() > photo[inside][:, 0].mean() + 0.1  # redder where edited
    assert np.std(out[inside][:, 1]) > 0.1  # the photo's texture survives inside (affine, not pasted)


def test_transfer_moves_content_along_the_flow():
    from engines.latent.transfer import backward_flow

    frames = np.zeros((5, 32, 32, 3), np.float32)
    for i in range(5):
        frames[i, 12:20, 8 + i:16 + i] = 1.0  # a square moving right by 1 px per frame
    flow = backward_flow(frames, side=64)
    centre = flow[32, 32 + 8]  # a pixel inside the square in the last frame (64-px units)
    assert centre[0] < -3.0  # it came from the left


def test_transfer_does_not_wobble_on_a_colour_only_change():
    """Blurry generated frames whose colours change also give Farnebäck sub-pixel "motion"
    everywhere; applied to a sharp photo that bends every straight edge. It must be dropped."""
    import cv2

    from engines.latent.transfer import backward_flow

    rng = np.random.default_rng(1)
    base = cv2.GaussianBlur(rng.random((32, 32, 3)).astype(np.float32), (0, 0), 2.0)
    frames = np.stack([np.clip(base * (1 + 0.3 * t) + 0.01 * rng.standard_normal(base.shape), 0, 1)
                       for t in np.linspace(0, 1, 8)]).astype(np.float32)  # brighter + a little noise
    flow = backward_flow(frames, side=128)
    assert np.abs(flow).max() < 0.5  # px at 128: no visible warp


def test_cancel_between_iterations(engine):
    photo = _photo(9)
    token = CancelToken()
    gen = engine.run(LatentEditRequest(image=photo, mode="project", projection="optimize", iterations=200),
                     RunContext(cancel=token))
    seen = 0
    with pytest.raises(Cancelled):
        for event in gen:
            if isinstance(event, Progress) and event.done >= 3:
                token.cancel()
            seen += 1
    assert seen < 20


def test_random_and_transfer_modes(engine):
    photo = _photo(10)
    a = drive(engine.run(LatentEditRequest(image=photo, mode="random", seed=3), RunContext()))
    b = drive(engine.run(LatentEditRequest(image=photo, mode="random", seed=3), RunContext()))
    assert np.array_equal(a.latent, b.latent) and a.image.shape == photo.shape
    z0 = _project(engine, photo, "encoder").latent
    r = drive(engine.run(LatentEditRequest(image=photo, mode="transfer", latent=z0, target=a.latent, frames=4),
                         RunContext()))
    assert r.extras["frames"].shape[0] == 4 and np.allclose(r.latent, a.latent)
    gen = drive(engine.run(LatentEditRequest(image=photo, mode="transfer", latent=z0, target=a.latent,
                                             base="generated"), RunContext()))
    assert np.abs(gen.image - a.image).max() < 0.05


def test_bad_requests_are_clear_errors(engine):
    photo = _photo(11)
    with pytest.raises(EngineError, match="Paint a colour stroke"):
        drive(engine.run(LatentEditRequest(image=photo, latent=np.zeros(16, np.float32)), RunContext()))
    with pytest.raises(EngineError, match="16"):
        drive(engine.run(LatentEditRequest(image=photo, mode="transfer", latent=np.zeros(100, np.float32),
                                           target=np.zeros(16, np.float32)), RunContext()))
    with pytest.raises(EngineError, match="color_strokes"):
        drive(engine.run(LatentEditRequest(image=photo, latent=np.zeros(16, np.float32),
                                           color_strokes=np.zeros((5, 5, 4), np.float32)), RunContext()))
    with pytest.raises(EngineError, match="mode"):
        drive(engine.run(LatentEditRequest(image=photo, mode="nope"), RunContext()))


def test_registry_offers_only_cards_with_weights(tmp_path, tmp_path_factory):
    from engines.core import registry
    from engines.latent.engine import latent_cards, register_models
    from engines.latent.train import export_igan

    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "ghost.json").write_text(json.dumps({"id": "ghost", "file": "ghost.safetensors", "task": "latent"}))
    assert latent_cards([folder]) == []
    assert register_models([folder]) == []
    ckpt = tiny_checkpoint(str(tmp_path_factory.getbasetemp() / "igan-tiny"))
    dest = export_igan(ckpt, folder / "shapes.safetensors", figure_images=2)
    card = json.loads((folder / "shapes.json").read_text())
    assert card["task"] == "latent" and card["encoder"] == "shapes.encoder.safetensors"
    assert (folder / "shapes.samples.png").is_file() and (folder / "shapes.md").is_file()
    assert "psnr_hybrid" in card["projection"]
    ids = register_models([folder])
    try:
        assert ids == [card["id"], "default"]
        engine = registry.get(Task.LATENT, "default")
        r = drive(engine.run(LatentEditRequest(image=_photo(12), mode="project"), RunContext()))
        assert r.latent.shape == (16,)
        assert dest.stat().st_size < 20 * 2**20
    finally:
        for model_id in ids:
            registry.unregister(Task.LATENT, model_id)


def test_dcgan_generator_imported_through_the_models_manager_is_offered(tmp_path):
    """A generator in the official DCGAN layout trained elsewhere (``netG.``-prefixed .pth) is
    recognised on import and registered; without an encoder it projects by optimisation."""
    from engines.core import registry
    from engines.latent.archs import DCGANGenerator
    from engines.latent.engine import register_models
    from engines.models.manager import import_path

    torch.save({"netG." + k: v for k, v in DCGANGenerator(nz=100, ngf=8).state_dict().items()},
               tmp_path / "netG_epoch_24.pth")
    gen = import_path(tmp_path / "netG_epoch_24.pth", "dcgan-elsewhere")
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            installed = stop.value
            break
    assert installed[0].task == Task.LATENT
    ids = register_models()
    try:
        assert "dcgan-elsewhere" in ids
        engine = registry.get(Task.LATENT, "dcgan-elsewhere")
        r = drive(engine.run(LatentEditRequest(image=_photo(13, 64), mode="project", iterations=3), RunContext()))
        assert r.latent.shape == (100,) and r.extras["projection_method"] == "optimize"
    finally:
        for model_id in ids:
            registry.unregister(Task.LATENT, model_id)


def test_keep_rest_region_is_far_from_the_strokes():
    from engines.latent.engine import far_from_strokes

    painted = np.zeros((64, 64), np.float32)
    painted[30:34, 30:34] = 1.0
    far = far_from_strokes(painted)
    assert far.shape == (64, 64) and far.dtype == np.float32
    assert far[32, 32] < 0.05 and far[32, 36] < 0.5  # on and right beside the stroke: free to change
    assert far[0, 0] > 0.99 and far[63, 5] > 0.99  # far away: kept
    assert 0.0 <= far.min() and far.max() <= 1.0


def test_keep_rest_holds_the_projection_away_from_the_strokes(engine):
    photo = _photo(7)
    z0 = _project(engine, photo, "hybrid").latent
    strokes = np.zeros(photo.shape[:2] + (4,), np.float32)
    strokes[30:50, 30:50] = (0.9, 0.1, 0.1, 1.0)
    s = engine.model().size
    outside = []
    for keep_rest in (0.0, 3.0):
        r = drive(engine.run(LatentEditRequest(image=photo, latent=z0, color_strokes=strokes, starts=4,
                                               iterations=30, candidates=2, keep_rest=keep_rest), RunContext()))
        frames = r.extras["frames"]  # s x s: frame 0 = G(z0), the last = the chosen edit
        far = np.ones((s, s), bool)
        far[: s * 3 // 4, : s * 3 // 4] = False  # the bottom/right band, far from the stroke
        outside.append(float(np.abs(frames[-1] - frames[0])[far].mean()))
    assert outside[1] < outside[0]  # kept: the generated image changes less away from the stroke
    with pytest.raises(EngineError, match="keep_rest"):
        drive(engine.run(LatentEditRequest(image=photo, latent=z0, color_strokes=strokes, keep_rest=-1.0),
                         RunContext()))
