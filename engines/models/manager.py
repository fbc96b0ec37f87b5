"""What ``ganstudio models`` and the Models dialog do: list, download, import, verify, remove, refresh.

Long work (download, import) is a generator yielding :class:`~engines.core.protocol.Progress` and
returning the :class:`~engines.models.install.InstalledModel`, so the CLI prints a progress line and
the dialog runs it off the UI thread with a cancel token, from the same code.

A download installs only after three checks: the sha256 (or the publisher's prefix) matches, the
file reads as plain weights (``.safetensors`` or ``torch.load(weights_only=True)``), and, when the
catalog's architecture is registered, it is that architecture and loads strictly.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Generator

from ..core.cancel import CancelToken, Cancelled
from ..core.protocol import Progress, Task
from ..safe_read import file_kind
from ..weights import WeightsError, require_finite
from . import install
from .catalog import WEIGHT_SUFFIXES, CatalogEntry, check_name, find_entry, load_catalog
from .download import DEFAULT_TIMEOUT, fetch, sha256_of
from .errors import ModelError
from .install import InstalledModel

log = logging.getLogger(__name__)

InstallGenerator = Generator[Progress, None, InstalledModel]


# ----------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class ModelRow:
    """One line of ``models list`` / one row of the Models dialog."""

    id: str
    task: Task
    title: str
    state: str  # bundled | installed | corrupt | missing | partial | available | manual
    size: int | None
    license: str
    source: str
    note: str = ""  # checksum status, or how to get a manual model
    entry: CatalogEntry | None = None
    installed: InstalledModel | None = None

    @property
    def size_text(self) -> str:
        """``64.0 MB``, ``≈ 66.8 MB`` (catalog estimate before the download) or ``?``."""
        if self.size:
            return format_size(self.size)
        approx = self.entry.approx_size if self.entry is not None else None
        return f"≈ {format_size(approx)}" if approx else "?"


def format_size(n: int) -> str:
    if n >= 1e9:
        return f"{n / 1e9:.2f} GB"
    if n >= 1e6:
        return f"{n / 1e6:.1f} MB"
    return f"{n / 1e3:.0f} kB"


def model_rows(entries: list[CatalogEntry] | None = None) -> list[ModelRow]:
    """Every model the user can have: bundled, installed (catalog or imported) and available."""
    entries = load_catalog() if entries is None else entries
    installed = {m.id: m for m in install.installed_cards()}
    rows = []
    for e in entries:
        m = installed.pop(e.id, None)
        if e.bundled:
            rows.append(ModelRow(e.id, e.task, e.title, "bundled", e.size, e.license, e.source,
                                 "bundled with GAN Studio", e))
        elif m is not None:
            rows.append(_installed_row(m, e))
        else:
            part = install.part_path(e.id, e.suffix)
            if e.downloadable and part.is_file():
                state, note = "partial", f"{part.stat().st_size / 1e6:.1f} MB downloaded; Download resumes"
            elif e.downloadable:
                state, note = "available", e.checksum_note
            else:
                state, note = "manual", e.manual or "no direct download"
            rows.append(ModelRow(e.id, e.task, e.title, state, e.size, e.license, e.url or e.source, note, e))
    rows.extend(_installed_row(m, None) for m in installed.values())  # imported by the user
    return rows


def _installed_row(m: InstalledModel, entry: CatalogEntry | None) -> ModelRow:
    note = m.data.get("sha256_origin", "")
    if m.state == "missing":
        note = f"weights file {m.path.name} is missing"
    elif m.state == "corrupt":
        note = "file size differs from the card: run Verify, then remove and install again"
    return ModelRow(m.id, m.task, m.title, m.state, m.size, m.license,
                    str(m.data.get("source", "")), note, entry, m)


# ----------------------------------------------------------------------------- download


def download(model_id: str, entries: list[CatalogEntry] | None = None, *, timeout: float = DEFAULT_TIMEOUT,
             cancel: CancelToken | None = None) -> InstallGenerator:
    """Download, verify and install a catalog model; yields progress, returns the installed model.

    The partial file stays in ``<cache>/downloads`` after an interruption or a cancel (the
    next call resumes it) and is deleted when its checksum or contents are wrong.
    """
    entries = load_catalog() if entries is None else entries
    entry = find_entry(model_id, entries)
    if entry.bundled:
        raise ModelError(f"'{entry.id}' is bundled with GAN Studio: it is always installed")
    if not entry.url:
        raise ModelError(f"'{entry.id}' has no direct download. {entry.manual}".strip())
    cancel = cancel or CancelToken()
    member = str(entry.extra.get("archive_member") or "")
    part = install.part_path(entry.id, ".zip" if member else entry.suffix)
    # The catalog size is a loose cap against a runaway server, not a check (the sha256 is the check).
    cap = int(entry.size * 1.1) + (1 << 20) if entry.size else None
    digest = yield from fetch(entry.url, part, timeout=timeout, cancel=cancel, max_bytes=cap)
    yield Progress(1, 1, "checking")
    if member:
        return (yield from _install_zip_member(entry, part, digest, member, cancel))
    try:
        origin = _check_digest(entry, digest)
        card = _card_for_download(entry, part)
    except BaseException:
        part.unlink(missing_ok=True)  # a wrong or unreadable file is not worth resuming
        raise
    card.update(sha256=digest, sha256_origin=origin)
    cancel.raise_if_cancelled()
    return install.install_file(part, entry.id, entry.task, entry.suffix, card)


def _install_zip_member(entry: CatalogEntry, part: Path, digest: str, member: str,
                        cancel: CancelToken) -> InstallGenerator:
    """A catalog entry published inside a zip (LaMa's ``big-lama.zip``): the zip's checksum is
    checked, the one named member is streamed out (never extracted by its own path), read as weights
    only, recognised, and installed as ``.safetensors`` of the network alone; the zip is deleted."""
    import zipfile

    from .identify import identify_file

    try:
        origin = _check_digest(entry, digest)
        with tempfile.TemporaryDirectory(dir=part.parent) as tmp:
            probe = Path(tmp) / f"{entry.id}{entry.suffix}"
            try:
                with zipfile.ZipFile(part) as archive:
                    info = archive.getinfo(member)
                    limit = max(4 * (entry.size or 0), 4 << 30)  # a zip bomb is not a checkpoint
                    if info.file_size > limit:
                        raise ModelError(f"{entry.id}: {member} in the archive is {info.file_size} bytes; "
                                         "refused as implausibly large")
                    with archive.open(info) as src, open(probe, "wb") as dst:
                        while chunk := src.read(1 << 20):
                            cancel.raise_if_cancelled()
                            dst.write(chunk)
            except KeyError:
                raise ModelError(f"{entry.id}: the archive has no {member}; nothing was installed") from None
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ModelError(f"{entry.id}: the downloaded archive is damaged ({exc}); it was deleted") from exc
            yield Progress(1, 1, f"reading {member}")
            try:
                found = identify_file(probe)  # torch.load(weights_only=True) or safetensors
                require_finite(found.state_dict)
            except WeightsError as exc:
                raise ModelError(f"{entry.id}: {member} is not a usable {entry.arch} checkpoint: {exc}") from exc
            if found.arch != entry.arch:
                raise ModelError(f"{entry.id}: {member} is a {found.arch} network, the catalog says {entry.arch}; "
                                 "nothing was installed")
            card = {"title": entry.title, "license": entry.license, "source": entry.url,
                    "publisher_page": entry.source, "description": entry.description, "inputs": entry.inputs,
                    "origin": "catalog", "archive_member": member, "archive_sha256": digest,
                    "archive_sha256_origin": origin, **found.card_fields(), "arch_checked": True}
            cancel.raise_if_cancelled()
            installed = _install_state_dict(found.state_dict, entry.id, entry.task, card,
                                            {"source": f"{entry.url}#{member}"})
    except Cancelled:
        raise  # the verified archive stays in the cache: the next call starts from it
    except BaseException:
        part.unlink(missing_ok=True)  # a wrong or unreadable archive is not worth resuming
        raise
    part.unlink(missing_ok=True)
    return installed


def _check_digest(entry: CatalogEntry, digest: str) -> str:
    if entry.sha256:
        if digest != entry.sha256:
            raise ModelError(f"checksum mismatch for {entry.id}: got sha256 {digest}, the publisher's is "
                             f"{entry.sha256}. The file was deleted and nothing was installed.")
        return "publisher"
    if entry.sha256_prefix:
        if not digest.startswith(entry.sha256_prefix):
            raise ModelError(f"checksum mismatch for {entry.id}: sha256 {digest[:16]}… does not start with "
                             f"the publisher's {entry.sha256_prefix}. The file was deleted and nothing "
                             "was installed.")
        return "publisher prefix, full hash recorded at install"
    return "recorded at install"


def _card_for_download(entry: CatalogEntry, path: Path) -> dict:
    """The card of a verified download; reads the file safely and checks its architecture."""
    from .identify import identify_file, registered_arch

    card = {"title": entry.title, "license": entry.license, "source": entry.url,
            "publisher_page": entry.source, "description": entry.description, "inputs": entry.inputs,
            "origin": "catalog", "arch": entry.arch, "hparams": entry.hparams}
    if "scale" in entry.hparams:
        card["scale"] = entry.hparams["scale"]
    if entry.extra.get("domain") in ("photo", "anime"):  # what it was trained for: how lists group it
        card["domain"] = entry.extra["domain"]
    # A file with the catalog's extension is renamed for the reader (which picks the format by suffix).
    probe = path.with_name(path.name[: -len(".part")]) if path.name.endswith(".part") else path
    os.replace(path, probe)
    try:
        if not registered_arch(entry.arch):
            # The engine for this architecture is not installed (yet): still read the file safely
            # (weights only, nothing runs) so a bad file is refused now; the engine checks the rest.
            from ..weights import read_state_dict

            try:
                require_finite(read_state_dict(probe))
            except WeightsError as exc:
                raise ModelError(f"{entry.id}: the downloaded file was refused: {exc}") from exc
            card["arch_checked"] = False
            return card
        try:
            found = identify_file(probe)
            require_finite(found.state_dict)
        except WeightsError as exc:
            raise ModelError(f"{entry.id}: the downloaded file is not a usable {entry.arch} checkpoint: {exc}") from exc
        if found.arch != entry.arch:
            raise ModelError(f"{entry.id}: the downloaded file is a {found.arch} network, the catalog says "
                             f"{entry.arch}; nothing was installed")
        card.update(found.card_fields(), arch_checked=True)
        return card
    finally:
        os.replace(probe, path)


# ----------------------------------------------------------------------------- import


def import_path(src: str | os.PathLike[str], model_id: str | None = None, *,
                cancel: CancelToken | None = None) -> Generator[Progress, None, list[InstalledModel]]:
    """Import a ``.pth``/``.safetensors`` file or an ncnn folder; returns the installed models.

    The architecture is detected from key names (any registered task); a file nobody recognises is
    refused with a message naming the closest architecture and the mismatching keys. Pickles are
    read only with ``weights_only=True``. Imports are stored as ``.safetensors`` (never unpickled
    again), with the original file's sha256 on the card.
    """
    src = Path(src)
    cancel = cancel or CancelToken()
    if src.is_dir():
        return (yield from _import_ncnn_folder(src, model_id, cancel))
    if not src.is_file():
        if os.path.lexists(src):  # a pipe, a device, a broken or looping link: say which
            try:
                kind = file_kind(os.stat(src).st_mode)
            except OSError as exc:
                kind = f"unreadable ({exc.strerror or exc})"
            raise ModelError(f"cannot import {src}: it is {kind}, not a weights file")
        raise ModelError(f"no such file or folder: {src}")
    if src.suffix.lower() in (".param", ".bin") and src.with_suffix(".param").is_file():
        return (yield from _import_ncnn_folder(src.parent, model_id, cancel, only=src.with_suffix(".param")))
    if src.suffix.lower() not in WEIGHT_SUFFIXES:
        raise ModelError(f"{src.name}: not a weights file (expected {', '.join(WEIGHT_SUFFIXES)} or an ncnn folder)")
    from .identify import identify_file

    yield Progress(0, 3, f"reading {src.name}")
    source_sha = sha256_of(src, cancel)
    try:
        found = identify_file(src)
        require_finite(found.state_dict)  # NaN weights would install, verify, then fail every file
    except WeightsError as exc:
        raise ModelError(f"cannot import {src.name}: {exc}") from exc
    cancel.raise_if_cancelled()
    yield Progress(1, 3, f"recognised {found.arch} ({found.task.value})")
    model_id = check_name(model_id) if model_id else _id_from_name(src.stem)
    card = {"title": model_id, "license": "see the source of the file", "source": f"imported from {src.name}",
            "source_sha256": source_sha, "origin": "import",
            "description": f"{found.arch} x{found.scale}, imported from {src.name}", **found.card_fields()}
    card.update(_catalog_facts(model_id, found.arch))
    installed = _install_state_dict(found.state_dict, model_id, found.task, card, {"source": src.name})
    yield Progress(3, 3, "installed")
    return [installed]


def _import_ncnn_folder(folder: Path, model_id: str | None, cancel: CancelToken,
                        only: Path | None = None) -> Generator[Progress, None, list[InstalledModel]]:
    from ..sr.ncnn import import_ncnn, model_id_for
    from .identify import identify_state_dict

    params = [only] if only is not None else sorted(folder.rglob("*.param"))
    if not params:
        raise ModelError(f"{folder} holds no ncnn .param files (and a folder is only imported as ncnn)")
    if model_id and len(params) > 1:
        raise ModelError(f"{folder} holds {len(params)} ncnn models; --id names one model only")
    done = []
    for i, param in enumerate(params):
        cancel.raise_if_cancelled()
        yield Progress(i, len(params), f"converting {param.name}")
        try:
            imported = import_ncnn(param)
            found = identify_state_dict(imported.state_dict, str(param))
        except WeightsError as exc:
            raise ModelError(f"cannot import {param.name}: {exc}") from exc
        mid = check_name(model_id) if model_id else _id_from_name(model_id_for(param))
        card = {"title": mid, "license": "see the source model's licence",
                "source": f"converted from ncnn {param.name} + {param.with_suffix('.bin').name}",
                "source_sha256": sha256_of(param.with_suffix(".bin"), cancel), "origin": "import",
                "notes": imported.notes, "description": f"{found.arch} x{found.scale}, from ncnn {param.name}",
                **found.card_fields()}
        card.update(_catalog_facts(mid, found.arch))
        done.append(_install_state_dict(found.state_dict, mid, found.task, card,
                                        {"source": f"ncnn:{param.name}"}))
    yield Progress(len(params), len(params), "installed")
    return done


def _catalog_facts(model_id: str, arch: str) -> dict:
    """When an import takes a catalog id (a manual download, e.g. ``--id spade-ade20k``): check it is
    that network and take the catalog's title and licence. Bundled ids are refused (the import would
    shadow the bundled model)."""
    try:
        entries = load_catalog()
    except ModelError:
        return {}
    entry = next((e for e in entries if e.id == model_id), None)
    if entry is None:
        return {}
    if entry.bundled:
        raise ModelError(f"'{model_id}' is a bundled model; import under another id (--id NAME)")
    from .identify import registered_arch

    if registered_arch(entry.arch) and entry.arch != arch:
        raise ModelError(f"this file is a {arch} network but catalog model '{model_id}' is {entry.arch}; "
                         "import it under another id (--id NAME)")
    return {"title": entry.title, "license": entry.license, "publisher_page": entry.source,
            "inputs": entry.inputs, "catalog_id": entry.id}


def _install_state_dict(sd: dict, model_id: str, task: Task, card: dict, metadata: dict) -> InstalledModel:
    from ..weights import save_safetensors

    install.models_root().mkdir(parents=True, exist_ok=True)
    # Written beside the store (same filesystem) so the final rename is atomic.
    fd, tmp = tempfile.mkstemp(prefix=f".{model_id}.", suffix=".safetensors", dir=install.models_root())
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        save_safetensors(sd, tmp_path, half=False, metadata=metadata)
        card = {**card, "sha256": sha256_of(tmp_path), "sha256_origin": "computed at import"}
        return install.install_file(tmp_path, model_id, task, ".safetensors", card)
    finally:
        tmp_path.unlink(missing_ok=True)


def _id_from_name(name: str) -> str:
    """A safe model id from a file name chosen by the user (never from the network)."""
    text = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._") or "model"
    return check_name(text[:80])


# ----------------------------------------------------------------------------- remove / verify / refresh


# The engine module of each task; each registers one engine per model card on import and offers
# ``register_models()`` to do it again (returning the ids it registered). Absent modules are skipped.
ENGINE_MODULES = {
    Task.UPSCALE: "engines.sr.engine", Task.INPAINT: "engines.inpaint.engine",
    Task.COLORIZE: "engines.colorize.engine", Task.SYNTHESIZE: "engines.spade.engine",
    Task.LATENT: "engines.latent.engine",
}

_REFRESH_HOOKS: list[Callable[[], object]] = []


def _engine_module(task: Task):
    import importlib

    name = ENGINE_MODULES.get(task)
    if name is None:
        return None
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:  # that engine is not written yet; a broken import still raises
        if exc.name is not None and name.startswith(exc.name):
            return None
        raise


def _reregister(task: Task) -> set[str]:
    module = _engine_module(task)
    register = getattr(module, "register_models", None)
    if register is None:
        return set()
    try:
        return set(register() or ())
    except Exception:  # one broken engine module must not stop the manager
        log.exception("register_models of %s failed", module.__name__)
        return set()


def remove(model_id: str) -> list[Path]:
    """Remove an installed model and its partial download, and drop its engine registration(s).

    The engine module's ids before and after the removal are compared, so engines that register a
    model under a derived id (e.g. ``pconv-<id>``) are unregistered too.
    """
    model = install.find_installed(model_id)
    before = _reregister(model.task) if model is not None else set()
    deleted = install.remove(model_id)
    if model is not None:
        from ..core import registry

        after = _reregister(model.task)
        for stale in (before - after) | {model.id}:
            registry.unregister(model.task, stale)
    return deleted


verify = install.verify


def on_models_changed(hook: Callable[[], object]) -> None:
    """An engine module whose models are not found through ``register_models()`` can add a refresh."""
    if hook not in _REFRESH_HOOKS:
        _REFRESH_HOOKS.append(hook)


def refresh_engines() -> None:
    """Re-register engines after an install (the Engines dock then rebuilds its lists)."""
    for task in ENGINE_MODULES:
        _reregister(task)
    for hook in list(_REFRESH_HOOKS):
        try:
            hook()
        except Exception:
            log.exception("model refresh hook %r failed", hook)


def open_folder_path(task: Task | str | None = None) -> Path:
    """The folder to show the user (created so a file manager can open it)."""
    folder = install.task_dir(task) if task is not None else install.models_root()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


__all__ = ["ModelRow", "download", "import_path", "model_rows", "on_models_changed", "open_folder_path",
           "refresh_engines", "remove", "verify"]
