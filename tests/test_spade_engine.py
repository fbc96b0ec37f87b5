"""The synthesis engine contract: only installed cards register, request -> Result, seeds, style, errors."""

import json

import numpy as np
import pytest
import torch
from spade_models import write_tiny_segnet, write_tiny_spade

from engines.core import (EngineError, Progress, Result, RunContext, SynthesizeRequest, Task, drive, registry)
from engines.core.cancel import CancelToken, Cancelled
from engines.spade import engine as spade_engine


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def tiny(tmp_path):
    """A tiny random-weight VAE model installed in a tmp folder (unregistered afterwards)."""
    write_tiny_spade(tmp_path / "models")
    ids = spade_engine.register_models([tmp_path / "models"])
    yield registry.get(Task.SYNTHESIZE, "spade-tiny")
    for model_id in ids:
        registry.unregister(Task.SYNTHESIZE, model_id)


def labels_map(h=90, w=140):
    labels = np.ones((h, w), np.int32)
    labels[:20] = 0
    labels[40:70, 20:60] = 2
    labels[80:, :] = 11
    return labels


def test_nothing_installed_means_no_synthesis_model(tmp_path, hide_bundled):
    hide_bundled(Task.SYNTHESIZE)
    assert not [i for i in registry.infos(Task.SYNTHESIZE) if i.uses_torch]
    assert spade_engine.register_models([tmp_path]) == []
    (tmp_path / "orphan.json").write_text(json.dumps({"id": "orphan", "file": "missing.safetensors",
                                                      "task": "synthesize"}))
    assert spade_engine.register_models([tmp_path]) == []  # a card without its weights is not offered
    assert spade_engine.installed_segmenter([tmp_path]) is None


def test_card_registers_model_and_default(tiny):
    infos = {i.id: i for i in registry.infos(Task.SYNTHESIZE)}
    assert infos["spade-tiny"].uses_torch and infos["default"].alias_of == "spade-tiny"
    assert spade_engine.card_for("spade-tiny").palette == "facades"


def test_run_contract(tiny):
    labels = labels_map()
    gen = tiny.run(SynthesizeRequest(labels, seed=1), RunContext())
    events = []
    result = drive(gen, events.append)
    assert isinstance(result, Result) and all(isinstance(e, Progress) for e in events)
    img = result.image
    assert img.shape == (90, 140, 3) and img.dtype == np.float32 and 0 <= img.min() and img.max() <= 1
    assert result.extras["random_style"] and result.extras["work_size"] == (64, 64)
    again = drive(tiny.run(SynthesizeRequest(labels, seed=1), RunContext())).image
    other = drive(tiny.run(SynthesizeRequest(labels, seed=2), RunContext())).image
    assert np.array_equal(img, again)  # same seed, same photo
    assert np.abs(img - other).max() > 1e-3  # another seed, another style


def test_style_photo_is_used(tiny):
    labels = labels_map()
    style = np.zeros((40, 50, 3), np.float32)
    style[..., 0] = 1.0
    r = drive(tiny.run(SynthesizeRequest(labels, style_image=style, seed=1), RunContext()))
    assert r.extras["style_from_photo"] and not r.extras["random_style"]
    plain = drive(tiny.run(SynthesizeRequest(labels, seed=1), RunContext())).image
    assert np.abs(r.image - plain).max() > 1e-4


def test_unlabeled_pixels_take_the_nearest_class(tiny):
    labels = labels_map()
    labels[:, :30] = -1
    r = drive(tiny.run(SynthesizeRequest(labels, seed=0), RunContext()))
    assert r.image.shape == (90, 140, 3) and r.extras["unlabeled_share"] > 0.2


@pytest.mark.parametrize("labels,match", [
    (np.full((8, 8), -1, np.int32), "empty"),
    (np.full((8, 8), 12, np.int32), "0..11"),
    (np.zeros((8, 8, 3), np.int32), "H x W"),
    (np.zeros((8, 8), np.float32), "integer"),
])
def test_bad_label_maps_are_clear_errors(tiny, labels, match):
    with pytest.raises(EngineError, match=match):
        drive(tiny.run(SynthesizeRequest(labels), RunContext()))


def test_wrong_request_and_cancel(tiny):
    with pytest.raises(EngineError, match="SynthesizeRequest"):
        drive(tiny.run(object(), RunContext()))
    token = CancelToken()
    gen = tiny.run(SynthesizeRequest(labels_map()), RunContext(cancel=token))
    next(gen)
    token.cancel()
    with pytest.raises(Cancelled):
        drive(gen)


def test_network_input_is_exact_one_hot_after_resize():
    from engines.spade.labels import CONVENTIONS

    x = spade_engine.to_network_input(labels_map(), CONVENTIONS["facades"], (64, 96))
    assert x.shape == (12, 64, 96) and set(np.unique(x)) == {0.0, 1.0} and np.all(x.sum(0) == 1)


def test_segmenter_card(tmp_path):
    write_tiny_segnet(tmp_path)
    seg = spade_engine.installed_segmenter([tmp_path])
    labels, _ = seg(np.random.default_rng(0).random((33, 47, 3)).astype(np.float32))
    assert labels.shape == (33, 47) and labels.dtype == np.int32


