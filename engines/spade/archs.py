"""GauGAN / SPADE networks (Park et al., CVPR 2019), written from the paper; key names and shapes
match the official NVlabs/SPADE checkpoints so that they load unchanged.

Tensor contracts:
- generator: ``seg float32 N x semantic_nc x H x W`` (one-hot labels, then a don't-care channel and
  an instance-edge channel where the model has them, see :mod:`.labels`) and, for VAE models, an
  optional ``z N x z_dim`` -> ``N x 3 x H' x W'`` in ``[-1, 1]`` (tanh). Without a VAE the start
  size is ``H / 2**n_up`` (``n_up`` = 5 normal, 6 more, 7 most), so ``H``, ``W`` must be multiples of
  ``2**n_up`` and ``H' = H``; a VAE model starts from its fixed ``fc`` grid (``H'`` = its crop size).
- encoder: ``image N x 3 x H x W`` in ``[-1, 1]`` (resized to its input size) -> ``(mu, logvar)``.
- discriminator: ``cat(seg, image)`` -> per scale, the list of intermediate features (last = logits).

Official key layout (``norm_G = spectralspadesyncbatch3x3``): ``fc``; ``head_0``, ``G_middle_0/1``,
``up_0`` ... ``up_3`` (``up_4`` for "most") are SPADE residual blocks with ``conv_0``/``conv_1``/
``conv_s`` under spectral norm (``weight_orig``, ``weight_u``, ``weight_v``) and ``norm_0``/``norm_1``/
``norm_s`` SPADE layers (``param_free_norm`` running stats, ``mlp_shared.0``, ``mlp_gamma``,
``mlp_beta``, no spectral norm); ``conv_img``. Our own VAE models carry the style encoder in the
same file under ``encoder.`` (official ``ConvEncoder`` keys: ``layer1.0.weight_orig`` ...,
``fc_mu``, ``fc_var``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..core.protocol import Task
from ..weights import ArchSpec, WeightsError, register_arch

StateDict = dict[str, torch.Tensor]

# number of x2 upsamplings per num_upsampling_layers option (official compute_latent_vector_size)
UP_LAYERS = {"normal": 5, "more": 6, "most": 7}
SPADE_HIDDEN = 128  # "The dimension of the intermediate embedding space. Yes, hardcoded." (official)
Z_DIM = 256


# ============================================================================ spectral norm


class SNConv2d(nn.Module):
    """A conv under spectral normalisation (Miyato et al. 2018) with PyTorch's key names.

    State: ``weight_orig`` (the raw weight), ``bias``, buffers ``weight_u`` (out,) and ``weight_v``
    (in*kh*kw,): the power-iteration vectors. The used weight is ``weight_orig / sigma`` with
    ``sigma = u . (W v)``; one power iteration per forward in training (as torch's hook does),
    none in eval, so inference is a pure function of the stored tensors.
    """

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0,
                 bias: bool = True, eps: float = 1e-12, padding_mode: str = "zeros") -> None:
        super().__init__()
        self.stride, self.padding, self.eps = stride, padding, eps
        self.padding_mode = padding_mode  # "zeros" (official) or "reflect"; same name as nn.Conv2d's
        self.weight_orig = nn.Parameter(torch.empty(cout, cin, kernel, kernel))
        nn.init.kaiming_uniform_(self.weight_orig, a=math.sqrt(5))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.register_buffer("weight_u", F.normalize(torch.randn(cout), dim=0, eps=eps))
        self.register_buffer("weight_v", F.normalize(torch.randn(cin * kernel * kernel), dim=0, eps=eps))

    def weight(self) -> torch.Tensor:
        w = self.weight_orig.flatten(1)
        u, v = self.weight_u, self.weight_v
        if self.training:
            with torch.no_grad():
                v = F.normalize(w.t().mv(u), dim=0, eps=self.eps)
                u = F.normalize(w.mv(v), dim=0, eps=self.eps)
                self.weight_u.copy_(u)
                self.weight_v.copy_(v)
            u, v = u.clone(), v.clone()
        sigma = torch.dot(u, w.mv(v))
        return self.weight_orig / sigma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.padding and self.padding_mode != "zeros":
            x = F.pad(x, (self.padding,) * 4, mode=self.padding_mode)
            return F.conv2d(x, self.weight(), self.bias, self.stride, 0)
        return F.conv2d(x, self.weight(), self.bias, self.stride, self.padding)


PADDINGS = ("zeros", "reflect")


def _conv(cin: int, cout: int, kernel: int, spectral: bool, stride: int = 1, padding: int = 0,
          bias: bool = True, padding_mode: str = "zeros") -> nn.Module:
    if spectral:
        return SNConv2d(cin, cout, kernel, stride, padding, bias, padding_mode=padding_mode)
    return nn.Conv2d(cin, cout, kernel, stride, padding, bias=bias, padding_mode=padding_mode)


def set_padding(module: nn.Module, mode: str) -> None:
    """Switch every padded conv under ``module`` to ``mode`` ("zeros" or "reflect"). Padding adds no
    tensor, so the same weights run either way; a card says which one a model was trained with."""
    if mode not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {mode!r}")
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, SNConv2d)):
            m.padding_mode = mode


# ============================================================================ generator


class SPADE(nn.Module):
    """Spatially-adaptive normalisation: param-free norm, then ``* (1 + gamma(seg)) + beta(seg)``.

    Args:
        norm_nc: channels of the normalised activations (= output channels of gamma/beta).
        label_nc: channels of the semantic input (semantic_nc).
        norm: "batch" (official sync BatchNorm, affine=False: running stats are in the checkpoint)
            or "instance" (no state; what we train with, since CPU batches are tiny).
        kernel: conv size of the three mlps (official 3).
        padding_mode: "zeros" (official) or "reflect". Zero padding makes the border of a one-hot
            map read as "no class", so gamma/beta differ along the edges: a dark band on every side.
    """

    def __init__(self, norm_nc: int, label_nc: int, norm: str = "batch", kernel: int = 3,
                 hidden: int = SPADE_HIDDEN, padding_mode: str = "zeros") -> None:
        super().__init__()
        if norm == "batch":
            self.param_free_norm: nn.Module = nn.BatchNorm2d(norm_nc, affine=False)
        elif norm == "instance":
            self.param_free_norm = nn.InstanceNorm2d(norm_nc, affine=False)
        else:
            raise ValueError(f"unknown SPADE norm '{norm}' (batch or instance)")
        pad = kernel // 2
        pm = padding_mode
        self.mlp_shared = nn.Sequential(nn.Conv2d(label_nc, hidden, kernel, padding=pad, padding_mode=pm), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, norm_nc, kernel, padding=pad, padding_mode=pm)
        self.mlp_beta = nn.Conv2d(hidden, norm_nc, kernel, padding=pad, padding_mode=pm)

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        normalized = self.param_free_norm(x)
        # nearest only: a label map must never blend classes (also the official choice)
        seg = F.interpolate(seg, size=x.shape[2:], mode="nearest")
        actv = self.mlp_shared(seg)
        return normalized * (1 + self.mlp_gamma(actv)) + self.mlp_beta(actv)


class SPADEResnetBlock(nn.Module):
    """norm -> lrelu -> conv, twice, plus a shortcut that is learned only when fin != fout."""

    def __init__(self, fin: int, fout: int, semantic_nc: int, spectral: bool = True,
                 norm: str = "batch", kernel: int = 3, hidden: int = SPADE_HIDDEN,
                 padding_mode: str = "zeros") -> None:
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        pm = padding_mode
        self.conv_0 = _conv(fin, fmiddle, 3, spectral, padding=1, padding_mode=pm)
        self.conv_1 = _conv(fmiddle, fout, 3, spectral, padding=1, padding_mode=pm)
        if self.learned_shortcut:  # 1x1: no padding
            self.conv_s = _conv(fin, fout, 1, spectral, bias=False)
        self.norm_0 = SPADE(fin, semantic_nc, norm, kernel, hidden, pm)
        self.norm_1 = SPADE(fmiddle, semantic_nc, norm, kernel, hidden, pm)
        if self.learned_shortcut:
            self.norm_s = SPADE(fin, semantic_nc, norm, kernel, hidden, pm)

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        x_s = self.conv_s(self.norm_s(x, seg)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg), 0.2))
        return x_s + dx


@dataclass(frozen=True)
class SpadeConfig:
    """Hyper-parameters of a SPADE generator (all but ``num_up``/aspect are read off the shapes)."""

    semantic_nc: int
    ngf: int = 64
    num_up: str = "normal"  # normal | more | most
    use_vae: bool = False
    z_dim: int = Z_DIM
    start_hw: tuple[int, int] = (8, 8)  # VAE only: the fc grid (sh, sw)
    norm: str = "batch"
    spectral: bool = True
    spade_kernel: int = 3
    spade_hidden: int = SPADE_HIDDEN
    encoder_layers: int = 0  # 0 = no style encoder in this file; else 5 (128 px) or 6 (256 px)
    # "zeros" (official: what their checkpoints were trained with) or "reflect" (ours since the
    # border-streak fix). Adds no tensor, so shapes cannot tell: the card's "padding" says it.
    padding: str = "zeros"

    @property
    def multiple(self) -> int:
        return 2 ** UP_LAYERS[self.num_up]


class ConvEncoder(nn.Module):
    """The VAE style encoder (same layout as the image discriminator): stride-2 3x3 convs under
    spectral norm + InstanceNorm (bias removed: meaningless before a norm), then ``fc_mu``/``fc_var``.

    Args:
        ndf: width of the first layer (official: ngf).
        n_layers: 6 for 256 px inputs (official crop >= 256), 5 for 128 px; the last map is 4 x 4.
    """

    def __init__(self, ndf: int = 64, n_layers: int = 6, z_dim: int = Z_DIM) -> None:
        super().__init__()
        if n_layers not in (5, 6):
            raise ValueError("the style encoder has 5 or 6 layers")
        self.n_layers = n_layers
        self.input_size = 4 * 2**n_layers
        widths = [3, ndf, ndf * 2, ndf * 4, ndf * 8, ndf * 8, ndf * 8][: n_layers + 1]
        for i in range(n_layers):
            layer = nn.Sequential(SNConv2d(widths[i], widths[i + 1], 3, 2, 1, bias=False),
                                  nn.InstanceNorm2d(widths[i + 1], affine=False))
            self.add_module(f"layer{i + 1}", layer)
        self.fc_mu = nn.Linear(ndf * 8 * 4 * 4, z_dim)
        self.fc_var = nn.Linear(ndf * 8 * 4 * 4, z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.shape[2:] != (self.input_size, self.input_size):
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        for i in range(self.n_layers):
            x = getattr(self, f"layer{i + 1}")(x if i == 0 else F.leaky_relu(x, 0.2))
        x = F.leaky_relu(x, 0.2).flatten(1)
        return self.fc_mu(x), self.fc_var(x)


class SPADEGenerator(nn.Module):
    """The GauGAN generator; ``encoder`` (a :class:`ConvEncoder`) is present for our VAE models."""

    def __init__(self, cfg: SpadeConfig) -> None:
        super().__init__()
        self.cfg = cfg
        nf, snc = cfg.ngf, cfg.semantic_nc
        if cfg.use_vae:
            sh, sw = cfg.start_hw
            self.fc: nn.Module = nn.Linear(cfg.z_dim, 16 * nf * sh * sw)
        else:  # deterministic: start from the downsampled label map
            self.fc = nn.Conv2d(snc, 16 * nf, 3, padding=1, padding_mode=cfg.padding)

        def block(fin: int, fout: int) -> SPADEResnetBlock:
            return SPADEResnetBlock(fin, fout, snc, cfg.spectral, cfg.norm, cfg.spade_kernel, cfg.spade_hidden,
                                    cfg.padding)

        self.head_0 = block(16 * nf, 16 * nf)
        self.G_middle_0 = block(16 * nf, 16 * nf)
        self.G_middle_1 = block(16 * nf, 16 * nf)
        self.up_0 = block(16 * nf, 8 * nf)
        self.up_1 = block(8 * nf, 4 * nf)
        self.up_2 = block(4 * nf, 2 * nf)
        self.up_3 = block(2 * nf, nf)
        final_nc = nf
        if cfg.num_up == "most":
            self.up_4 = block(nf, nf // 2)
            final_nc = nf // 2
        self.conv_img = nn.Conv2d(final_nc, 3, 3, padding=1, padding_mode=cfg.padding)
        if cfg.encoder_layers:
            self.encoder = ConvEncoder(nf, cfg.encoder_layers, cfg.z_dim)

    @property
    def multiple(self) -> int:
        return self.cfg.multiple

    @property
    def size_multiple(self) -> int:  # the name the models manager reads for its cards
        return self.cfg.multiple

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        """Output H x W for an ``h x w`` label map."""
        if self.cfg.use_vae:
            sh, sw = self.cfg.start_hw
            return sh * self.multiple, sw * self.multiple
        return h, w

    def encode(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not hasattr(self, "encoder"):
            raise WeightsError("this SPADE model has no style encoder")
        return self.encoder(image)

    def forward(self, seg: torch.Tensor, z: torch.Tensor | None = None, context: int = 0) -> torch.Tensor:
        """``context`` > 0: ``seg`` carries ``context`` px of label map beyond the picture on every
        side (:func:`mirror_pad`); the network runs on the larger map and returns the middle only,
        so the picture's outer band is computed as the interior is, not next to the conv padding.
        The start grid (``fc``'s, or the downsampled labels') covers the picture alone; it is
        mirrored by ``context / cell`` cells at the first level where that is a whole number of
        cells (``cell`` = output px per feature px there: ``2**n_up`` at the start, 1 at the end),
        so any ``context`` works and the features stay aligned with the mirrored labels."""
        cfg = self.cfg
        n_up = UP_LAYERS[cfg.num_up]
        context = int(context)
        if context < 0:
            raise ValueError(f"context must be >= 0 px, got {context}")
        core = seg[:, :, context : seg.shape[2] - context, context : seg.shape[3] - context] if context else seg
        if core.shape[2] <= 0 or core.shape[3] <= 0:
            raise ValueError(f"label map {seg.shape[3]}x{seg.shape[2]} is smaller than twice its context {context}")
        if cfg.use_vae:
            if z is None:
                z = torch.randn(seg.shape[0], cfg.z_dim, device=seg.device, dtype=seg.dtype)
            sh, sw = cfg.start_hw
            x = self.fc(z).view(-1, 16 * cfg.ngf, sh, sw)
        else:
            h, w = core.shape[2:]
            if h % 2**n_up or w % 2**n_up:
                raise ValueError(f"label map {w}x{h} is not a multiple of {2 ** n_up}")
            x = self.fc(F.interpolate(core, size=(h >> n_up, w >> n_up), mode="nearest"))
        cell = 2**n_up
        pending = context

        def widen(x: torch.Tensor) -> torch.Tensor:
            nonlocal pending
            if pending and pending % cell == 0:
                x, pending = mirror_pad(x, pending // cell), 0
            return x

        def up(x: torch.Tensor) -> torch.Tensor:
            nonlocal cell
            cell //= 2
            return widen(F.interpolate(x, scale_factor=2.0, mode="nearest"))

        x = self.head_0(widen(x), seg)
        x = up(x)
        x = self.G_middle_0(x, seg)
        if cfg.num_up in ("more", "most"):
            x = up(x)
        x = self.G_middle_1(x, seg)
        for name in ("up_0", "up_1", "up_2", "up_3") + (("up_4",) if cfg.num_up == "most" else ()):
            x = getattr(self, name)(up(x), seg)
        out = torch.tanh(self.conv_img(F.leaky_relu(x, 0.2)))
        if context:
            out = out[:, :, context : out.shape[2] - context, context : out.shape[3] - context]
        return out


def mirror_pad(x: torch.Tensor, k: int) -> torch.Tensor:
    """``N x C x H x W`` -> ``H + 2k`` x ``W + 2k``, each side continued by its mirror image with
    the edge row repeated (numpy's ``symmetric``, OpenCV's ``BORDER_REFLECT``), so a feature cell
    and the label pixels it covers are mirrored alike; wider than the map, the mirroring repeats."""
    if k <= 0:
        return x
    for dim in (2, 3):
        n = x.shape[dim]
        i = torch.arange(-k, n + k, device=x.device) % (2 * n)
        x = x.index_select(dim, torch.where(i < n, i, 2 * n - 1 - i))
    return x


# ============================================================================ discriminator


class NLayerDiscriminator(nn.Module):
    """PatchGAN (pix2pixHD/SPADE layout): 4x4 convs, the middle ones under spectral norm +
    InstanceNorm; ``forward`` returns every layer's output (feature matching uses all but the last)."""

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 4) -> None:
        super().__init__()
        groups: list[list[nn.Module]] = [[nn.Conv2d(input_nc, ndf, 4, 2, 2), nn.LeakyReLU(0.2)]]
        nf = ndf
        for n in range(1, n_layers):
            prev, nf = nf, min(nf * 2, 512)
            stride = 1 if n == n_layers - 1 else 2
            groups.append([nn.Sequential(SNConv2d(prev, nf, 4, stride, 2, bias=False),
                                         nn.InstanceNorm2d(nf, affine=False)), nn.LeakyReLU(0.2)])
        groups.append([nn.Conv2d(nf, 1, 4, 1, 2)])
        for i, g in enumerate(groups):
            self.add_module(f"model{i}", nn.Sequential(*g))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for m in self.children():
            x = m(x)
            feats.append(x)
        return feats


