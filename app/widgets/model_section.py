"""The frame of an Engines-dock section that runs the model chosen in its own combo (Latent editing,
Semantic synthesis): the status line and the Model row at its top, the chooser's look-ups, the
no-model refusal and the cancelling of the section's jobs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QWidget

from engines.core import EngineInfo, Task, registry

from .model_list import fill_model_combo

if TYPE_CHECKING:
    from ..engine_controller import EngineController


class ModelSection(QGroupBox):
    """Subclasses set ``TASK`` and ``NO_MODEL`` (the error shown when no model is installed) and
    define ``_model_changed`` (called when the choice changes and after every re-listing)."""

    TASK: Task
    NO_MODEL: str

    def __init__(self, title: str, controller: EngineController, parent: QWidget | None = None):
        super().__init__(title, parent)
        self.controller = controller

    def _add_model_row(self, form: QFormLayout) -> None:
        """``self.status`` (a word-wrapped line) and ``self.model`` (the chooser) as the form's next
        two rows."""
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.model = QComboBox()
        self.model.currentIndexChanged.connect(self._model_changed)
        form.addRow(self.status)
        form.addRow("Model", self.model)

    def _model_changed(self, *_args) -> None:
        raise NotImplementedError

    def reload_models(self) -> None:
        """(Re)list the installed models of the task, keeping the choice when it still exists."""
        fill_model_combo(self.model, registry.infos(self.TASK))
        self._model_changed()

    def has_model(self) -> bool:
        return self.model.count() > 0

    def model_id(self) -> str | None:
        return self.model.currentData()

    def model_info(self) -> EngineInfo | None:
        return next((i for i in registry.infos(self.TASK) if i.id == self.model_id()), None)

    def model_missing(self) -> bool:
        """True, after showing ``NO_MODEL`` as an error, when no model is installed."""
        if self.has_model():
            return False
        self.controller.error.emit(self.NO_MODEL)
        return True

    def _cancel_jobs(self, job_ids: Iterable[int]) -> None:
        """Ask the runner to cancel each of these jobs (their cancelled signals follow)."""
        for job_id in list(job_ids):
            self.controller.runner.cancel(job_id)
