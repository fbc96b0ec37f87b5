"""Model-card discovery shared by the engines: ``<id>.json`` beside its weights file.

Each engine keeps its own card type (what its fields mean differs: an encoder file, a label
convention, a native scale...); this module only walks the folders (bundled first, then the user's
``<data>/models/<task>/``), reads the JSON, skips unreadable cards with a log line, and keeps only
cards whose weights file exists — so no engine ever offers a model it cannot load.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .paths import BUNDLED_WEIGHTS, user_data_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardFile:
    path: Path  # the .json card
    data: dict[str, Any]
    bundled: bool  # from resources/weights (shipped with the app), not the user's store

    @property
    def weights(self) -> Path:
        return self.path.parent / str(self.data["file"])


def default_folders(user_folder: str) -> list[Path]:
    return [BUNDLED_WEIGHTS, user_data_dir() / "models" / user_folder]


def card_files(folders: list[Path]) -> Iterator[CardFile]:
    """Readable cards (with ``id`` and an existing ``file``) in ``folders``, in order, sorted by name.

    The first folder is taken as the bundled one. Callers filter by task/arch themselves.
    """
    for i, folder in enumerate(folders):
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if not isinstance(data, dict):
                    raise ValueError("not a JSON object")
                str(data["id"]), str(data["file"])
            except (OSError, ValueError, KeyError) as exc:
                log.warning("skipping model card %s: %s", path, exc)
                continue
            card = CardFile(path, data, bundled=i == 0)
            if card.weights.is_file():
                yield card
