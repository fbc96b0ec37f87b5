"""Shared tiling: coverage, seam-free blending, padding to a multiple, OOM retry, cancel, progress."""

from __future__ import annotations


import cv2
import numpy as np
import pytest

from engines import tiling
from engines.core import Cancelled, CancelToken, EngineError, Progress
from engines.tiling import auto_tile_size, plan_tiles, run_tiled


from generators import run_to_end as run  # noqa: E402 - a run_tiled generator: (output, events)


def rand(h, w, c=3, seed=0):
    return np.random.default_rng(seed).random((h, w, c), dtype=np.float32)


SIZES = [(1, 1), (1, 9), (9, 1), (5, 5), (31, 47), (64, 64), (65, 130), (200, 97)]
TILINGS = [(8, 0), (8, 2), (16, 4), (16, 7), (32, 8), (64, 15), (256, 32)]


@pytest.mark.parametrize("h,w", SIZES)
def test_plan_covers_with_bounded_tiles_and_overlaps(h, w):
    for tile, overlap in TILINGS:
        tiles = plan_tiles(h, w, tile, overlap)
        covered = np.zeros((h, w), int)
        for t in tiles:
            assert 0 <= t.y and t.y + t.h <= h and 0 <= t.x and t.x + t.w <= w
            assert t.h == min(tile, h) and t.w == min(tile, w)
            covered[t.y:t.y + t.h, t.x:t.x + t.w] += 1
        assert covered.min() >= 1
        ys = sorted({t.y for t in tiles})
        assert all(b - a <= tile - overlap for a, b in zip(ys, ys[1:]))  # overlap >= requested


def test_plan_rejects_bad_arguments():
    with pytest.raises(EngineError):
        plan_tiles(10, 10, 8, 8)
    with pytest.raises(EngineError):
        plan_tiles(0, 10, 8, 2)


@pytest.mark.parametrize("h,w", SIZES)
@pytest.mark.parametrize("multiple", [1, 4])
def test_identity_and_pointwise_are_exact(h, w, multiple):
    image = rand(h, w, seed=h * 1000 + w)

    def pointwise(x):
        return np.sqrt(x) * 0.5 + np.float32(0.1) * x * x

    def identity(x):
        assert x.shape[0] % multiple == 0 and x.shape[1] % multiple == 0  # padded to the multiple
        return x.copy()

    for tile, overlap in TILINGS:
        out, events = run(run_tiled(image, identity, 1, tile, overlap, CancelToken(), multiple))
        assert out.dtype == np.float32 and np.array_equal(out, image), (tile, overlap)
        out, _ = run(run_tiled(image, pointwise, 1, tile, overlap, CancelToken(), multiple))
        assert np.array_equal(out, pointwise(image)), (tile, overlap)


@pytest.mark.parametrize("scale,multiple", [(2, 1), (3, 8), (4, 2)])
def test_nearest_upscale_equals_full_image(scale, multiple):
    image = rand(45, 71, seed=scale)

    def nearest(x):
        return np.repeat(np.repeat(x, scale, axis=0), scale, axis=1)

    for tile, overlap in [(16, 4), (20, 8), (100, 10)]:
        out, _ = run(run_tiled(image, nearest, scale, tile, overlap, CancelToken(), multiple))
        assert out.shape == (45 * scale, 71 * scale, 3)
        assert np.array_equal(out, nearest(image))


def test_two_dimensional_input_and_channel_change():
    gray = rand(33, 50, 1)[:, :, 0]
    out, _ = run(run_tiled(gray, lambda x: x * 2, 1, 16, 4, CancelToken()))
    assert out.shape == gray.shape and np.array_equal(out, gray * 2)
    rgb = rand(33, 50)

    def to4(x):
        return x.mean(axis=2, keepdims=True).repeat(4, axis=2)

    out, _ = run(run_tiled(rgb, to4, 1, 16, 4, CancelToken()))
    assert out.shape == (33, 50, 4)
    np.testing.assert_allclose(out[:, :, 0], rgb.mean(axis=2), atol=1e-6)


def box_blur(x):
    return cv2.blur(x, (5, 5))  # radius 2, BORDER_REFLECT_101 (= numpy "reflect")


@pytest.mark.parametrize("multiple", [1, 8])
def test_convolution_with_enough_overlap_matches_untiled(multiple):
    """Overlap >= 4 * radius: the tile pixels that saw a reflected border get weight 0 -> exact."""
    image = rand(97, 131, seed=5)
    full = box_blur(image)
    for tile in (24, 40, 64):
        out, _ = run(run_tiled(image, box_blur, 1, tile, 8, CancelToken(), multiple))
        assert np.abs(out - full).max() < 1e-5, tile


