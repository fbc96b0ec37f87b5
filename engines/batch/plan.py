"""What a batch run will do: its options, the input files, and each output's name.

Naming rules (predictable, the same on every resume):

1. The output keeps the input's relative path (sub-folders only with ``recursive``) and stem; the
   suffix is the input's own (``format="keep"``; ``.gif`` becomes ``.png``) or the format's.
2. Inputs that would give the same output name (``a.jpg`` and ``a.png`` with ``--format png``)
   each get their source extension added: ``a-jpg.png`` and ``a-png.png``.
3. A name already taken by a file this batch did not write gets ``-1``, ``-2``... unless
   ``overwrite`` is set. Names the journal recorded for a source are reused as they are.
4. A name that what rules 1-3 add would push past 255 bytes keeps its end and loses the end of
   its stem instead (a name the file system refuses could never be written).

Inputs are never written: the output folder may not be the input folder, and when it lies inside
it (with ``recursive``) it is left out of the scan.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..core.protocol import EngineError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif"})
SAVABLE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"})
FORMAT_SUFFIX = {"png": ".png", "jpg": ".jpg", "webp": ".webp", "tiff": ".tif"}
FORMATS = ("keep", *FORMAT_SUFFIX)


class BatchUsageError(EngineError):
    """The run cannot start as asked (bad folders, unknown task or model): exit code 2."""


@dataclass(frozen=True)
class BatchOptions:
    """Everything that decides what a batch run does.

    ``params`` of the task (scale, tile, radius, seed) only matter for the tasks that declare
    them (``TaskSpec.params``). ``jobs`` files are decoded/encoded in parallel; engines that use
    the accelerator still run one at a time.
    """

    task: str
    model: str = "default"
    scale: int = 4
    tile: int = 0
    radius: float = 5.0
    seed: int = 0
    masks: Path | None = None
    recursive: bool = False
    format: str = "keep"
    quality: int = 95
    overwrite: bool = False
    jobs: int = 1
    device: str = "auto"  # where the engine computes (engines.core.device); the editor's Preferences
    extra: dict[str, Any] = field(default_factory=dict)  # options of tasks that land later

    def task_params(self, keys: tuple[str, ...]) -> dict[str, Any]:
        """The values of a task's declared parameters (``extra`` first, then the fields)."""
        return {k: self.extra[k] if k in self.extra else getattr(self, k) for k in keys}


@dataclass(frozen=True)
class PlanItem:
    """One input file. Paths under the folders are POSIX-style relative strings."""

    rel: str  # the input, relative to the input folder
    source: Path
    output_rel: str  # the output, relative to the output folder


@dataclass
class Scan:
    files: list[str] = field(default_factory=list)  # relative POSIX paths, sorted
    warnings: list[str] = field(default_factory=list)  # skipped folders (loops, unreadable)
    ignored: int = 0  # other files (not images by their suffix)


def scan_inputs(in_dir: Path, recursive: bool, exclude: Path | None = None) -> Scan:
    """Image files under ``in_dir`` by suffix (case-insensitive), hidden names skipped.

    Files are listed even when they cannot be read (a broken or looping link, no permission):
    each then fails on its own with a clear message. Folder links are followed with
    ``recursive`` unless they lead back to a folder already scanned (a loop): that is a warning.
    """
    scan = Scan()
    root = in_dir.resolve()
    seen: set[tuple[int, int]] = set()
    excluded = exclude.resolve() if exclude is not None else None

    def walk(folder: Path, rel: PurePosixPath) -> None:
        try:
            st = folder.stat()
        except OSError as exc:
            scan.warnings.append(f"{rel or '.'}: folder skipped ({exc.strerror or exc})")
            return
        key = (st.st_dev, st.st_ino)
        if key in seen:
            scan.warnings.append(f"{rel}: folder skipped (a link back to a folder already scanned)")
            return
        seen.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            scan.warnings.append(f"{rel or '.'}: folder skipped ({exc.strerror or exc})")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue  # hidden: our journal and temporary files among them
            child = rel / entry.name
            try:
                is_dir = entry.is_dir()  # follows links; False for a looping or broken link
            except OSError:
                is_dir = False
            if is_dir:
                if recursive and (excluded is None or Path(entry.path).resolve() != excluded):
                    walk(Path(entry.path), child)
                elif not recursive and Path(entry.name).suffix.lower() in IMAGE_SUFFIXES:
                    # named like a photo: the user expects it in the run, so say why it is not
                    scan.warnings.append(f"{child}: skipped (a folder, not an image file; "
                                         "use --recursive for the photos inside it)")
            elif Path(entry.name).suffix.lower() in IMAGE_SUFFIXES:
                scan.files.append(str(child))
            else:
                scan.ignored += 1

    walk(root, PurePosixPath())
    scan.files.sort()
    return scan