class MultiscaleDiscriminator(nn.Module):
    """``num_d`` PatchGANs, each on a 2x average-pooled copy of the previous one's input."""

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 4, num_d: int = 2) -> None:
        super().__init__()
        for i in range(num_d):
            self.add_module(f"discriminator_{i}", NLayerDiscriminator(input_nc, ndf, n_layers))

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        out = []
        for d in self.children():
            out.append(d(x))
            x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
        return out


def weights_init(module: nn.Module, gain: float = 0.02) -> None:
    """Xavier-normal with gain 0.02 for convs/linears (the official init_type/init_variance)."""
    for m in module.modules():
        w = getattr(m, "weight_orig", None)
        if w is None and isinstance(m, (nn.Conv2d, nn.Linear)):
            w = m.weight
        if w is not None:
            nn.init.xavier_normal_(w, gain=gain)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)


# ============================================================================ checkpoints


def _weight_key(sd: StateDict, prefix: str) -> str:
    """``prefix.weight_orig`` (spectral) or ``prefix.weight``."""
    for suffix in (".weight_orig", ".weight"):
        if prefix + suffix in sd:
            return prefix + suffix
    raise WeightsError(f"checkpoint lacks '{prefix}.weight_orig' / '{prefix}.weight'")


def is_spade_generator(sd: StateDict) -> bool:
    return ("conv_img.weight" in sd and "fc.weight" in sd
            and any(k.startswith("head_0.norm_0.mlp_shared.0.") for k in sd)
            and any(k.startswith("G_middle_1.") for k in sd) and any(k.startswith("up_3.") for k in sd))


