"""The bad-input corpus through the editor's open path (File ▸ Open): every case ends as a clear
error dialog or a correct image on the canvas, and the window stays usable."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from bad_corpus import CASES, LARGE_SIZE, chmod_works, make_corpus, quadrants, simulate_unreadable  # noqa: E402

from engines.imageio import apply_orientation  # noqa: E402

SIZES = {
    "cmyk.jpg": (64, 48), "rgb16.png": (40, 24), "rgb16.tif": (40, 24),
    "palette-transparent.png": (48, 32), "grey-alpha.png": (40, 30), "animated.gif": (30, 20),
    "large.jpg": LARGE_SIZE, "photo ünïcode café.png": (40, 30),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus-gui")
    make_corpus(folder)
    return folder


@pytest.fixture
def win(qtbot):
    from app.mainwindow import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.undo.setClean()
    w.close()


def test_every_corpus_case_opens_or_says_why(win, corpus, monkeypatch, _no_modal_dialogs):
    asked = _no_modal_dialogs  # the conftest answers QMessageBox.warning and records the text
    if not chmod_works():
        simulate_unreadable(monkeypatch, "unreadable.png")
    for case in CASES:
        before = len(asked)
        ok = win.open_path(corpus / case.name)
        if case.expect == "ok":
            assert ok, f"{case.name}: {asked[before:]}"
            assert len(asked) == before
            doc = win.canvas.doc
            if case.name.startswith("orientation-"):
                o = int(case.name.split("-")[1].split(".")[0])
                expected = apply_orientation(quadrants(), o)
                assert (doc.height, doc.width) == expected.shape[:2]
                centre = doc.image[doc.height // 4, doc.width // 4]
                assert np.abs(centre - expected[expected.shape[0] // 4, expected.shape[1] // 4] / 255).max() < 0.1
            else:
                assert (doc.width, doc.height) == SIZES[case.name], case.name
            if case.name in ("palette-transparent.png", "grey-alpha.png"):
                assert doc.has_transparency
            if case.name.startswith("rgb16"):
                assert doc.meta.bit_depth == 16
            assert win.windowTitle().startswith(case.name)
            if case.name == "animated.gif":  # the warning, in the status bar
                assert "only the first of 3 frames" in win.status.currentMessage()
        else:
            assert not ok, f"{case.name} should not open"
            assert len(asked) == before + 1, f"{case.name}: no error dialog"
            message = asked[-1]
            assert case.name in message and case.reason.lower() in message.lower(), message
    # the window is still usable: a good photo opens after all the bad ones
    assert win.open_path(corpus / "cmyk.jpg")
