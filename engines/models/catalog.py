"""The catalog of official checkpoints (``resources/models.json``) and of our bundled weights.

A catalog entry is data, not code: where the publisher puts the file, what network it is, how big,
under which licence, and the checksum when the publisher gives one. Entries without a ``url`` are
published somewhere a program cannot fetch (a Google Drive folder, a tarball of several models) or
not at all; their ``manual`` text tells the user how to get the file and import it.

Checksums, in order of strength:

- ``sha256``: the full hash published by the author. The download must match it.
- ``sha256_prefix``: the 8 hex digits the author put in the file name (BasicSR's
  ``scripts/publish_models.py`` and ``torch.hub``'s ``check_hash`` convention: the first 8 hex
  digits of the file's sha256). The download must match it; the full hash is recorded at install.
- neither: the full hash is recorded at the first verified install ("recorded at install") and
  ``ganstudio models verify`` checks the file against it afterwards.

Ids and file names become paths, so they are validated here: lowercase letters, digits, ``.``,
``_`` and ``-``, no leading dot, no separators (no ``../``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core.protocol import Task
from ..paths import BUNDLED_WEIGHTS, RESOURCES
from .errors import ModelError

CATALOG_FILE = RESOURCES / "models.json"
# Tests (and air-gapped installs with a local mirror) point the manager at another catalog.
CATALOG_ENV = "GANSTUDIO_CATALOG"

_SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,95}$")
_HEX = re.compile(r"^[0-9a-f]+$")
WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".ckpt", ".bin")


def check_name(name: str, what: str = "model id") -> str:
    """``name`` if it is safe to use as a file name; :class:`ModelError` otherwise."""
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or ".." in name:
        raise ModelError(f"invalid {what} {name!r}: use lowercase letters, digits, '.', '_' and '-' "
                         "(no folders, no '..')")
    return name


@dataclass(frozen=True)
class CatalogEntry:
    """One official checkpoint (or a pointer to one that must be fetched by hand).

    Attributes:
        id: our model id (also the installed file's stem).
        task: the task its engine serves.
        arch: architecture name as registered by the engine module (``engines.weights.register_arch``).
        title / description: shown in lists.
        url: direct download address of the publisher's file, or None (see ``manual``).
        suffix: the file's format, e.g. ``.pth`` (the installed file is ``<id><suffix>``).
        sha256 / sha256_prefix: what the publisher gives (see the module docstring), else None.
        size: bytes, when known (shown; a download larger than this is refused).
        license: the licence of the weights as the publisher states it.
        source: the publisher's page for the file.
        hparams: the architecture's hyper-parameters (documentation; the loader infers them).
        inputs: the network's input conventions (range, colour space, what the engine converts).
        manual: how to get the file when there is no ``url``.
        extra: every other field of the JSON entry.
    """

    id: str
    task: Task
    arch: str
    title: str
    url: str | None = None
    suffix: str = ".pth"
    sha256: str | None = None
    sha256_prefix: str | None = None
    size: int | None = None
    license: str = "unknown"
    source: str = ""
    description: str = ""
    hparams: dict[str, Any] = field(default_factory=dict)
    inputs: str = ""
    manual: str = ""
    bundled: bool = False  # one of our resources/weights models (always installed)
    path: Path | None = None  # bundled entries: the weights file
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def downloadable(self) -> bool:
        return bool(self.url) and not self.bundled

    @property
    def approx_size(self) -> int | None:
        """Bytes: the exact size when known, else the catalog's ``size_approx_mb`` estimate."""
        if self.size:
            return self.size
        mb = self.extra.get("size_approx_mb")
        return int(float(mb) * 1e6) if isinstance(mb, (int, float)) and mb > 0 else None

    @property
    def file_name(self) -> str:
        return f"{self.id}{self.suffix}"

    @property
    def checksum_note(self) -> str:
        if self.sha256:
            return "sha256 from the publisher"
        if self.sha256_prefix:
            return f"publisher's sha256 prefix {self.sha256_prefix} (full hash recorded at install)"
        return "no published checksum: sha256 recorded at install"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CatalogEntry":
        try:
            model_id = check_name(str(data["id"]))
            task = Task(data["task"])
            arch = str(data["arch"])
        except KeyError as exc:
            raise ModelError(f"catalog entry {data.get('id', '?')!r} lacks '{exc.args[0]}'") from exc
        except ValueError as exc:
            raise ModelError(f"catalog entry {data.get('id', '?')!r}: {exc}") from exc
        suffix = str(data.get("suffix", ".pth")).lower()
        if suffix not in WEIGHT_SUFFIXES:
            raise ModelError(f"catalog entry {model_id!r}: unknown file format {suffix!r}")
        sha = _hex_or_none(data.get("sha256"), 64, model_id)
        prefix = _hex_or_none(data.get("sha256_prefix"), None, model_id)
        url = data.get("url") or None
        if url is not None and not str(url).startswith(("https://", "http://")):
            raise ModelError(f"catalog entry {model_id!r}: only http(s) downloads are allowed, not {url!r}")
        size = data.get("size")
        return cls(
            id=model_id, task=task, arch=arch, title=str(data.get("title", model_id)), url=url,
            suffix=suffix, sha256=sha, sha256_prefix=prefix,
            size=int(size) if isinstance(size, (int, float)) and size > 0 else None,
            license=str(data.get("license", "unknown")), source=str(data.get("source", "")),
            description=str(data.get("description", "")), hparams=dict(data.get("hparams") or {}),
            inputs=str(data.get("inputs", "")), manual=str(data.get("manual", "")), extra=dict(data),
        )


def _hex_or_none(value: Any, length: int | None, model_id: str) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).lower()
    if not _HEX.match(text) or (length is not None and len(text) != length) or not 4 <= len(text) <= 64:
        raise ModelError(f"catalog entry {model_id!r}: {value!r} is not a sha256 (or prefix) in hex")
    return text


