"""SPADE networks: official key names and shapes, detection, hyper-parameters from shapes, strict load."""

import pytest
import torch

from engines.spade.archs import (ConvEncoder, MultiscaleDiscriminator, SPADEGenerator, SpadeConfig,
                                 infer_config, with_overrides)
from engines.spade.labels import CONVENTIONS
from engines.weights import WeightsError, detect_arch, load_model

OFFICIAL = {  # dataset -> semantic_nc of the released generators (ngf 64, normal, spectral sync-BN)
    "ade20k": 151, "cocostuff": 184, "cityscapes": 36,
}


def official_shapes(semantic_nc: int) -> dict[str, tuple[int, ...]]:
    """Key -> shape of an official generator, built on the meta device (no memory, no time)."""
    with torch.device("meta"):
        net = SPADEGenerator(SpadeConfig(semantic_nc=semantic_nc))
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}, net.state_dict()


@pytest.mark.parametrize("dataset", list(OFFICIAL))
def test_official_generator_shapes_and_key_names(dataset):
    snc = OFFICIAL[dataset]
    assert CONVENTIONS[dataset].semantic_nc == snc
    shapes, sd = official_shapes(snc)
    assert shapes["fc.weight"] == (1024, snc, 3, 3)
    assert shapes["head_0.conv_0.weight_orig"] == (1024, 1024, 3, 3)
    assert shapes["head_0.conv_0.weight_u"] == (1024,) and shapes["head_0.conv_0.weight_v"] == (1024 * 9,)
    assert shapes["G_middle_1.conv_1.weight_orig"] == (1024, 1024, 3, 3)
    assert shapes["up_0.conv_s.weight_orig"] == (512, 1024, 1, 1) and "up_0.conv_s.bias" not in shapes
    assert "head_0.conv_s.weight_orig" not in shapes  # fin == fout: identity shortcut
    assert shapes["up_3.conv_1.weight_orig"] == (64, 64, 3, 3)
    assert shapes["up_3.norm_s.mlp_shared.0.weight"] == (128, snc, 3, 3)
    assert shapes["up_2.norm_0.mlp_gamma.weight"] == (256, 128, 3, 3)
    assert shapes["head_0.norm_0.param_free_norm.running_mean"] == (1024,)
    assert shapes["conv_img.weight"] == (3, 64, 3, 3)
    assert not any(k.startswith("up_4") for k in shapes)
    # spectral norm only on the residual convs, never inside SPADE's mlps
    assert not any("mlp" in k and k.endswith("weight_orig") for k in shapes)
    assert detect_arch(sd).name == "spade"
    cfg = infer_config(sd)
    assert (cfg.semantic_nc, cfg.ngf, cfg.num_up, cfg.use_vae, cfg.norm, cfg.spectral) == (snc, 64, "normal", False, "batch", True)


def test_official_parameter_count_ade20k():
    shapes, _ = official_shapes(151)
    params = sum(torch.Size(s).numel() for k, s in shapes.items()
                 if not k.endswith(("running_mean", "running_var", "num_batches_tracked", "weight_u", "weight_v")))
    assert params == 96_492_483  # ~96.5 M, the size of the released ADE20K generator


@pytest.mark.parametrize("dataset", list(OFFICIAL))
def test_official_layout_loads_unchanged_at_small_width(dataset, tmp_path):
    """The official key set (label channels of the dataset) saved as a plain .pth loads strictly."""
    net = SPADEGenerator(SpadeConfig(semantic_nc=OFFICIAL[dataset], ngf=4))
    path = tmp_path / "latest_net_G.pth"
    torch.save(net.state_dict(), path)
    loaded = load_model(path, task="synthesize")
    assert loaded.arch.name == "spade"
    assert loaded.hparams["semantic_nc"] == OFFICIAL[dataset] and loaded.hparams["ngf"] == 4
    for k, v in net.state_dict().items():
        assert torch.equal(loaded.module.state_dict()[k], v), k


@pytest.mark.slow
@pytest.mark.parametrize("dataset", list(OFFICIAL))
def test_official_full_size_loads_unchanged(dataset):
    torch.set_num_threads(1)
    net = SPADEGenerator(SpadeConfig(semantic_nc=OFFICIAL[dataset]))
    loaded = load_model(net.state_dict())
    assert loaded.hparams["ngf"] == 64
    x = torch.zeros(1, OFFICIAL[dataset], 256, 256)
    x[:, 0] = 1
    with torch.no_grad():
        assert loaded.module(x).shape == (1, 3, 256, 256)


def test_old_checkpoint_without_weight_v_is_completed():
    net = SPADEGenerator(SpadeConfig(semantic_nc=12, ngf=2, spade_hidden=4))
    sd = {k: v for k, v in net.state_dict().items() if not k.endswith("weight_v")}
    loaded = load_model(sd)
    v = loaded.module.state_dict()["head_0.conv_0.weight_v"]
    assert torch.isclose(v.norm(), torch.tensor(1.0), atol=1e-4)


