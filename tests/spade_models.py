"""Tiny SPADE / segmentation model files for tests: random weights, real file format and cards.

Never installed anywhere but a test's tmp folder; cards say ``"test": true``.
"""

from __future__ import annotations

import json
from pathlib import Path


def write_tiny_spade(folder: Path, name: str = "spade-tiny", use_vae: bool = True, default: bool = True,
                     seed: int = 0) -> Path:
    import torch

    from engines.spade.archs import SPADEGenerator, SpadeConfig, weights_init
    from engines.weights import save_safetensors

    torch.manual_seed(seed)
    cfg = SpadeConfig(semantic_nc=12, ngf=4, use_vae=use_vae, start_hw=(2, 2), norm="instance",
                      spade_hidden=8, encoder_layers=5 if use_vae else 0)
    net = SPADEGenerator(cfg)
    weights_init(net, gain=1.0)  # visible differences between seeds in a tiny net
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    save_safetensors(net.state_dict(), path, half=False)
    card = {"id": name, "file": path.name, "task": "synthesize", "title": f"Tiny {name}", "convention": "facades",
            "palette": "facades", "license": "test", "default": default, "test": True}
    (folder / f"{name}.json").write_text(json.dumps(card))
    return path


def write_tiny_segnet(folder: Path, name: str = "segnet-tiny") -> Path:
    import torch

    from engines.spade.segment import FacadeSegNet
    from engines.weights import save_safetensors

    torch.manual_seed(0)
    net = FacadeSegNet(12, 4)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    save_safetensors(net.state_dict(), path, half=False)
    card = {"id": name, "file": path.name, "task": "segment", "title": "Tiny segnet", "license": "test", "test": True}
    (folder / f"{name}.json").write_text(json.dumps(card))
    return path
