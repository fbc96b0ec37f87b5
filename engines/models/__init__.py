"""The model manager: a catalog of official checkpoints, verified downloads, imports, the installed store.

- :mod:`.catalog` reads ``resources/models.json`` (``$GANSTUDIO_CATALOG`` overrides) and the bundled cards.
- :mod:`.download` fetches one URL into a resumable ``.part`` file (timeouts, cancel, size cap).
- :mod:`.install` is the store ``<data>/models/<task>/<id>.<ext>`` + ``<id>.json``;
  :func:`installed_cards` is what an engine calls to list its installed models.
- :mod:`.identify` recognises a weights file's architecture (any registered task).
- :mod:`.manager` ties them together for ``ganstudio models`` and the Models dialog.

Importing this package is cheap: no torch, no network, no file scanning.
"""

from .catalog import CatalogEntry, catalog_path, find_entry, load_catalog
from .errors import ModelError
from .install import InstalledModel, installed_cards, task_dir
from .manager import (
    ModelRow, download, import_path, model_rows, on_models_changed, open_folder_path, refresh_engines, remove,
    verify,
)

__all__ = [
    "CatalogEntry", "InstalledModel", "ModelError", "ModelRow", "catalog_path", "download", "find_entry",
    "import_path", "installed_cards", "load_catalog", "model_rows", "on_models_changed", "open_folder_path",
    "refresh_engines", "remove", "task_dir", "verify",
]
