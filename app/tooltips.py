"""Tooltips everywhere, with the shortcut: "Upscale (Ctrl+U)".

``action_tooltips`` gives every QAction a tooltip from its status tip (or text) plus its shortcut;
``ShortcutTips`` shows an action's shortcut in the tooltip of the buttons that do the same thing;
``fill_missing`` gives every button and field still without one a tooltip from its text or its
form label (a last resort: the panels set real ones where they have something to say).
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QToolTip, QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QFormLayout, QLabel, QLineEdit, QWidget,
)

FIELDS = (QComboBox, QAbstractSpinBox, QLineEdit, QAbstractSlider)


def plain(text: str) -> str:
    """Menu text without its mnemonic and ellipsis: "Save &As…" -> "Save As"."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").rstrip(".").strip()


def shortcut_text(seq: QKeySequence) -> str:
    return seq.toString(QKeySequence.SequenceFormat.NativeText)


def with_shortcut(tip: str, seq: QKeySequence | str | None) -> str:
    """``tip`` + " (Ctrl+U)", once (a tip that already names the shortcut is left as it is)."""
    keys = shortcut_text(QKeySequence(seq)) if seq else ""
    if not keys or f"({keys})" in tip:
        return tip
    return f"{tip} ({keys})"


def action_tooltips(actions) -> int:
    """Tooltips for actions: status tip or text, then the shortcut. Returns how many were set."""
    count = 0
    for act in actions:
        if not isinstance(act, QAction) or act.isSeparator() or not act.text():
            continue
        name, own = plain(act.text()), act.toolTip()
        if own and own != name and own != act.text():
            base = own  # a tooltip of its own (a tool's "Brush (B) — Paint ...")
        elif act.statusTip():
            base = f"{name}: {act.statusTip()}"
        else:
            base = name
        tip = with_shortcut(base, act.shortcut())
        if act.toolTip() != tip:
            act.setToolTip(tip)
            count += 1
    return count


def _key(obj: QObject) -> int:
    return shiboken6.getCppPointer(obj)[0]


class ShortcutTips(QObject):
    """Shows a button's tooltip with the shortcut of the action that does the same thing
    ("Fill the painted mask (Ctrl+F)"), read when the tooltip is shown: the panels change their
    buttons' tooltips to say why a button is disabled, and that text stays theirs."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._actions: dict[int, QAction] = {}

    def add(self, button: QWidget | None, act: QAction | None) -> None:
        if button is None or act is None:
            return
        key = _key(button)
        self._actions[key] = act
        button.installEventFilter(self)
        button.destroyed.connect(lambda *_: self._actions.pop(key, None))

    def tip(self, button: QWidget) -> str:
        """The tooltip ``button`` shows now."""
        act = self._actions.get(_key(button))
        if act is None:
            return button.toolTip()
        return with_shortcut(button.toolTip() or act.statusTip() or plain(act.text()), act.shortcut())

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.ToolTip and _key(obj) in self._actions:
            QToolTip.showText(event.globalPos(), self.tip(obj), obj)
            return True
        return False


def _form_label(widget: QWidget) -> str:
    parent = widget.parentWidget()
    w = widget
    while parent is not None:
        form = parent.layout()
        if isinstance(form, QFormLayout):
            label = form.labelForField(w)
            if isinstance(label, QLabel) and label.text():
                return plain(label.text())
        w, parent = parent, parent.parentWidget()
        if w is widget.window():
            break
    return ""


def fill_missing(root: QWidget) -> list[QWidget]:
    """Tooltips for buttons and fields under ``root`` that have none; returns those still without."""
    left: list[QWidget] = []
    for w in root.findChildren(QWidget):
        if w.toolTip() or not isinstance(w, (QAbstractButton, *FIELDS)):
            continue
        if isinstance(w, QLineEdit) and isinstance(w.parentWidget(), (QAbstractSpinBox, QComboBox)):
            continue  # the editor inside a spin box or combo: its owner has the tooltip
        owner = w.parentWidget()
        if owner is not None and owner.toolTip() and type(owner).__module__.startswith("app.widgets"):
            w.setToolTip(owner.toolTip())  # a part of a compound field (a SliderSpin's slider)
            continue
        text = plain(w.text()) if isinstance(w, QAbstractButton) else ""
        label = _form_label(w)
        if isinstance(w, QAbstractButton):
            tip = text or label or w.accessibleName()
        else:
            tip = label or w.accessibleName() or (w.placeholderText() if isinstance(w, QLineEdit) else "")
        if tip:
            w.setToolTip(tip)
        else:
            left.append(w)
    return left
