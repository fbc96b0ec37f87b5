"""The installed-model store: ``<data>/models/<task folder>/<id><suffix>`` + ``<id>.json`` card.

Engines find their models by reading the cards of their task folder (:func:`installed_cards`); the
super-resolution folder is ``sr`` (what ``engines.sr.engine`` reads), the others are the task's
value (``inpaint``, ``colorize``, ``synthesize``, ``latent``). Partial downloads live in the cache
folder, ``<cache>/downloads/``, and are never read by an engine.

Installing is atomic: the weights file is renamed into place (copied next to it first when the
cache is on another filesystem) and then the card is
written atomically; if the card cannot be written the file is removed again. An engine lists a model
only when both exist, so a reader never sees half an install.

Every card written here has, besides the fields the SR engine reads (id, file, title, task, scale,
size_multiple, license, description): ``arch``, ``hparams``, ``source``, ``sha256`` (of the
installed file), ``sha256_origin`` (``publisher`` / ``publisher prefix`` / ``recorded at install`` /
``computed at import``), ``size``, ``installed`` (UTC time) and ``origin`` (``catalog`` / ``import``).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_bytes
from ..core.protocol import Task
from ..paths import user_cache_dir, user_data_dir
from .catalog import check_name
from .errors import ModelError

TASK_FOLDERS = {Task.UPSCALE: "sr"}  # the SR engine reads models/sr; other tasks use task.value


def models_root() -> Path:
    return user_data_dir() / "models"


def task_dir(task: Task | str) -> Path:
    """Folder of installed models of ``task`` (not created)."""
    task = Task(task)
    return models_root() / TASK_FOLDERS.get(task, task.value)


def downloads_dir() -> Path:
    """Partial downloads: the cache folder (safe to delete), not the models store."""
    return user_cache_dir() / "downloads"


def part_path(model_id: str, suffix: str) -> Path:
    """Where the partial download of ``model_id`` lives (the id is validated: no separators, no ``..``)."""
    return downloads_dir() / f"{check_name(model_id)}{suffix}.part"


@dataclass(frozen=True)
class InstalledModel:
    """One card in the user's store (its weights file may be missing or damaged: see ``state``)."""

    id: str
    task: Task
    card: Path
    path: Path  # the weights file the card names
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return str(self.data.get("title", self.id))

    @property
    def license(self) -> str:
        return str(self.data.get("license", "unknown"))

    @property
    def sha256(self) -> str | None:
        return self.data.get("sha256") or None

    @property
    def size(self) -> int | None:
        return self.path.stat().st_size if self.path.is_file() else None

    @property
    def state(self) -> str:
        """``installed``, ``missing`` (no weights file) or ``corrupt`` (size differs from the card):
        a cheap check; :func:`verify` compares the sha256."""
        if not self.path.is_file():
            return "missing"
        want = self.data.get("size")
        if isinstance(want, int) and want != self.path.stat().st_size:
            return "corrupt"
        return "installed"


def installed_cards(task: Task | str | None = None) -> list[InstalledModel]:
    """Cards in the user's store, of one task or of all; unreadable cards are skipped.

    Engines call this to list their installed models: ``installed_cards(Task.INPAINT)``; use
    ``m.path`` and ``m.data`` (only models whose ``state == "installed"`` are worth registering).
    """
    tasks = [Task(task)] if task is not None else list(Task)
    out = []
    for t in tasks:
        folder = task_dir(t)
        if not folder.is_dir():
            continue
        for card in sorted(folder.glob("*.json")):
            try:
                data = json.loads(card.read_text(encoding="utf-8"))
                model_id = check_name(str(data["id"]))
                file_name = str(data["file"])
                check_name(file_name.lower(), "file name")  # a card never points outside its folder
                if Task(data.get("task", t.value)) != t:
                    continue  # e.g. an SR card in the shared folder of another task
            except (OSError, ValueError, KeyError, ModelError):
                continue
            out.append(InstalledModel(model_id, t, card, folder / file_name, data))
    return out


def find_installed(model_id: str, task: Task | str | None = None) -> InstalledModel | None:
    for m in installed_cards(task):
        if m.id == model_id:
            return m
    return None


def install_file(src: Path, model_id: str, task: Task | str, suffix: str, card: dict[str, Any]) -> InstalledModel:
    """Move ``src`` (a verified file, e.g. in the cache folder) to the store and write its card.

    ``card`` gets ``id``, ``file``, ``task``, ``size`` and ``installed`` filled in. Replaces an
    installed model with the same id. Raises :class:`ModelError` when the store cannot be written.
    """
    check_name(model_id)
    task = Task(task)
    folder = task_dir(task)
    target = folder / f"{model_id}{suffix}"
    card_path = folder / f"{model_id}.json"
    data = {"id": model_id, "file": target.name, "task": task.value, **card}
    data.update(id=model_id, file=target.name, task=task.value, size=src.stat().st_size,
                installed=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        old = find_installed(model_id, task)
        try:
            os.replace(src, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            # the cache on another filesystem: copy next to the target, then swap it in atomically
            staged = target.with_name(target.name + ".incoming")
            shutil.copyfile(src, staged)
            os.replace(staged, target)
            src.unlink()
    except OSError as exc:
        raise ModelError(f"cannot install {model_id} into {folder}: {exc.strerror or exc}") from exc
    try:
        atomic_write_bytes(card_path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise ModelError(f"cannot write the model card {card_path}: {exc.strerror or exc}") from exc
    if old is not None and old.path != target:  # same id, other format: drop the old weights
        old.path.unlink(missing_ok=True)
    return InstalledModel(model_id, task, card_path, target, data)


def remove(model_id: str, task: Task | str | None = None) -> list[Path]:
    """Delete an installed model (card + weights) and any partial download of it; returns what was
    deleted. :class:`ModelError` when there is nothing of that id."""
    check_name(model_id)
    deleted = []
    model = find_installed(model_id, task)
    if model is not None:
        for p in (model.card, model.path):  # card first: engines stop listing it at once
            if p.exists():
                p.unlink()
                deleted.append(p)
    if downloads_dir().is_dir():
        for part in downloads_dir().glob(f"{model_id}.*.part"):
            part.unlink()
            deleted.append(part)
    if not deleted:
        raise ModelError(f"'{model_id}' is not installed (bundled models cannot be removed)")
    return deleted


@dataclass(frozen=True)
class VerifyResult:
    id: str
    task: Task
    ok: bool
    message: str


def verify(task: Task | str | None = None, cancel=None) -> list[VerifyResult]:
    """Re-check every installed file against the sha256 on its card."""
    from .download import sha256_of

    results = []
    for m in installed_cards(task):
        if not m.path.is_file():
            results.append(VerifyResult(m.id, m.task, False, f"weights file missing: {m.path.name}"))
            continue
        if not m.sha256:
            results.append(VerifyResult(m.id, m.task, False, "its card has no sha256 to check against"))
            continue
        got = sha256_of(m.path, cancel)
        if got != m.sha256:
            results.append(VerifyResult(m.id, m.task, False,
                                        f"corrupt: sha256 {got[:12]}… differs from {m.sha256[:12]}… "
                                        "recorded at install; remove and install it again"))
        else:
            results.append(VerifyResult(m.id, m.task, True, f"ok ({m.data.get('sha256_origin', 'sha256')})"))
    return results
