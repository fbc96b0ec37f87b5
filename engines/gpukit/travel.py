"""What travels to the device machine: tracked files + untracked files git does not ignore +
the carried folders (e.g. ``.gpu-data``). The device call refuses more than :data:`LIMIT` bytes."""

from __future__ import annotations

import subprocess
from pathlib import Path

LIMIT = 64 * 1024 * 1024
SLACK = 1024 * 1024  # room for the tree to grow a little between a pack and the call


class TravelError(Exception):
    """The tree that would travel cannot be measured (not a git checkout, git missing)."""


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def tree_bytes(repo: Path | None = None) -> int:
    """Bytes of tracked + untracked-not-ignored files (what the device call copies)."""
    repo = Path(repo or repo_root())
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=repo, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise TravelError(f"cannot list the files of {repo} with git: {exc}") from None
    total = 0
    for name in {n for n in out.split(b"\0") if n}:
        path = repo / name.decode("utf-8", "surrogateescape")
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    return total


def carried_bytes(repo: Path | None = None, carry: tuple[str, ...] = (".gpu-data",)) -> int:
    repo = Path(repo or repo_root())
    total = 0
    for rel in carry:
        root = repo / rel
        if root.is_file():
            total += root.stat().st_size
        elif root.is_dir():
            total += sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    return total


def travel_report(repo: Path | None = None, carry: tuple[str, ...] = (".gpu-data",)) -> dict[str, int | bool]:
    tree, carried = tree_bytes(repo), carried_bytes(repo, carry)
    return {"tree_bytes": tree, "carried_bytes": carried, "total_bytes": tree + carried,
            "limit_bytes": LIMIT, "fits": tree + carried <= LIMIT}


def data_budget(repo: Path | None = None, cap: int = 20 * 1024 * 1024) -> int:
    """Bytes the packed data may take: at most ``cap``, and what the tree leaves of the limit."""
    return max(0, min(cap, LIMIT - tree_bytes(repo) - SLACK))