def catalog_path() -> Path:
    """The catalog in use: ``$GANSTUDIO_CATALOG`` when set, else the bundled ``resources/models.json``."""
    override = os.environ.get(CATALOG_ENV)
    return Path(override) if override else CATALOG_FILE


def load_catalog(path: str | os.PathLike[str] | None = None, bundled: Path | None = BUNDLED_WEIGHTS) -> list[CatalogEntry]:
    """Catalog entries: the bundled models (from their cards in ``bundled``) first, then the file's.

    Raises :class:`ModelError` for an unreadable catalog, a bad entry or a duplicate id.
    """
    p = Path(path) if path is not None else catalog_path()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"model catalog not found: {p}") from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"model catalog {p} is unreadable: {exc}") from exc
    raw = data.get("models") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise ModelError(f"model catalog {p} has no 'models' list")
    entries = bundled_entries(bundled) if bundled is not None else []
    seen = {e.id for e in entries}
    for item in raw:
        if not isinstance(item, dict):
            raise ModelError(f"model catalog {p}: every entry must be an object")
        entry = CatalogEntry.from_json(item)
        if entry.id in seen:
            raise ModelError(f"model catalog {p}: id {entry.id!r} appears twice")
        seen.add(entry.id)
        entries.append(entry)
    return entries


def bundled_entries(folder: Path = BUNDLED_WEIGHTS) -> list[CatalogEntry]:
    """Our bundled weights as catalog entries (their cards say what data/command/metrics made them)."""
    out = []
    if not folder.is_dir():
        return out
    for card in sorted(folder.glob("*.json")):
        try:
            data = json.loads(card.read_text(encoding="utf-8"))
            entry = CatalogEntry.from_json({**data, "suffix": Path(str(data["file"])).suffix,
                                            "url": None, "sha256": None, "sha256_prefix": None})
        except (OSError, ValueError, KeyError, ModelError):
            continue  # engines log unreadable cards; the manager just does not list them
        path = folder / str(data["file"])
        out.append(replace(entry, bundled=True, path=path,
                           size=path.stat().st_size if path.is_file() else None))
    return out


def find_entry(model_id: str, entries: list[CatalogEntry]) -> CatalogEntry:
    """The entry with ``model_id``; :class:`ModelError` naming close ids otherwise."""
    for entry in entries:
        if entry.id == model_id:
            return entry
    import difflib

    close = difflib.get_close_matches(model_id, [e.id for e in entries], n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise ModelError(f"no model '{model_id}' in the catalog{hint}; `ganstudio models list` shows them")
