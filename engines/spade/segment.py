"""A small facades segmentation net (photo -> 12 CMP classes): the bench scores synthesized photos
with it, and the editor's "Segment photo" turns a real photo into an editable label map.

Architecture: a ``levels``-level U-Net (conv-BN-ReLU pairs, max-pool down, bilinear up + skip),
``width`` channels at the top, doubling per level up to ``max_mult`` x width. Keys:
``enc{i}.{0,1,3,4}``, ``dec{i}...``, ``head``; levels and channels are read back from the key
names and shapes, so the first bundled model (4 levels, width 16) still loads.

Default 5 levels, channels capped at 8 x width: the fifth level costs little (it runs at 1/16 of
the side) and doubles the receptive field to about the whole 128² working image, which the
classes need (a shop is the bottom row, a cornice the top of a storey) once scale augmentation
takes away the absolute position as a cue.

Tensor contract of :class:`FacadeSegNet`: ``N x 3 x H x W`` in ``[-1, 1]`` (H, W multiples of
``net.multiple``) -> logits ``N x classes x H x W``. :func:`segment_photo` wraps it: float32
H x W x 3 in [0, 1] of any size -> int32 H x W class ids (the net runs at ``WORK_SIDE`` on the
longer side).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core.protocol import Task
from ..weights import ArchSpec, register_arch

WORK_SIDE = 256  # the facades are 256 x 256; larger photos are segmented at this size
LEVELS = 5
FUSE_SIDE = 1024  # px: multi-run probabilities of larger photos are averaged at this size, then upsampled
MAX_MULT = 8  # channels stop doubling at 8 x width (keeps the 5-level net at ~1.2 M parameters)


def _pair(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class FacadeSegNet(nn.Module):
    """U-Net segmentation.

    Args:
        classes: output classes (12 for CMP Facades).
        width: channels of the first level.
        levels: resolution levels (``levels - 1`` poolings); inputs must be multiples of
            ``2 ** (levels - 1)`` (:attr:`multiple`).
        max_mult: channels double per level up to ``max_mult * width``.
    """

    def __init__(self, classes: int = 12, width: int = 24, levels: int = LEVELS, max_mult: int = MAX_MULT) -> None:
        super().__init__()
        if levels < 2:
            raise ValueError(f"a U-Net needs at least 2 levels, got {levels}")
        self.classes, self.width, self.levels, self.max_mult = classes, width, levels, max_mult
        self.multiple = 2 ** (levels - 1)
        chans = [width * min(2**i, max_mult) for i in range(levels)]
        cin = 3
        for i, c in enumerate(chans):
            self.add_module(f"enc{i}", _pair(cin, c))
            cin = c
        for i in reversed(range(levels - 1)):  # upsampled deeper level + the skip of this one
            self.add_module(f"dec{i}", _pair(chans[i + 1] + chans[i], chans[i]))
        self.head = nn.Conv2d(chans[0], classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i in range(self.levels):
            x = getattr(self, f"enc{i}")(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for i in reversed(range(self.levels - 1)):
            x = F.interpolate(x, size=skips[i].shape[2:], mode="bilinear", align_corners=False)
            x = getattr(self, f"dec{i}")(torch.cat([x, skips[i]], 1))
        return self.head(x)


def _detect(sd) -> bool:
    return "head.weight" in sd and "enc0.0.weight" in sd and "dec0.0.weight" in sd and "enc1.0.weight" in sd


def _build(sd) -> tuple[nn.Module, dict[str, Any]]:
    classes = int(sd["head.weight"].shape[0])
    width = int(sd["enc0.0.weight"].shape[0])
    levels = 1 + max(int(k.split(".")[0][3:]) for k in sd if k.startswith("enc") and k.split(".")[0][3:].isdigit())
    max_mult = max(1, int(sd[f"enc{levels - 1}.0.weight"].shape[0]) // width)
    return (FacadeSegNet(classes, width, levels, max_mult),
            {"classes": classes, "width": width, "levels": levels, "max_mult": max_mult})


SEGNET_SPEC = register_arch(ArchSpec(
    name="facades-segnet", task=Task.SYNTHESIZE, detect=_detect, build=_build,
    required_keys=("enc0.0.weight", "enc1.0.weight", "dec0.0.weight", "head.weight"),
))


def to_input(photo: np.ndarray, side: int = WORK_SIDE, multiple: int = 8) -> tuple[torch.Tensor, tuple[int, int]]:
    """float32 H x W x 3 [0, 1] -> (1 x 3 x h x w in [-1, 1], with the longer side = ``side``,
    both multiples of ``multiple``; the original (H, W))."""
    import cv2

    h, w = photo.shape[:2]
    scale = side / max(h, w)
    th = max(multiple, int(round(h * scale / multiple)) * multiple)
    tw = max(multiple, int(round(w * scale / multiple)) * multiple)
    # INTER_AREA also when enlarging (a photo smaller than the run's side): at integer factors that is
    # nearest-neighbour. Checked against INTER_CUBIC, INTER_LINEAR + unsharp and our SR x2 / x4 net as a
    # pre-pass on facades train photos at 0.5 / 0.35 / 0.25 of their side: all within +-0.01 mIoU
    # (issue 20; figures in resources/weights/facades-segnet.md), so the cheapest stays.
    small = cv2.resize(np.ascontiguousarray(photo, np.float32), (tw, th), interpolation=cv2.INTER_AREA)
    x = torch.from_numpy(small.transpose(2, 0, 1).copy())[None] * 2.0 - 1.0
    return x, (h, w)


def segment_logits(net: FacadeSegNet, photo: np.ndarray, device: str = "cpu", side: int = WORK_SIDE,
                   out_hw: tuple[int, int] | None = None) -> torch.Tensor:
    """float32 logits ``1 x classes x H x W`` at the photo's own size, or at ``out_hw`` (the net
    runs with the longer side = ``side``; upsampled bilinearly)."""
    x, (h, w) = to_input(photo, side, getattr(net, "multiple", 8))
    net = net.eval()
    with torch.inference_mode():
        logits = net(x.to(device)).float()
        return F.interpolate(logits, size=out_hw or (h, w), mode="bilinear", align_corners=False)


def segment_photo(net: FacadeSegNet, photo: np.ndarray, device: str = "cpu", side: int = WORK_SIDE,
                  scales: tuple[float, ...] = (1.0,), flip: bool = False) -> np.ndarray:
    """int32 H x W class ids for a float32 H x W x 3 [0, 1] photo (logits upsampled to the photo's
    size, then argmax: the boundaries follow the photo at full resolution). With several
    ``scales`` the class probabilities of the net run at ``side * scale`` each are averaged (a
    facade whose windows are smaller or larger than the training ones is met at a closer size);
    ``flip`` adds each scale's run on the mirrored photo (mirrored back) to the average."""
    if tuple(scales) == (1.0,) and not flip:
        return segment_logits(net, photo, device, side).argmax(1)[0].to("cpu", torch.int32).numpy()
    h, w = photo.shape[:2]
    # the runs are fused at the photo's size up to FUSE_SIDE px, larger photos at FUSE_SIDE px on the
    # longer side, then upsampled once (not 12 class maps per run at full size: memory and time)
    f = min(1.0, FUSE_SIDE / max(h, w))
    grid = (h, w) if f == 1.0 else (max(1, round(h * f)), max(1, round(w * f)))
    mirrored = np.ascontiguousarray(photo[:, ::-1]) if flip else None
    probs = None
    for s in scales:
        run_side = max(net.multiple, int(round(side * s)))
        p = segment_logits(net, photo, device, run_side, grid).softmax(1)
        if mirrored is not None:
            p = p + segment_logits(net, mirrored, device, run_side, grid).softmax(1).flip(-1)
        probs = p if probs is None else probs + p
    if grid != (h, w):
        probs = F.interpolate(probs, size=(h, w), mode="bilinear", align_corners=False)
    return probs.argmax(1)[0].to("cpu", torch.int32).numpy()


