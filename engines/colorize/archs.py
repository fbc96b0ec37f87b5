"""Colorization networks with the official PyTorch port's module names (richzhang/colorization).

Both keep the port's ``nn.Sequential`` layouts, so ``model1.0.weight``, ``model1.4.running_mean``,
``model8.1.weight`` ... line up and the official checkpoints load unchanged (strictly).

- :class:`SIGGRAPHGenerator`: Zhang et al., "Real-Time User-Guided Image Colorization with Learned
  Deep Priors" (SIGGRAPH 2017). Input L + ab hints + hint mask; ten conv blocks, dilated (2) in
  blocks 5-6, shortcuts 3->8, 2->9, 1->10; an ab regression head and a colour-class head.
- :class:`ECCVGenerator`: Zhang et al., "Colorful Image Colorization" (ECCV 2016), automatic:
  L only, a 313-way colour distribution, its annealed-free expectation through ``model_out``.

``width`` scales every channel count (1.0 = the paper's 64/128/256/512); our bundled default is a
reduced-width SIGGRAPH17 trained by us. The width is inferred back from ``model1.0.weight``.

Tensor contract (both): ``L`` is ``N x 1 x H x W`` in [0, 100]; ``ab`` ``N x 2 x H x W`` in
[-110, 110]; ``mask`` ``N x 1 x H x W`` with 1 = hinted pixel. H and W multiples of 8.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..core.protocol import Task
from ..weights import ArchSpec, WeightsError, register_arch

StateDict = dict[str, torch.Tensor]

# Normalisation of the official port (BaseColor): L centred at 50 / 100, ab / 110, mask - 0.5.
L_CENT, L_NORM, AB_NORM, MASK_CENT = 50.0, 100.0, 110.0, 0.5
AB_GRID = 23  # the class head's 23 x 23 grid over ab in [-110, 110], step 10 (529 classes)
AB_STEP = 10.0


def _block(channels: list[int], dilation: int = 1, pre_relu: bool = False, norm: bool = True,
           stride_last: int = 1) -> nn.Sequential:
    """[ReLU] (conv 3x3 - ReLU) x n [- BatchNorm]: the port's block layout, so indices match.

    ``stride_last`` puts a stride on the block's last conv (the ECCV16 net downsamples that way).
    """
    layers: list[nn.Module] = [nn.ReLU(True)] if pre_relu else []
    pairs = list(zip(channels[:-1], channels[1:]))
    for i, (cin, cout) in enumerate(pairs):
        stride = stride_last if i == len(pairs) - 1 else 1
        layers += [nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation), nn.ReLU(True)]
    if norm:
        layers.append(nn.BatchNorm2d(channels[-1]))
    return nn.Sequential(*layers)


def widths(width: float) -> tuple[int, int, int, int]:
    """The four channel counts (paper: 64, 128, 256, 512) at a width factor."""
    return tuple(max(4, int(round(c * width))) for c in (64, 128, 256, 512))  # type: ignore[return-value]


class SIGGRAPHGenerator(nn.Module):
    """The SIGGRAPH17 user-guided generator.

    Args:
        width: channel multiplier (1.0 = official; our bundled default is smaller).
        classes: size of the colour-class head (529 = 23 x 23 ab grid in the official port).
        spread_input: our extension (off in the official net): two more input channels carrying
            the hints already spread over regions of similar lightness (:mod:`.spread`, ab / 110),
            so the net corrects a dense proposal instead of learning long-range propagation from
            scratch. Same module names; ``model1.0.weight`` then has 6 input channels, not 4.
    """

    def __init__(self, width: float = 1.0, classes: int = AB_GRID * AB_GRID, spread_input: bool = False) -> None:
        super().__init__()
        c1, c2, c3, c4 = widths(width)
        self.width = width
        self.spread_input = spread_input
        self.model1 = _block([6 if spread_input else 4, c1, c1])
        self.model2 = _block([c1, c2, c2])
        self.model3 = _block([c2, c3, c3, c3])
        self.model4 = _block([c3, c4, c4, c4])
        self.model5 = _block([c4, c4, c4, c4], dilation=2)  # dilated: wide context at 1/8 scale
        self.model6 = _block([c4, c4, c4, c4], dilation=2)
        self.model7 = _block([c4, c4, c4, c4])
        self.model8up = nn.Sequential(nn.ConvTranspose2d(c4, c3, 4, stride=2, padding=1))
        self.model3short8 = nn.Sequential(nn.Conv2d(c3, c3, 3, padding=1))
        self.model8 = _block([c3, c3, c3], pre_relu=True)
        self.model9up = nn.Sequential(nn.ConvTranspose2d(c3, c2, 4, stride=2, padding=1))
        self.model2short9 = nn.Sequential(nn.Conv2d(c2, c2, 3, padding=1))
        self.model9 = _block([c2, c2], pre_relu=True)
        # the port keeps 128 channels here at full width (c2, not c1)
        self.model10up = nn.Sequential(nn.ConvTranspose2d(c2, c2, 4, stride=2, padding=1))
        self.model1short10 = nn.Sequential(nn.Conv2d(c1, c2, 3, padding=1))
        self.model10 = nn.Sequential(nn.ReLU(True), nn.Conv2d(c2, c2, 3, padding=1), nn.LeakyReLU(0.2))
        self.model_class = nn.Sequential(nn.Conv2d(c3, classes, 1))  # on conv8 (1/4 resolution)
        self.model_out = nn.Sequential(nn.Conv2d(c2, 2, 1), nn.Tanh())

    def forward(self, L: torch.Tensor, ab: torch.Tensor, mask: torch.Tensor,
                spread: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (ab ``N x 2 x H x W`` in [-110, 110], class logits ``N x 529 x H/4 x W/4``).

        ``spread`` (``N x 2 x H x W`` ab in [-110, 110]) is required when ``spread_input`` and
        ignored otherwise."""
        parts = [(L - L_CENT) / L_NORM, ab / AB_NORM, mask - MASK_CENT]
        if self.spread_input:
            if spread is None:
                raise ValueError("this network was trained with a spread-hints input; pass spread=")
            parts.append(spread / AB_NORM)
        x = torch.cat(parts, dim=1)
        conv1 = self.model1(x)
        conv2 = self.model2(conv1[:, :, ::2, ::2])  # the port subsamples rather than pools
        conv3 = self.model3(conv2[:, :, ::2, ::2])
        conv4 = self.model4(conv3[:, :, ::2, ::2])
        conv7 = self.model7(self.model6(self.model5(conv4)))
        conv8 = self.model8(self.model8up(conv7) + self.model3short8(conv3))
        conv9 = self.model9(self.model9up(conv8) + self.model2short9(conv2))
        conv10 = self.model10(self.model10up(conv9) + self.model1short10(conv1))
        return self.model_out(conv10) * AB_NORM, self.model_class(conv8)


