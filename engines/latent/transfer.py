"""Transfer an edit seen in generated frames back onto the full-resolution photo (iGAN section 3.3).

``frames`` (float32 n x s x s x 3 in [0, 1], frame 0 = the projection G(z0), the last = the edit
G(z1)) describe the change; the photo is ``H x W x 3`` in [0, 1] (any aspect: the frames are
stretched onto it, the same way the projection squashed it).

1. **Motion**: OpenCV Farnebäck flow between consecutive frames, chained from the last frame back
   to the first, gives for every pixel of the edit where it came from in the projection; it is
   scaled up to the photo and the photo is warped along it.
2. **Colour**: a locally affine colour transform (per channel, guided-filter style: in each window
   ``edit ≈ a * warped_projection + b``) is fitted at frame resolution, its ``a``/``b`` maps are
   upsampled and applied to the warped *photo*, so the photo's own detail is multiplied, not
   replaced by the generator's blur.
3. **Residual**: the result is blended into the photo with a soft mask of where the frames
   changed; elsewhere the photo's pixels are returned unchanged (the projection residual —
   everything the generator could not reproduce — survives outside the edit).
4. **Region** (optional, the editor's "Keep the rest"): the mask is also multiplied by a soft
   region grown from the user's strokes (:func:`stroke_region`), so however much the generated
   frames change elsewhere — and on a photo far from the model's domain they change everywhere,
   the projection being a generic image of the domain — the photo outside it is returned
   bit-exact.
"""

from __future__ import annotations

import cv2
import numpy as np

WORK = 128  # frames are upsampled to this for the flow (Farnebäck needs a few pixels of texture)