def test_missing_key_is_named():
    net = SPADEGenerator(SpadeConfig(semantic_nc=12, ngf=2, spade_hidden=4))
    sd = net.state_dict()
    del sd["up_1.conv_1.bias"]
    with pytest.raises(WeightsError, match="up_1.conv_1.bias"):
        load_model(sd)


def test_most_vae_aspect2_and_instance_norm_are_read_off_shapes():
    cfg = SpadeConfig(semantic_nc=36, ngf=4, num_up="most", use_vae=True, start_hw=(2, 4), norm="instance",
                      spade_hidden=8, spectral=False, encoder_layers=6)
    net = SPADEGenerator(cfg)
    got = infer_config(net.state_dict())
    assert got == cfg
    loaded = load_model(net.state_dict())
    seg = torch.zeros(1, 36, 256, 512)
    with torch.no_grad():
        out = loaded.module(seg, torch.zeros(1, 256))
    assert out.shape == (1, 3, 2 * 128, 4 * 128)  # the fc grid times 2**7
    assert float(out.abs().max()) <= 1.0


def test_more_is_taken_from_the_card_only_where_shapes_allow():
    cfg = infer_config(SPADEGenerator(SpadeConfig(semantic_nc=12, ngf=2, spade_hidden=4)).state_dict())
    assert with_overrides(cfg, {"num_upsampling_layers": "more"}).multiple == 64
    with pytest.raises(WeightsError):
        with_overrides(cfg, {"num_upsampling_layers": "most"})


def test_forward_contract_and_size_multiple():
    net = SPADEGenerator(SpadeConfig(semantic_nc=12, ngf=2, spade_hidden=4)).eval()
    seg = torch.zeros(1, 12, 64, 96)
    seg[:, 3] = 1
    with torch.no_grad():
        y = net(seg)
    assert y.shape == (1, 3, 64, 96) and float(y.abs().max()) <= 1.0
    with pytest.raises(ValueError, match="multiple of 32"):
        net(torch.zeros(1, 12, 40, 64))


def test_encoder_and_discriminator_shapes():
    enc = ConvEncoder(ndf=4, n_layers=6)
    keys = enc.state_dict().keys()
    assert "layer1.0.weight_orig" in keys and "layer6.0.weight_u" in keys and "layer1.0.bias" not in keys
    mu, logvar = enc(torch.rand(2, 3, 100, 80) * 2 - 1)
    assert mu.shape == logvar.shape == (2, 256)
    assert enc.state_dict()["fc_mu.weight"].shape == (256, 4 * 8 * 4 * 4)
    d = MultiscaleDiscriminator(12 + 3, ndf=4, n_layers=4, num_d=2)
    out = d(torch.rand(1, 15, 64, 64))
    assert len(out) == 2 and len(out[0]) == 5 and out[0][-1].shape[1] == 1
    assert "discriminator_1.model1.0.0.weight_orig" in d.state_dict()


def _uniform_map_output(padding: str) -> torch.Tensor:
    """A deterministic generator (gain-1 init: visible effects) on a one-class label map."""
    from engines.spade.archs import weights_init

    torch.manual_seed(0)
    net = SPADEGenerator(SpadeConfig(semantic_nc=12, ngf=2, spade_hidden=4, norm="instance", padding=padding))
    weights_init(net, gain=1.0)
    seg = torch.zeros(1, 12, 64, 64)
    seg[:, 5] = 1
    with torch.no_grad():
        return net.eval()(seg)[0]


def test_reflect_padding_leaves_a_uniform_map_uniform_to_the_edges():
    """Every layer is shift-equivariant, so a one-class map must give a flat image; zero padding
    reads the frame as "no class" and draws bands along the borders (issue 20)."""
    flat = _uniform_map_output("reflect")
    assert float((flat - flat.mean((1, 2), keepdim=True)).abs().max()) < 1e-4
    banded = _uniform_map_output("zeros")
    edge = torch.cat([banded[:, :2].flatten(1), banded[:, -2:].flatten(1)], 1).mean(1)
    centre = banded[:, 24:40, 24:40].flatten(1).mean(1)
    assert float((edge - centre).abs().max()) > 1e-2


