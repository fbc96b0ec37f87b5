"""The partial convolution of Liu et al. (ECCV 2018), with its mask update, computed per call.

Tensor contract: ``x`` is ``N x C x H x W``; ``mask`` is ``N x 1 x H x W`` (one mask for every
channel) or ``N x C x H x W`` (per channel, e.g. a concatenated skip), float, **1 = valid**
(known) pixel, 0 = hole. For each output position with window ``X``, mask window ``M``:

    out  = W^T (X * M) * sum(1) / sum(M) + b     if sum(M) > 0
         = 0                                     otherwise
    mask' = 1 if sum(M) > 0 else 0

``sum(1)`` counts the window over all input channels (``C * k * k``) and ``sum(M)`` the valid
entries among them. Nothing is cached on the layer: the layer only owns ``input_conv`` (the key
name of the de-facto public PConv U-Net checkpoints); the all-ones ``mask_conv`` of those
checkpoints is a constant and is rebuilt from the kernel size on every call.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PartialConv2d(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, padding: int = 0,
                 bias: bool = False) -> None:
        super().__init__()
        self.input_conv = nn.Conv2d(in_ch, out_ch, kernel, stride, padding, bias=bias)
        self.in_ch = in_ch

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        conv = self.input_conv
        k, s, p = conv.kernel_size, conv.stride, conv.padding
        with torch.no_grad():
            # Valid entries per window, counted over all input channels (a 1-channel mask stands
            # for the same mask on every channel).
            per_pixel = mask if mask.shape[1] == 1 else mask.sum(1, keepdim=True)
            ones = torch.ones(1, 1, *k, dtype=x.dtype, device=x.device)
            valid = F.conv2d(per_pixel, ones, stride=s, padding=p)
            if mask.shape[1] == 1:
                valid = valid * self.in_ch
            window = float(self.in_ch * k[0] * k[1])  # sum(1)
            new_mask = (valid > 0.5).to(x.dtype)
            scale = window / valid.clamp(min=1.0) * new_mask
        raw = F.conv2d(x * mask, conv.weight, None, s, p)
        out = raw * scale
        if conv.bias is not None:
            out = out + conv.bias.view(1, -1, 1, 1) * new_mask
        return out, new_mask
