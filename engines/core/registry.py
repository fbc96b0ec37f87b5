"""The engine registry: engines register a factory under (task, model id).

Factories are called lazily, so registering costs nothing (no torch import, no weights read).
``default`` is the bundled default of a task; ``bicubic``, ``lanczos``, ``telea`` and ``ns`` are the
classical engines.
"""

from __future__ import annotations

from typing import Callable

from .protocol import Engine, EngineError, EngineInfo, Task

_Factory = Callable[[], Engine]
_ENGINES: dict[tuple[Task, str], tuple[EngineInfo, _Factory]] = {}
_INSTANCES: dict[tuple[Task, str], Engine] = {}
_BUILTINS_LOADED = False


def register(info: EngineInfo, factory: _Factory) -> None:
    _ENGINES[(info.task, info.id)] = (info, factory)
    _INSTANCES.pop((info.task, info.id), None)


def unregister(task: Task | str, model_id: str) -> bool:
    """Forget an engine (its model was removed); True when one was registered."""
    key = (Task(task), model_id)
    _INSTANCES.pop(key, None)
    return _ENGINES.pop(key, None) is not None


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    _BUILTINS_LOADED = True
    # Each module registers its engines on import; keep these imports light (no torch at top level).
    from .. import classical  # noqa: F401
    from .. import classical_xphoto  # noqa: F401 - fsr, shiftmap (when OpenCV-contrib is installed)
    from ..sr import engine as _sr  # noqa: F401
    from ..inpaint import engine as _inpaint  # noqa: F401
    from ..colorize import engine as _colorize  # noqa: F401
    from ..spade import engine as _spade  # noqa: F401
    from ..latent import engine as _latent  # noqa: F401


def infos(task: Task | None = None) -> list[EngineInfo]:
    _load_builtins()
    return [info for (t, _), (info, _) in _ENGINES.items() if task is None or t == task]


def get(task: Task | str, model_id: str) -> Engine:
    """The engine instance for (task, model id); built once, then reused."""
    _load_builtins()
    task = Task(task)
    key = (task, model_id)
    if key not in _ENGINES:
        known = ", ".join(sorted(i for (t, i) in _ENGINES if t == task)) or "none"
        raise EngineError(f"no {task.value} engine '{model_id}' (known: {known})")
    if key not in _INSTANCES:
        _INSTANCES[key] = _ENGINES[key][1]()
    return _INSTANCES[key]
