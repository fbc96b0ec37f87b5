"""Menu actions as a table: id, text, shortcut, menu, handler. The window builds QActions from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenuBar, QWidget

Shortcut = QKeySequence.StandardKey | str | None


@dataclass(frozen=True)
class ActionSpec:
    id: str
    text: str
    menu: str  # "&File", "&Edit", ...
    handler: Callable[[], object] | None
    shortcut: Shortcut = None
    checkable: bool = False
    tip: str = ""
    separator_before: bool = False


def build_actions(parent: QWidget, menubar: QMenuBar, specs: list[ActionSpec]) -> dict[str, QAction]:
    menus: dict[str, object] = {}
    actions: dict[str, QAction] = {}
    for spec in specs:
        menu = menus.get(spec.menu)
        if menu is None:
            menu = menus[spec.menu] = menubar.addMenu(spec.menu)
        if spec.separator_before:
            menu.addSeparator()
        act = QAction(spec.text, parent)
        act.setObjectName(f"action_{spec.id}")
        if isinstance(spec.shortcut, QKeySequence.StandardKey):
            act.setShortcuts(spec.shortcut)
        elif spec.shortcut:
            act.setShortcut(QKeySequence(spec.shortcut))
        act.setCheckable(spec.checkable)
        if spec.tip:
            act.setStatusTip(spec.tip)
        if spec.handler is not None:
            if spec.checkable:
                act.toggled.connect(spec.handler)
            else:
                act.triggered.connect(lambda checked=False, h=spec.handler: h())
        menu.addAction(act)
        parent.addAction(act)  # shortcuts work while the menu bar is hidden too
        actions[spec.id] = act
    return actions