class ECCVGenerator(nn.Module):
    """The ECCV16 automatic colorizer (no hints). Output ab at the input resolution."""

    def __init__(self, width: float = 1.0, classes: int = 313) -> None:
        super().__init__()
        c1, c2, c3, c4 = widths(width)
        self.width = width
        self.model1 = _block([1, c1, c1], stride_last=2)
        self.model2 = _block([c1, c2, c2], stride_last=2)
        self.model3 = _block([c2, c3, c3, c3], stride_last=2)
        self.model4 = _block([c3, c4, c4, c4])
        self.model5 = _block([c4, c4, c4, c4], dilation=2)
        self.model6 = _block([c4, c4, c4, c4], dilation=2)
        self.model7 = _block([c4, c4, c4, c4])
        self.model8 = nn.Sequential(
            nn.ConvTranspose2d(c4, c3, 4, stride=2, padding=1), nn.ReLU(True),
            nn.Conv2d(c3, c3, 3, padding=1), nn.ReLU(True),
            nn.Conv2d(c3, c3, 3, padding=1), nn.ReLU(True),
            nn.Conv2d(c3, classes, 1),
        )
        # expectation over the 313 bins: a fixed linear map from the distribution to ab / 110
        self.model_out = nn.Conv2d(classes, 2, 1, bias=False)

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        x = (L - L_CENT) / L_NORM
        conv8 = self.model8(self.model7(self.model6(self.model5(self.model4(
            self.model3(self.model2(self.model1(x))))))))
        ab = self.model_out(torch.softmax(conv8, dim=1)) * AB_NORM  # 1/4 resolution
        return nn.functional.interpolate(ab, scale_factor=4, mode="bilinear", align_corners=False)


# ----------------------------------------------------------------------------- detection


def _width_from(sd: StateDict, key: str) -> float:
    if key not in sd:
        raise WeightsError(f"checkpoint lacks '{key}'")
    c1 = int(sd[key].shape[0])
    width = c1 / 64.0
    if widths(width)[0] != c1:
        raise WeightsError(f"cannot infer the width from {key} ({c1} channels)")
    return width


def build_siggraph17(sd: StateDict) -> tuple[nn.Module, dict[str, Any]]:
    width = _width_from(sd, "model1.0.weight")
    classes = int(sd["model_class.0.weight"].shape[0])
    spread = int(sd["model1.0.weight"].shape[1]) == 6
    hparams: dict[str, Any] = {"width": width, "classes": classes}
    if spread:
        hparams["spread_input"] = True
    return SIGGRAPHGenerator(width, classes, spread_input=spread), hparams


def build_eccv16(sd: StateDict) -> tuple[nn.Module, dict[str, Any]]:
    width = _width_from(sd, "model1.0.weight")
    classes = int(sd["model8.6.weight"].shape[0])
    return ECCVGenerator(width, classes), {"width": width, "classes": classes}


def _detect_siggraph17(sd: StateDict) -> bool:
    return ("model1.0.weight" in sd and "model1short10.0.weight" in sd and "model_class.0.weight" in sd
            and sd["model1.0.weight"].shape[1] in (4, 6))


def _detect_eccv16(sd: StateDict) -> bool:
    return ("model1.0.weight" in sd and "model8.6.weight" in sd and "model_out.weight" in sd
            and sd["model1.0.weight"].shape[1] == 1)


SIGGRAPH17 = register_arch(ArchSpec(
    name="siggraph17", task=Task.COLORIZE, detect=_detect_siggraph17, build=build_siggraph17,
    required_keys=("model1.0.weight", "model3short8.0.weight", "model2short9.0.weight",
                   "model1short10.0.weight", "model_class.0.weight", "model_out.0.weight"),
))
ECCV16 = register_arch(ArchSpec(
    name="eccv16", task=Task.COLORIZE, detect=_detect_eccv16, build=build_eccv16,
    required_keys=("model1.0.weight", "model4.0.weight", "model8.0.weight", "model8.6.weight",
                   "model_out.weight"),
))
