"""How every model chooser lists a task's engines: ``default`` first, the model it stands for not
listed a second time, the description (or licence) as each item's tooltip, the previous choice kept
when it still exists."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from engines.core.protocol import EngineInfo


def listed_infos(infos: Iterable[EngineInfo]) -> list[EngineInfo]:
    infos = list(infos)
    aliased = {i.alias_of for i in infos if i.alias_of}
    return [i for i in sorted(infos, key=lambda i: i.id != "default") if i.id not in aliased]


def fill_model_combo(combo: QComboBox, infos: Iterable[EngineInfo]) -> None:
    """Refill ``combo`` (item data = engine id) without emitting while it is half-filled."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for info in listed_infos(infos):
        combo.addItem(info.title, info.id)
        combo.setItemData(combo.count() - 1, info.description or info.license, Qt.ItemDataRole.ToolTipRole)
    index = combo.findData(current) if current is not None else -1
    combo.setCurrentIndex(index if index >= 0 else 0)
    combo.blockSignals(False)
