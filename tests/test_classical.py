"""Classical engines (bicubic, lanczos, telea, ns) through the engine protocol, without Qt."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engines.core import (
    Cancelled,
    CancelToken,
    EngineError,
    InpaintRequest,
    Progress,
    Result,
    RunContext,
    Task,
    UpscaleRequest,
    drive,
    get,
    infos,
)
from engines.core.protocol import events


def gradient(h, w):
    """A smooth RGB image: linear ramps (float32 in [0, 1])."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([xx / w, yy / h, 0.25 + 0.5 * (xx + yy) / (h + w)], axis=-1).astype(np.float32)


def noise(h, w, seed=0):
    return np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)


def hole(h, w, y0, y1, x0, x1):
    mask = np.zeros((h, w), np.float32)
    mask[y0:y1, x0:x1] = 1.0
    return mask


def test_registry_lists_the_four():
    assert {i.id for i in infos(Task.UPSCALE)} >= {"bicubic", "lanczos"}
    assert {i.id for i in infos(Task.INPAINT)} >= {"telea", "ns"}
    engine = get("upscale", "bicubic")
    assert engine.info.id == "bicubic" and engine.info.task == Task.UPSCALE
    assert get(Task.UPSCALE, "bicubic") is engine
    for task, model in [("upscale", "lanczos"), ("inpaint", "telea"), ("inpaint", "ns")]:
        info = get(task, model).info
        assert info.license == "BSD-3-Clause (OpenCV)" and not info.uses_torch
    with pytest.raises(EngineError, match="no upscale engine 'nope'.*bicubic"):
        get("upscale", "nope")


def test_bicubic_2x_of_gradient_matches_analytic():
    h, w, s = 40, 60, 2
    image = gradient(h, w)
    result = drive(get("upscale", "bicubic").run(UpscaleRequest(image, scale=s), RunContext()))
    assert isinstance(result, Result) and result.extras == {"scale": 2}
    out = result.image
    assert out.shape == (h * s, w * s, 3) and out.dtype == np.float32
    # Output pixel j samples input coordinate (j + 0.5) / s - 0.5. OpenCV's cubic (a = -0.75)
    # reproduces a linear ramp to ~5% of one input step (steepest ramp here: 1/40 per pixel ->
    # ~1.2e-3); nearest neighbour would be off by a quarter step (~6e-3).
    yy, xx = np.mgrid[0 : h * s, 0 : w * s].astype(np.float32)
    sx, sy = (xx + 0.5) / s - 0.5, (yy + 0.5) / s - 0.5
    analytic = np.stack([sx / w, sy / h, 0.25 + 0.5 * (sx + sy) / (h + w)], axis=-1)
    inner = (slice(4, -4), slice(4, -4))  # borders are clamped, not extrapolated
    assert np.abs(out[inner] - analytic[inner]).max() < 2e-3


@pytest.mark.parametrize("model", ["bicubic", "lanczos"])
@pytest.mark.parametrize("scale", [2, 3, 4, 8])
def test_output_shape_and_range(model, scale):
    image = noise(7, 11)
    out = drive(get("upscale", model).run(UpscaleRequest(image, scale=scale), RunContext())).image
    assert out.shape == (7 * scale, 11 * scale, 3) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0  # overshoot clipped


@pytest.mark.parametrize(
    "model,flag,tol", [("bicubic", cv2.INTER_CUBIC, 1e-5), ("lanczos", cv2.INTER_LANCZOS4, 2e-4)]
)
def test_tiled_upscale_matches_single_shot(model, flag, tol):
    image = noise(130, 170, seed=3)
    seen = []
    gen = get("upscale", model).run(UpscaleRequest(image, scale=3, tile=64), RunContext())
    result = drive(gen, seen.append)
    full = np.clip(cv2.resize(image, (510, 390), interpolation=flag), 0, 1)
    # OpenCV's own float kernels differ by ~1e-5 between crops (SIMD paths), hence the tolerance.
    assert np.abs(result.image - full).max() < tol
    assert len(seen) > 4 and all(isinstance(e, Progress) for e in seen)
    assert seen[-1].done == seen[-1].total