def test_convolution_with_small_overlap_is_feathered_not_seamed():
    """Overlap below 4 * radius cannot be exact; the cross-fade must beat pasting tiles side by side."""
    image = rand(96, 96, seed=6)
    full = box_blur(image)
    feathered, _ = run(run_tiled(image, box_blur, 1, 32, 4, CancelToken()))
    pasted, _ = run(run_tiled(image, box_blur, 1, 32, 0, CancelToken()))
    err_feathered, err_pasted = np.abs(feathered - full).max(), np.abs(pasted - full).max()
    assert err_feathered < 0.5 * err_pasted  # stated tolerance: at least halves the seam error
    assert err_feathered < 0.1


def _oom_above(limit, kind="cuda"):
    calls = []

    def fn(x):
        calls.append(x.shape[:2])
        if max(x.shape[:2]) > limit:
            if kind == "cuda":
                raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
            if kind == "host":
                raise MemoryError()
            raise type("OutOfMemoryError", (RuntimeError,), {})("allocator failed")
        return x * 3

    return fn, calls


@pytest.mark.parametrize("kind", ["cuda", "host", "named"])
def test_out_of_memory_halves_tile_and_still_produces_right_output(kind):
    image = rand(150, 170, seed=7)
    fn, calls = _oom_above(64, kind)
    out, events = run(run_tiled(image, fn, 1, 256, 16, CancelToken()))
    assert np.array_equal(out, image * 3)
    messages = [e.message for e in events]
    assert "out of memory at tile 170 px; retrying with 85 px" in messages
    assert "out of memory at tile 85 px; retrying with 42 px" in messages
    assert max(max(s) for s in calls[2:]) <= 64  # after the two failures only small tiles ran


def test_is_out_of_memory():
    assert tiling.is_out_of_memory(MemoryError())
    assert tiling.is_out_of_memory(RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)"))
    assert tiling.is_out_of_memory(cv2.error("OpenCV: Insufficient memory (Failed to allocate 9 bytes)"))
    assert not tiling.is_out_of_memory(RuntimeError("expected input with 3 channels"))


def test_always_out_of_memory_is_a_clear_error():
    fn, _ = _oom_above(0)
    expected = r"out of memory even at tile \d+ px.*smaller image or run on the CPU"
    with pytest.raises(EngineError, match=expected):
        run(run_tiled(rand(100, 100), fn, 1, 128, 8, CancelToken(), min_tile=32))


def test_other_errors_propagate_unchanged():
    def broken(x):
        raise ValueError("bad kernel")

    with pytest.raises(ValueError, match="bad kernel"):
        run(run_tiled(rand(20, 20), broken, 1, 8, 2, CancelToken()))
    with pytest.raises(EngineError, match="tile function returned shape"):
        run(run_tiled(rand(20, 20), lambda x: x[:2], 1, 8, 2, CancelToken()))


def test_cancel_stops_within_one_tile():
    token = CancelToken()
    calls = []

    def fn(x):
        calls.append(1)
        if len(calls) == 2:
            token.cancel()  # e.g. the user pressed Stop while tile 2 ran
        return x

    with pytest.raises(Cancelled):
        run(run_tiled(rand(64, 64), fn, 1, 16, 4, token))
    assert len(calls) == 2


def test_progress_after_every_tile():
    image = rand(50, 70)
    out, events = run(run_tiled(image, lambda x: x, 1, 16, 4, CancelToken()))
    n = len(plan_tiles(50, 70, 16, 4))
    assert [e.done for e in events] == list(range(1, n + 1))
    assert all(isinstance(e, Progress) and e.total == n for e in events)
    _, single = run(run_tiled(image, lambda x: x, 1, 0, 4, CancelToken()))
    assert [(e.done, e.total) for e in single] == [(1, 1)]


def test_weights_are_feathered_only_between_tiles():
    t = plan_tiles(40, 40, 24, 8)
    first = tiling.tile_weights(t[0], 1, 8)
    assert first[0, 0] == 1.0 and first[-1, -1] == 0.0  # image corner kept, inner corner discarded
    assert np.all(np.diff(first[0, 10:]) <= 0)  # monotone ramp towards the neighbour


def test_auto_tile_size(monkeypatch):
    monkeypatch.setattr("engines.core.device.available_memory_bytes", lambda device: 1024**3)
    assert auto_tile_size("cpu", 1000) == 704  # sqrt(0.5 GiB / 1000 B) = 732 -> multiple of 32
    assert auto_tile_size("cpu", 1) == 1024  # capped
    assert auto_tile_size("cpu", 1e9) == 32  # floored
    with pytest.raises(EngineError):
        auto_tile_size("cpu", 0)


def test_many_random_combinations_identity():
    rng = np.random.default_rng(11)
    for _ in range(40):
        h, w, tile, overlap = (int(v) for v in rng.integers([1, 1, 4, 0], [90, 90, 70, 30]))
        image = rand(h, w, c=2, seed=h + w)
        out, _ = run(run_tiled(image, lambda x: x, 1, tile, overlap, CancelToken(), int(rng.integers(1, 9))))
        assert np.array_equal(out, image), (h, w, tile, overlap)