def test_official_layout_imported_by_the_models_manager_runs(tmp_path):
    """A user's official ADE20K generator (small width here) -> ``models import`` -> a card the engine
    registers; unlabeled pixels go to ADE20K's don't-care channel."""
    from engines.core.protocol import drive as run
    from engines.models.manager import import_path
    from engines.spade.archs import SPADEGenerator, SpadeConfig

    torch.manual_seed(0)
    net = SPADEGenerator(SpadeConfig(semantic_nc=151, ngf=2, spade_hidden=4))
    torch.save(net.state_dict(), tmp_path / "latest_net_G.pth")
    gen = import_path(tmp_path / "latest_net_G.pth", "ade20k-official")
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        installed = stop.value
    assert installed[0].task == Task.SYNTHESIZE
    ids = spade_engine.register_models()
    try:
        model_id = next(i for i in ids if "ade20k-official" in i)
        assert spade_engine.card_for(model_id).palette == "ade20k"
        labels = np.full((40, 60), -1, np.int32)
        labels[10:30, 10:50] = 2  # sky
        r = run(registry.get(Task.SYNTHESIZE, model_id).run(SynthesizeRequest(labels), RunContext()))
        assert r.image.shape == (40, 60, 3) and r.extras["convention"] == "ade20k"
    finally:
        for model_id in ids:
            registry.unregister(Task.SYNTHESIZE, model_id)


def test_card_padding_and_upsampling_reach_the_network(tmp_path):
    """A card saying reflect / "more" (the bundled model since issue 20) runs that forward."""
    path = write_tiny_spade(tmp_path / "m", name="spade-reflect", default=False)
    card = json.loads((tmp_path / "m" / "spade-reflect.json").read_text())
    card.update(padding="reflect", num_upsampling_layers="more")
    (tmp_path / "m" / "spade-reflect.json").write_text(json.dumps(card))
    ids = spade_engine.register_models([tmp_path / "m"])
    try:
        eng = registry.get(Task.SYNTHESIZE, "spade-reflect")
        net = eng.model().module
        assert net.cfg.padding == "reflect" and net.conv_img.padding_mode == "reflect"
        result = drive(eng.run(SynthesizeRequest(labels_map(), seed=0), RunContext()))
        assert result.extras["work_size"] == (128, 128)  # 2 x 2 grid x 2**6
        assert result.image.shape == (90, 140, 3) and np.isfinite(result.image).all()
    finally:
        for model_id in ids:
            registry.unregister(Task.SYNTHESIZE, model_id)
    assert path.is_file()


def test_network_input_with_context_is_the_mirrored_map():
    from engines.spade.labels import CONVENTIONS

    c = 16
    x = spade_engine.to_network_input(labels_map(), CONVENTIONS["facades"], (64, 96), context=c)
    inner = spade_engine.to_network_input(labels_map(), CONVENTIONS["facades"], (64, 96))
    assert x.shape == (12, 64 + 2 * c, 96 + 2 * c) and np.all(x.sum(0) == 1)
    assert np.array_equal(x[:, c:-c, c:-c], inner)
    assert np.array_equal(x[:, :c, c:-c], inner[:, :c][:, ::-1])  # top band: the first rows mirrored
    assert np.array_equal(x[:, c:-c, -c:], inner[:, :, -c:][:, :, ::-1])  # right band: the last columns mirrored


def test_context_comes_from_the_card_and_reaches_the_network(tmp_path):
    """Default CONTEXT px of mirrored labels around the picture (issue 20: the outer band is
    synthesized as the interior is); a card may set it (0 = none) and a bad value is a clear error."""
    write_tiny_spade(tmp_path / "m", name="spade-ctx", default=False)
    card_path = tmp_path / "m" / "spade-ctx.json"
    ids = spade_engine.register_models([tmp_path / "m"])
    try:
        eng = registry.get(Task.SYNTHESIZE, "spade-ctx")
        with_context = drive(eng.run(SynthesizeRequest(labels_map(), seed=3), RunContext()))
        assert with_context.extras["context"] == spade_engine.CONTEXT > 0
        assert with_context.image.shape == (90, 140, 3)
        eng.card.extra["context"] = 0
        plain = drive(eng.run(SynthesizeRequest(labels_map(), seed=3), RunContext()))
        assert plain.extras["context"] == 0
        assert np.abs(plain.image - with_context.image).max() > 1e-3
        for bad in (-4, "wide"):
            eng.card.extra["context"] = bad
            with pytest.raises(EngineError, match="context"):
                drive(eng.run(SynthesizeRequest(labels_map(), seed=3), RunContext()))
    finally:
        for model_id in ids:
            registry.unregister(Task.SYNTHESIZE, model_id)
    assert card_path.is_file()


def test_bundled_model_card_sets_its_context():
    card = spade_engine.card_for("spade-facades")
    if card is None:
        pytest.skip("no bundled synthesis weights")
    eng = registry.get(Task.SYNTHESIZE, "spade-facades")
    assert eng.context() == card.extra["context"] == 32
