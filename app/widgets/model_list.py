"""How every model chooser lists a task's engines: ``default`` first, the model it stands for not
listed a second time, the description (or licence) as each item's tooltip, the previous choice kept
when it still exists. Models made for drawings (``domain: "anime"`` on their card) come last,
under a non-selectable "Anime / illustration" heading: photos are the default domain, so they are
never offered first."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox

from engines.core.protocol import EngineInfo

ILLUSTRATION_DOMAINS = ("anime",)
ILLUSTRATION_HEADING = "Anime / illustration"


def listed_infos(infos: Iterable[EngineInfo]) -> list[EngineInfo]:
    """``default`` first, then photo (and unspecified) models, then the illustration models."""
    infos = list(infos)
    aliased = {i.alias_of for i in infos if i.alias_of}
    return [i for i in sorted(infos, key=lambda i: (i.id != "default", i.domain in ILLUSTRATION_DOMAINS))
            if i.id not in aliased]


def fill_model_combo(combo: QComboBox, infos: Iterable[EngineInfo]) -> None:
    """Refill ``combo`` (item data = engine id) without emitting while it is half-filled."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    heading_added = False
    for info in listed_infos(infos):
        if info.domain in ILLUSTRATION_DOMAINS and not heading_added:
            heading_added = True
            combo.insertSeparator(combo.count())
            combo.addItem(ILLUSTRATION_HEADING, None)
            model = combo.model()
            if isinstance(model, QStandardItemModel):  # a heading, not a choice
                model.item(combo.count() - 1).setEnabled(False)
        combo.addItem(info.title, info.id)
        combo.setItemData(combo.count() - 1, info.description or info.license, Qt.ItemDataRole.ToolTipRole)
    index = combo.findData(current) if current is not None else -1
    combo.setCurrentIndex(index if index >= 0 else 0)
    combo.blockSignals(False)