def _grey_u8(frame: np.ndarray, side: int) -> np.ndarray:
    img = cv2.resize(frame, (side, side), interpolation=cv2.INTER_CUBIC)
    return np.clip(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense flow from grey ``a`` to grey ``b`` (a(p) ≈ b(p + flow(p))), float32 h x w x 2."""
    return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 11, 3, 5, 1.1, 0)


def _sample(field: np.ndarray, flow: np.ndarray, border=cv2.BORDER_REPLICATE) -> np.ndarray:
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(field, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=border)


MOTION_SIGMA = 4.0  # px at WORK: the flow is smoothed over about a window's width
MOTION_DEADZONE = (0.75, 1.5)  # px at WORK: motion below the first is dropped, full from the second


def backward_flow(frames: np.ndarray, side: int = WORK, cancel=None) -> np.ndarray:
    """For every pixel of the last frame, the displacement to where it was in frame 0
    (float32 side x side x 2, in ``side`` pixels), chained through the intermediate frames.

    The chained flow is then smoothed and small motions are faded out: between two blurry
    generated frames whose colours changed, Farnebäck also reports sub-pixel "motion" everywhere,
    and applied to a sharp photo that reads as a wobble of every straight edge. Real shape edits
    move whole regions by several pixels and survive both steps."""
    greys = [_grey_u8(f, side) for f in frames]
    total = np.zeros((side, side, 2), np.float32)
    # walk back: total_{k} maps last -> frame k; add the flow k -> k-1 sampled at the moved point
    for k in range(len(greys) - 1, 0, -1):
        if cancel is not None:
            cancel.raise_if_cancelled()
        step = _flow(greys[k], greys[k - 1])  # frame k pixel -> frame k-1 position
        total = total + _sample(step, total)
    total = cv2.GaussianBlur(total, (0, 0), MOTION_SIGMA * side / WORK)
    lo, hi = (v * side / WORK for v in MOTION_DEADZONE)
    keep = np.clip((np.linalg.norm(total, axis=2) - lo) / (hi - lo), 0.0, 1.0)
    return (total * keep[..., None]).astype(np.float32)


def local_affine(src: np.ndarray, dst: np.ndarray, radius: int = 4, eps: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel ``a``, ``b`` (float32 h x w x 3) with ``dst ≈ a * src + b`` in each
    (2 radius + 1)^2 window, ridge-regularised towards ``a = 1`` (not 0 as in the guided filter):
    where ``src`` is flat the fit becomes a pure colour shift, so the photo's texture, which the
    generator's flat projection does not show, is kept rather than flattened."""
    k = (2 * radius + 1, 2 * radius + 1)
    box = lambda x: cv2.boxFilter(x, -1, k, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    mi, md = box(src), box(dst)
    cov = box(src * dst) - mi * md
    var = box(src * src) - mi * mi
    a = (cov + eps) / (var + eps)
    b = md - a * mi
    return box(a), box(b)  # averaged over the windows each pixel is in (smooth maps)


def change_mask(frames: np.ndarray, flow: np.ndarray, threshold: float = 0.04) -> np.ndarray:
    """Soft mask (float32 s x s in [0, 1]) of where the edit changed the generated image: colour
    difference or motion above ``threshold`` (colour in [0, 1] units; motion in pixels / 4)."""
    s = frames.shape[1]
    diff = np.abs(frames[-1] - frames[0]).max(axis=2)
    motion = cv2.resize(np.linalg.norm(flow, axis=2), (s, s), interpolation=cv2.INTER_AREA) * (s / flow.shape[0]) / 4.0
    m = np.maximum(diff, motion)
    m = cv2.GaussianBlur(m, (0, 0), 1.5)
    return np.clip((m - threshold) / threshold, 0.0, 1.0).astype(np.float32)


REGION_GROW = 1 / 32  # of the photo's shorter side: fully editable this far around a stroke
REGION_FADE = 1 / 32  # then fading to 0 over this much more


def stroke_region(painted: np.ndarray, keep: np.ndarray | None = None, grow: float = REGION_GROW,
                  fade: float = REGION_FADE) -> np.ndarray:
    """Where an edit may change the photo: ``painted`` (float32 H x W, stroke coverage or edge
    strength, > 0.01 counts) grown by ``grow`` x the shorter side, then a linear fade to 0 over
    ``fade`` x the side more; times ``1 - keep`` (H x W, the user's keep strokes) when given.
    float32 H x W in [0, 1]; all zeros when nothing is painted."""
    painted = np.asarray(painted, np.float32)
    h, w = painted.shape[:2]
    inside = painted > 0.01
    if not inside.any():
        return np.zeros((h, w), np.float32)
    side = min(h, w)
    dist = cv2.distanceTransform((~inside).astype(np.uint8), cv2.DIST_L2, 5)
    r0, r1 = grow * side, max(1.0, fade * side)
    region = np.clip(1.0 - (dist - r0) / r1, 0.0, 1.0)
    if keep is not None:
        region = region * (1.0 - np.clip(np.asarray(keep, np.float32), 0.0, 1.0))
    return region.astype(np.float32)


def transfer_edit(photo: np.ndarray, frames: np.ndarray, cancel=None,
                  region: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(edited photo float32 H x W x 3 in [0, 1], mask H x W in [0, 1] of where it changed).
    ``region``: float32 H x W in [0, 1], where the edit may act (see :func:`stroke_region`);
    None = wherever the frames changed (the paper)."""
    photo = np.ascontiguousarray(photo, np.float32)
    frames = np.ascontiguousarray(frames, np.float32)
    h, w = photo.shape[:2]
    s = frames.shape[1]
    flow = backward_flow(frames, WORK, cancel)
    if cancel is not None:
        cancel.raise_if_cancelled()
    # motion: the photo warped along the flow, scaled from WORK pixels to photo pixels
    big = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
    big[..., 0] *= w / WORK
    big[..., 1] *= h / WORK
    warped = _sample(photo, big, cv2.BORDER_REFLECT)
    # colour: fit at frame resolution between the projection warped the same way and the edit
    small = cv2.resize(flow, (s, s), interpolation=cv2.INTER_AREA) * (s / WORK)
    src = _sample(frames[0], small)
    a, b = local_affine(src, frames[-1], radius=max(2, s // 16))
    a_big = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
    b_big = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
    edited = np.clip(a_big * warped + b_big, 0.0, 1.0)
    mask = cv2.resize(change_mask(frames, flow), (w, h), interpolation=cv2.INTER_LINEAR)
    if region is not None:
        region = np.asarray(region, np.float32)
        if region.shape != (h, w):
            raise ValueError(f"region must be {(h, w)}, got {region.shape}")
        mask = mask * np.clip(region, 0.0, 1.0)
    mask = np.clip(mask, 0.0, 1.0)[..., None]
    out = photo * (1.0 - mask) + edited * mask
    out[mask[..., 0] <= 0.0] = photo[mask[..., 0] <= 0.0]  # bit-exact outside the edit
    return out.astype(np.float32), mask[..., 0]