@pytest.mark.parametrize(
    "request_, message",
    [
        (UpscaleRequest(noise(8, 8), scale=5), "scale must be one of 2, 3, 4, 8"),
        (UpscaleRequest(noise(8, 8).astype(np.float64)), "float32 in \\[0, 1\\], got float64"),
        (UpscaleRequest(noise(8, 8) * 255), "values must be in \\[0, 1\\]"),
        (UpscaleRequest(noise(8, 8)[:, :, :2]), "HxWx3 RGB, got shape \\(8, 8, 2\\)"),
        (UpscaleRequest(np.full((4, 4, 3), np.nan, np.float32)), "NaN"),
        (InpaintRequest(noise(8, 8), np.zeros((8, 8), np.float32)), "needs an UpscaleRequest"),
    ],
)
def test_upscale_bad_input_is_clear(request_, message):
    with pytest.raises(EngineError, match=message):
        drive(get("upscale", "bicubic").run(request_, RunContext()))


@pytest.mark.parametrize("model", ["telea", "ns"])
def test_inpaint_fills_smooth_hole_and_keeps_other_pixels_exact(model):
    image = gradient(100, 120)
    mask = hole(100, 120, 40, 60, 50, 70)
    mask[10, 10] = 0.4  # below 0.5: not filled
    result = drive(get("inpaint", model).run(InpaintRequest(image, mask, radius=5), RunContext()))
    out, fill = result.image, mask > 0.5
    assert out.dtype == np.float32 and out.shape == image.shape
    assert np.array_equal(out[~fill], image[~fill])  # bit-exact outside the mask
    err = np.abs(out[fill] - image[fill])
    assert err.mean() < 0.03 and err.max() < 0.1
    assert result.image is not image and np.array_equal(image, gradient(100, 120))  # input untouched


def test_inpaint_hole_at_image_edge_and_big_image_crop():
    image = gradient(600, 800)
    mask = hole(600, 800, 0, 12, 780, 800)  # corner hole; only a small crop is processed
    out = drive(get("inpaint", "telea").run(InpaintRequest(image, mask), RunContext())).image
    fill = mask > 0.5
    assert np.array_equal(out[~fill], image[~fill])
    assert np.abs(out[fill] - image[fill]).mean() < 0.03


def test_mask_size_mismatch_message():
    image = noise(480, 640)
    mask = np.zeros((200, 300), np.float32)
    with pytest.raises(EngineError, match="^mask is 300x200 but the image is 640x480$"):
        drive(get("inpaint", "telea").run(InpaintRequest(image, mask), RunContext()))


@pytest.mark.parametrize(
    "mask, message",
    [
        (np.zeros((8, 8), np.uint8), "mask must be float32"),
        (np.full((8, 8), 255, np.float32), "mask values must be in \\[0, 1\\]"),
        (np.zeros((8, 8, 3), np.float32), "mask is shaped \\(8, 8, 3\\) but the image is 8x8"),
        (np.ones((8, 8), np.float32), "covers the whole image"),
    ],
)
def test_inpaint_bad_mask_is_clear(mask, message):
    with pytest.raises(EngineError, match=message):
        drive(get("inpaint", "ns").run(InpaintRequest(noise(8, 8), mask), RunContext()))


def test_inpaint_bad_radius_and_empty_mask():
    image = noise(8, 8)
    with pytest.raises(EngineError, match="radius"):
        req = InpaintRequest(image, hole(8, 8, 2, 4, 2, 4), radius=0)
        drive(get("inpaint", "telea").run(req, RunContext()))
    req = InpaintRequest(image, np.zeros((8, 8), np.float32))
    out = drive(get("inpaint", "telea").run(req, RunContext())).image
    assert np.array_equal(out, image) and out is not image


def test_inpaint_progress_per_channel():
    req = InpaintRequest(gradient(30, 30), hole(30, 30, 10, 20, 10, 20))
    evs = list(events(get("inpaint", "ns").run(req, RunContext())))
    assert [(e.done, e.total) for e in evs] == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.parametrize(
    "task, request_",
    [
        ("upscale", UpscaleRequest(noise(200, 200), scale=2, tile=48)),
        ("inpaint", InpaintRequest(gradient(40, 40), hole(40, 40, 10, 20, 10, 20))),
    ],
)
def test_cancel(task, request_):
    model = "bicubic" if task == "upscale" else "telea"
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        drive(get(task, model).run(request_, RunContext(cancel=token)))
    # Cancelling after the first step stops before the second one finishes.
    token = CancelToken()
    seen = []

    def on_event(event):
        seen.append(event)
        token.cancel()

    with pytest.raises(Cancelled):
        drive(get(task, model).run(request_, RunContext(cancel=token)), on_event)
    assert len(seen) == 1
