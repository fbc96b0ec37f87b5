"""The model chooser every task section uses: the registered engines of one task, default first."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox, QStylePainter

from engines.core import Task, registry

from .model_list import fill_model_combo


class ModelCombo(QComboBox):
    """The engines registered for ``task`` (item data = engine id); the Engines dock finds every
    section's ModelCombo to re-list them and to show a "no model installed" line under it."""

    def __init__(self, task: Task):
        super().__init__()
        self.task = task
        # long titles ("Default: Texture fill (PatchMatch, structure from ...)") must not widen the
        # dock past the screen: the combo is as wide as the dock gives, the popup shows them whole
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(16)
        self.view().setTextElideMode(Qt.TextElideMode.ElideNone)
        self.currentIndexChanged.connect(self._tooltip_follows)
        self.reload()

    def _tooltip_follows(self, *_args) -> None:
        """The full title (it may be elided in the box) and the description as the combo's tooltip."""
        tip = self.itemData(self.currentIndex(), Qt.ItemDataRole.ToolTipRole) or ""
        self.setToolTip(f"{self.currentText()}\n\n{tip}".strip())

    def _elide(self, opt: QStyleOptionComboBox) -> str:
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        room = field.width() - (opt.iconSize.width() + 4 if not opt.currentIcon.isNull() else 0)
        return self.fontMetrics().elidedText(self.currentText(), Qt.TextElideMode.ElideRight, max(0, room))

    def elided_text(self) -> str:
        """The current title as the box shows it at its present width."""
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        return self._elide(opt)

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt)
        """The box draws the current title elided with "…" where it does not fit (Qt's combo clips it
        mid-word, "…structu"); the popup and the tooltip show it whole."""
        painter = QStylePainter(self)
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, opt)
        opt.currentText = self._elide(opt)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, opt)

    def reload(self) -> None:
        """(Re)list the registered engines of the task, keeping the current choice when it still exists."""
        fill_model_combo(self, registry.infos(self.task))
        self.currentIndexChanged.emit(self.currentIndex())  # dependent labels follow the new list

    def has_network(self) -> bool:
        """True when a neural model of the task is installed (classical methods do not count)."""
        return any(info.uses_torch for info in registry.infos(self.task))

    def model_id(self) -> str:
        return self.currentData()