class Segmenter:
    """The installed segmentation model (loaded on first use).

    ``scales`` / ``flip``: multi-scale and mirrored inference (see :func:`segment_photo`); by
    default the card's ``test_scales`` and ``test_flip`` when the card beside the weights has them,
    else one scale, no flip."""

    def __init__(self, path: Path, work_side: int = WORK_SIDE, scales: tuple[float, ...] | None = None,
                 flip: bool | None = None) -> None:
        self.path = Path(path)
        # the side the net was trained at (its card's "work_side"; a 256² facade trained as
        # 128 crops must be segmented at 128 so windows have the size the net learned)
        self.work_side = int(work_side)
        card = self._card()
        self.scales = tuple(scales) if scales else self._card_scales(card)
        self.flip = bool(flip) if flip is not None else card.get("test_flip") is True
        self._net: FacadeSegNet | None = None

    def _card(self) -> dict:
        import json

        card = self.path.with_suffix(".json")
        try:
            data = json.loads(card.read_text(encoding="utf-8")) if card.is_file() else {}
        except (OSError, ValueError):
            data = {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _card_scales(card: dict) -> tuple[float, ...]:
        values = card.get("test_scales")
        if not isinstance(values, list) or not values or not all(
                isinstance(v, (int, float)) and 0.25 <= v <= 4 for v in values):
            return (1.0,)
        return tuple(float(v) for v in values)

    def net(self) -> FacadeSegNet:
        if self._net is None:
            from ..weights import load_model

            self._net = load_model(self.path, arch_name="facades-segnet").module  # type: ignore[assignment]
        return self._net  # type: ignore[return-value]

    def __call__(self, photo: np.ndarray) -> tuple[np.ndarray, float]:
        started = time.perf_counter()
        labels = segment_photo(self.net(), photo, side=self.work_side, scales=self.scales, flip=self.flip)
        return labels, time.perf_counter() - started