def test_padding_adds_no_tensor_and_comes_from_the_card():
    from engines.spade.archs import apply_config, set_padding

    zeros = SPADEGenerator(SpadeConfig(semantic_nc=12, ngf=2, spade_hidden=4, use_vae=True, start_hw=(2, 2),
                                       norm="instance", encoder_layers=5))
    reflect = SPADEGenerator(SpadeConfig(**{**zeros.cfg.__dict__, "padding": "reflect"}))
    assert {k: v.shape for k, v in zeros.state_dict().items()} == {k: v.shape for k, v in reflect.state_dict().items()}
    cfg = infer_config(zeros.state_dict())
    assert cfg.padding == "zeros"  # official checkpoints: unchanged
    over = with_overrides(cfg, {"padding": "reflect", "num_upsampling_layers": "more"})
    assert over.padding == "reflect" and over.multiple == 64
    with pytest.raises(WeightsError, match="padding"):
        with_overrides(cfg, {"padding": "circular"})
    with pytest.raises(ValueError):
        set_padding(zeros, "replicate")
    apply_config(zeros, over)
    assert zeros.output_size(0, 0) == (128, 128)  # 2 x 2 grid, 6 x2 steps
    assert zeros.conv_img.padding_mode == "reflect" and zeros.up_3.conv_0.padding_mode == "reflect"
    assert zeros.head_0.norm_0.mlp_shared[0].padding_mode == "reflect"
    assert zeros.encoder.layer1[0].padding_mode == "zeros"  # the style encoder keeps its training padding
    seg = torch.zeros(1, 12, 128, 128)
    seg[:, 1] = 1
    with torch.no_grad():
        assert zeros.eval()(seg, torch.zeros(1, 256)).shape == (1, 3, 128, 128)


def test_mirror_pad_is_numpy_symmetric():
    import numpy as np

    from engines.spade.archs import mirror_pad

    a = np.arange(2 * 3 * 4, dtype=np.float32).reshape(1, 2, 3, 4)
    for k in (0, 1, 3, 7):  # 7: wider than the map, mirrored again
        want = np.pad(a, ((0, 0), (0, 0), (k, k), (k, k)), mode="symmetric")
        assert np.array_equal(mirror_pad(torch.from_numpy(a), k).numpy(), want)


@pytest.mark.parametrize("num_up", ["normal", "more"])
def test_context_is_the_middle_of_a_run_on_the_mirrored_larger_map(num_up):
    """context = one start cell: the run equals a plain run of a generator whose fc grid is the
    mirrored one (2 cells larger, same other tensors) on the padded map, cropped to the middle: the
    features and the mirrored labels stay aligned through every level (issue 20, border bands)."""
    from engines.spade.archs import mirror_pad, weights_init

    torch.manual_seed(0)
    cfg = SpadeConfig(semantic_nc=12, ngf=2, spade_hidden=4, use_vae=True, start_hw=(2, 3), norm="instance",
                      num_up=num_up, padding="reflect")
    net = SPADEGenerator(cfg).eval()
    weights_init(net, gain=1.0)
    big = SPADEGenerator(SpadeConfig(**{**cfg.__dict__, "start_hw": (4, 5)})).eval()
    sd = {k: v for k, v in net.state_dict().items() if not k.startswith("fc.")}
    nc = 16 * cfg.ngf
    w = net.fc.weight.detach().view(nc, 2, 3, -1).permute(0, 3, 1, 2)  # out = (w . z) as C x 2 x 3 grids
    b = net.fc.bias.detach().view(1, nc, 2, 3)
    sd["fc.weight"] = mirror_pad(w, 1).permute(0, 2, 3, 1).reshape(nc * 4 * 5, -1)
    sd["fc.bias"] = mirror_pad(b, 1).reshape(-1)
    big.load_state_dict(sd)
    cell = net.multiple
    labels = torch.randint(0, 12, (2 * cell, 3 * cell))
    padded = torch.from_numpy(__import__("numpy").pad(labels.numpy(), cell, mode="symmetric"))
    seg = torch.nn.functional.one_hot(padded, 12).permute(2, 0, 1)[None].float()
    z = torch.randn(1, cfg.z_dim)
    with torch.no_grad():
        got = net(seg, z, context=cell)
        want = big(seg, z)[:, :, cell:-cell, cell:-cell]
        plain = net(seg[:, :, cell:-cell, cell:-cell], z)
    assert got.shape == plain.shape == (1, 3, 2 * cell, 3 * cell)
    assert torch.allclose(got, want, atol=1e-5)
    assert float((got - plain).abs().max()) > 1e-3  # the context does change the picture


def test_context_any_width_keeps_the_output_size():
    net = SPADEGenerator(SpadeConfig(semantic_nc=12, ngf=2, spade_hidden=4, norm="instance", padding="reflect")).eval()
    with torch.no_grad():
        for context in (0, 5, 16, 32, 40):
            seg = torch.zeros(1, 12, 64 + 2 * context, 96 + 2 * context)
            seg[:, 2] = 1
            assert net(seg, context=context).shape == (1, 3, 64, 96)
        with pytest.raises(ValueError, match="context"):
            net(torch.zeros(1, 12, 64, 64), context=-1)
        with pytest.raises(ValueError, match="multiple of 32"):  # the picture itself must fit the grid
            net(torch.zeros(1, 12, 64 + 20, 64 + 20), context=5)