def infer_config(sd: StateDict) -> SpadeConfig:
    """Every hyper-parameter that the shapes determine.

    ``normal`` vs ``more`` adds no parameter, so it cannot be read off; ``normal`` (all official
    releases) is assumed and a model card may say otherwise (:func:`with_overrides`).
    """
    shared = sd["head_0.norm_0.mlp_shared.0.weight"]
    hidden, semantic_nc, kernel = int(shared.shape[0]), int(shared.shape[1]), int(shared.shape[-1])
    head_key = _weight_key(sd, "head_0.conv_0")
    ngf = int(sd[head_key].shape[0]) // 16
    spectral = head_key.endswith("weight_orig")
    norm = "batch" if "head_0.norm_0.param_free_norm.running_mean" in sd else "instance"
    num_up = "most" if any(k.startswith("up_4.") for k in sd) else "normal"
    fc = sd["fc.weight"]
    use_vae = fc.ndim == 2
    z_dim, start = Z_DIM, (8, 8)
    if use_vae:
        z_dim = int(fc.shape[1])
        cells = int(fc.shape[0]) // (16 * ngf)
        side = math.isqrt(cells)
        if side * side == cells:
            start = (side, side)
        elif math.isqrt(cells // 2) ** 2 * 2 == cells:  # aspect 2 (Cityscapes-like): sw = 2 sh
            sh = math.isqrt(cells // 2)
            start = (sh, 2 * sh)
        else:
            raise WeightsError(f"cannot read the start grid from fc ({cells} cells)")
    enc = [int(m.group(1)) for k in sd for m in [re.match(r"encoder\.layer(\d+)\.", k)] if m]
    return SpadeConfig(semantic_nc=semantic_nc, ngf=ngf, num_up=num_up, use_vae=use_vae, z_dim=z_dim,
                       start_hw=start, norm=norm, spectral=spectral, spade_kernel=kernel,
                       spade_hidden=hidden, encoder_layers=max(enc) if enc else 0)


def with_overrides(cfg: SpadeConfig, hparams: dict[str, Any]) -> SpadeConfig:
    """A card's ``num_upsampling_layers`` and ``padding`` (the values shapes cannot tell)."""
    num_up = hparams.get("num_upsampling_layers", cfg.num_up)
    if num_up not in UP_LAYERS:
        raise WeightsError(f"num_upsampling_layers must be normal, more or most, got {num_up!r}")
    if (num_up == "most") != (cfg.num_up == "most"):
        raise WeightsError("num_upsampling_layers 'most' needs an up_4 block (and only it has one)")
    padding = hparams.get("padding", cfg.padding)
    if padding not in PADDINGS:
        raise WeightsError(f"padding must be one of {PADDINGS}, got {padding!r}")
    return SpadeConfig(**{**cfg.__dict__, "num_up": num_up, "padding": padding})


def apply_config(net: "SPADEGenerator", cfg: SpadeConfig) -> None:
    """Give a built generator the card's overrides (same tensors: only the forward changes)."""
    set_padding(net, cfg.padding)
    if hasattr(net, "encoder"):  # the style encoder only summarises a photo: it keeps its training padding
        set_padding(net.encoder, "zeros")
    net.cfg = cfg


def add_missing_spectral_v(sd: dict) -> dict:
    """PyTorch < 1.0 saved spectral norm without ``weight_v``; derive it as torch's loader does:
    ``v = normalize(W^T u)`` from ``weight_orig`` and ``weight_u`` (idempotent)."""
    out = dict(sd)
    for key in sd:
        if key.endswith(".weight_u"):
            base = key[: -len("_u")]
            if base + "_v" not in out and base + "_orig" in out:
                w = out[base + "_orig"].float().flatten(1)
                out[base + "_v"] = F.normalize(w.t().mv(out[key].float()), dim=0, eps=1e-12)
    return out


def build_generator(sd: StateDict) -> tuple[nn.Module, dict[str, Any]]:
    cfg = infer_config(sd)
    net = SPADEGenerator(cfg)
    return net, spade_hparams(cfg)


def spade_hparams(cfg: SpadeConfig) -> dict[str, Any]:
    return {"semantic_nc": cfg.semantic_nc, "ngf": cfg.ngf, "num_upsampling_layers": cfg.num_up,
            "use_vae": cfg.use_vae, "z_dim": cfg.z_dim, "start_hw": list(cfg.start_hw), "norm": cfg.norm,
            "spectral": cfg.spectral, "encoder_layers": cfg.encoder_layers, "multiple": cfg.multiple,
            "padding": cfg.padding}


SPADE_SPEC = register_arch(ArchSpec(
    name="spade",
    task=Task.SYNTHESIZE,
    detect=is_spade_generator,
    build=build_generator,
    remap=add_missing_spectral_v,
    required_keys=("fc.weight", "head_0.norm_0.mlp_shared.0.weight", "G_middle_0.norm_0.mlp_gamma.weight",
                   "up_3.norm_0.mlp_beta.weight", "conv_img.weight"),
))
