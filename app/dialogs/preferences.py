"""Edit ▸ Preferences… (Ctrl+,): where the engines compute (Auto / CPU / each CUDA device / MPS, as
torch sees them) and how often the photo is autosaved for crash recovery.

Both are remembered in Settings. The device goes to ``JobRunner.device`` and is used from the next
job on (a running job finishes where it started); ``install(window)`` also applies the remembered
choice at start-up, falling back to Auto (and saying so) when that device is gone.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QMainWindow, QSpinBox, QVBoxLayout, QWidget,
)

from engines.core.device import AUTO, DeviceOption, list_devices, parse_device_choice, resolve_device
from engines.core.protocol import EngineError

from ..document.recovery import MIN_INTERVAL_S
from ..settings import AUTOSAVE_INTERVAL, DEVICE, Settings

AUTOSAVE_MAX_S = 3600


def stored_device(settings: Settings) -> tuple[str, str | None]:
    """The remembered device choice, usable here: (choice, None), or ("auto", why not) when the
    stored device is unknown or not on this machine (a GPU removed, settings from another computer)."""
    text = settings.get(DEVICE)
    try:
        return parse_device_choice(text), None
    except EngineError as exc:
        return AUTO, f"{exc}; using Auto"


class PreferencesDialog(QDialog):
    def __init__(self, settings: Settings, options: list[DeviceOption] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("PreferencesDialog")
        self.setWindowTitle("Preferences — GAN Studio")
        self.settings = settings
        self.options = options if options is not None else list_devices()

        self.device = QComboBox(self)
        self.device.setObjectName("pref_device")
        self.device.setToolTip("Where the engines compute. Auto: a CUDA GPU, else Apple MPS, else the CPU.\n"
                               "Used from the next job on.")
        for option in self.options:
            self.device.addItem(option.label, option.choice)
        choice, problem = stored_device(settings)
        index = self.device.findData(choice)
        self.device.setCurrentIndex(max(0, index))
        self.device_note = QLabel(self)
        self.device_note.setObjectName("pref_device_note")
        self.device_note.setWordWrap(True)
        self._problem = problem
        self.device.currentIndexChanged.connect(self._update_note)

        self.autosave = QSpinBox(self)
        self.autosave.setObjectName("pref_autosave")
        self.autosave.setRange(0, AUTOSAVE_MAX_S)
        self.autosave.setSingleStep(15)
        self.autosave.setSuffix(" s")
        self.autosave.setSpecialValueText("Off")
        self.autosave.setToolTip("How often an edited photo is written to the recovery folder "
                                 f"(0 = off; at least {MIN_INTERVAL_S} s)")
        self.autosave.setValue(settings.get(AUTOSAVE_INTERVAL))

        form = QFormLayout()
        form.addRow("Compute &device:", self.device)
        form.addRow("", self.device_note)
        form.addRow("&Autosave every:", self.autosave)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.setMinimumWidth(440)
        self._update_note()

    def choice(self) -> str:
        return self.device.currentData() or AUTO

    def _update_note(self) -> None:
        choice = self.choice()
        if choice == AUTO:
            try:
                text = f"Auto uses {resolve_device(AUTO)} on this machine."
            except EngineError as exc:  # GANSTUDIO_DEVICE names a device that is not here
                text = str(exc)
        else:
            text = f"Engines run on {choice} from the next job on."
        if self._problem:
            text = f"The remembered device cannot be used ({self._problem}). " + text
            self._problem = None
        self.device_note.setText(text)

    def store(self) -> None:
        """Write the dialog's values into the settings (OK does this)."""
        self.settings.set(DEVICE, self.choice())
        self.settings.set(AUTOSAVE_INTERVAL, self.autosave.value())
        self.settings.sync()

    def accept(self) -> None:
        self.store()
        super().accept()


def apply(window) -> None:
    """Put the remembered preferences to use in ``window``: the runner's device, the autosave timer."""
    choice, problem = stored_device(window.settings)
    window.runner.device = choice
    if problem and hasattr(window, "_flash"):
        window._flash(f"Preferences: {problem}", 8000)
    timer = window.autosaver.timer
    interval = window.settings.get(AUTOSAVE_INTERVAL)
    if interval > 0:
        timer.start(max(MIN_INTERVAL_S, int(interval)) * 1000)
    else:
        timer.stop()


def show_preferences(window) -> bool:
    """Open the dialog (modal); on OK store and apply. Returns whether OK was pressed."""
    dialog = PreferencesDialog(window.settings, parent=window)
    window.preferences_dialog = dialog  # reachable by tests and screenshots while open
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        before = window.runner.device
        apply(window)
        if window.runner.device != before and hasattr(window, "_flash"):
            window._flash(f"Engines run on {window.runner.device} from the next job", 6000)
        return True
    finally:
        window.preferences_dialog = None
        dialog.deleteLater()


def install(window: QMainWindow) -> QAction:
    """Edit ▸ Preferences… (Ctrl+,) and the remembered device and autosave interval applied."""
    act = QAction("&Preferences…", window)
    act.setObjectName("action_preferences")
    act.setShortcut(QKeySequence("Ctrl+,"))
    act.setMenuRole(QAction.MenuRole.PreferencesRole)
    act.setStatusTip("Compute device and autosave interval")
    act.setToolTip("Preferences (Ctrl+,): compute device and autosave interval")
    act.triggered.connect(lambda checked=False: show_preferences(window))
    edit = next((a.menu() for a in window.menuBar().actions()
                 if a.menu() is not None and a.text().replace("&", "") == "Edit"), None)
    if edit is None:
        edit = window.menuBar().addMenu("&Edit")
    edit.addSeparator()
    edit.addAction(act)
    window.addAction(act)
    if hasattr(window, "actions_by_id"):
        window.actions_by_id["preferences"] = act
    apply(window)
    return act


__all__ = ["DEVICE", "PreferencesDialog", "apply", "install", "show_preferences", "stored_device"]
