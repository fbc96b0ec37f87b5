"""The Batch dialog with hostile names and files (issue 18, defects 1 and 2 in the editor): a
name that is not UTF-8 is shown readably and stays the same file through the gallery (open,
mark to redo), and a FIFO that fails does not block the thumbnail reader."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image
from test_batch_dialog import dialog  # noqa: F401 - the same bicubic x2 dialog fixture

from app.dialogs.batch_dialog import MARK

BAD_NAME = os.fsdecode(b"bad-\xff.png")


def test_a_name_that_is_not_utf8_survives_the_gallery_and_a_fifo_does_not_block(qtbot, dialog, tmp_path):
    d = dialog
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (12, 16, 3), dtype=np.uint8)).save(src / BAD_NAME)
    if hasattr(os, "mkfifo"):
        os.mkfifo(src / "x.png")  # fails; its thumbnail must not open the pipe (that blocks)
    assert d.start_run()
    qtbot.waitUntil(lambda: d.worker is None, timeout=60000)
    texts = [d.gallery.item(i).text() for i in range(d.gallery.count())]
    assert texts[0] == "bad-\\xff.png"  # readable, not "bad-.png"
    d.gallery.item(0).setSelected(True)
    d.open_selected()
    assert d.opened == [str(tmp_path / "out" / BAD_NAME)]  # the very file, bytes and all
    d.toggle_marks()
    assert d.gallery.item(0).text() == MARK + "bad-\\xff.png" and d.marked() == {BAD_NAME}
    assert d.redo_marked()
    qtbot.waitUntil(lambda: d.worker is None, timeout=60000)
    assert d.last_summary.done == [BAD_NAME]  # redone: the mark named the right file