def output_suffix(source_rel: str, fmt: str) -> str:
    if fmt != "keep":
        return FORMAT_SUFFIX[fmt]
    suffix = PurePosixPath(source_rel).suffix
    return suffix if suffix.lower() in SAVABLE_SUFFIXES else ".png"


NAME_MAX = 255  # bytes in one file name (ext4, XFS, btrfs, APFS)


def _with_stem(rel: str, stem: str, suffix: str, extra: str = "") -> str:
    """``rel`` renamed to ``stem + extra + suffix``. When what the rules add (``extra``, a longer
    suffix) would push a long name past one file name's limit, the stem is cut, at a character
    boundary, so the output can still be written (rule 4)."""
    p = PurePosixPath(rel)
    raw = os.fsencode(stem)
    room = NAME_MAX - len(os.fsencode(extra + suffix))
    if len(raw) > room:
        while room > 0 and (raw[room] & 0xC0) == 0x80:  # not inside a UTF-8 character
            room -= 1
        stem = os.fsdecode(raw[:room])
    return str(p.with_name(stem + extra + suffix))


def plan_outputs(
    files: list[str],
    in_dir: Path,
    out_dir: Path,
    fmt: str,
    overwrite: bool,
    assigned: dict[str, str],
) -> list[PlanItem]:
    """Output names for ``files`` following the module's rules; ``assigned`` are the names a
    journal recorded for sources (kept as they are, and never given to another source)."""
    wanted: dict[str, str] = {}
    for rel in files:
        p = PurePosixPath(rel)
        wanted[rel] = _with_stem(rel, p.stem, output_suffix(rel, fmt))
    # Rule 2: clashes inside the plan (case-insensitive: macOS and Windows folders are).
    groups: dict[str, list[str]] = {}
    for rel, out in wanted.items():
        groups.setdefault(out.casefold(), []).append(rel)
    for members in groups.values():
        if len(members) > 1:
            for rel in members:
                p = PurePosixPath(rel)
                tag = p.suffix.lstrip(".").lower() or "noext"
                wanted[rel] = _with_stem(rel, p.stem, output_suffix(rel, fmt), extra=f"-{tag}")
    taken = {v.casefold() for k, v in assigned.items()}
    items = []
    for rel in files:
        if rel in assigned:
            out = assigned[rel]
        else:
            out = wanted[rel]
            if not overwrite:
                p = PurePosixPath(out)
                n = 0
                while out.casefold() in taken or (out_dir / out).exists() or (out_dir / out).is_symlink():
                    n += 1
                    out = _with_stem(str(p), p.stem, p.suffix, extra=f"-{n}")
        taken.add(out.casefold())
        items.append(PlanItem(rel=rel, source=in_dir / rel, output_rel=out))
    return items


def find_side_input(side_dir: Path, rel: str) -> Path | None:
    """The side file (mask, style photo) for input ``rel``: same relative path and stem, any image
    suffix, in ``side_dir`` (``photos/a.jpg`` -> ``masks/photos/a.png``); ``None`` if absent."""
    p = PurePosixPath(rel)
    folder = side_dir / str(p.parent)
    for suffix in sorted(IMAGE_SUFFIXES):
        for candidate in (folder / (p.stem + suffix), folder / (p.stem + suffix.upper())):
            # lexists, not is_file: a folder, a link loop or a pipe with the mask's name is the
            # user's mask gone wrong; loading it says what is wrong instead of "no mask"
            if os.path.lexists(candidate):
                return candidate
    return None
