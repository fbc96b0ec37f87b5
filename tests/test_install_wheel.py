"""The wheel is the product: build it, install it (non-editable) into a fresh venv, use it from
outside the repository.

Run by ``make test`` (marked ``install``, not ``slow``; deselect with ``-m "not install"`` for a
quick local run). It needs pip to reach the package index for the dependencies (pip's cache makes
repeat runs fast) and installs ``torch==2.13.0`` first, exactly as the Makefile does, so pip takes
the local CPU wheel instead of resolving an unpinned torch.

What it checks, from a folder outside the repo with no ``GANSTUDIO_RESOURCES`` and no ``PYTHONPATH``:
``ganstudio --version``, ``python -m app --version``, ``ganstudio models list`` (the bundled models),
``ganstudio batch --task upscale --model default`` on two photos (exit 0, 4x outputs),
``ganstudio --install-desktop`` (menu entry pointing at the venv's launcher, icons),
``ganstudio --screenshot`` (exit 0, a non-blank PNG of the requested width), and that the resources
were found inside the installed package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
TORCH_PIN = "torch==2.13.0"  # the Makefile's pin
# what the wheel is built from: the packages, the resources and the packaging files
SOURCES = ("app", "engines", "resources", "pyproject.toml", "setup.py", "README.md", "LICENSE")

pytestmark = [pytest.mark.install, pytest.mark.timeout(1500)]


def _run(cmd, cwd, env, timeout=900):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, wheel path, clean environment, work folder outside the repo)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:  # a copy: the build leaves build/ and *.egg-info behind, not in the repo
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    env = {k: v for k, v in os.environ.items()
           if k not in ("GANSTUDIO_RESOURCES", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(QT_QPA_PLATFORM="offscreen", PIP_DISABLE_PIP_VERSION_CHECK="1")
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(src), "-w", str(dist)], tmp, env)
    wheel = next(dist.glob("ganstudio-*.whl"))
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp, env)
    bindir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    py = bindir / "python"
    _run([py, "-m", "pip", "install", "-q", TORCH_PIN], tmp, env)
    _run([py, "-m", "pip", "install", "-q", str(wheel)], tmp, env)
    work = tmp / "elsewhere"  # not the repo: nothing can be found by accident from the cwd
    work.mkdir()
    env["GANSTUDIO_DATA"] = str(tmp / "user-data")
    env["GANSTUDIO_SETTINGS"] = str(tmp / "user-settings.ini")
    return bindir, wheel, env, work


def test_wheel_carries_resources_and_licence(installed):
    _, wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("engines/resources/models.json", "engines/resources/palettes/basic.json",
                     "engines/resources/samples/astronaut.png", "engines/resources/weights/ganstudio-sr-x4.safetensors",
                     "engines/resources/desktop/ganstudio.desktop", "engines/resources/icons/ganstudio.svg",
                     "engines/resources/icons/ganstudio.png", "engines/resources/LICENSES.md",
                     "app/__main__.py"):
        assert required in names, required
    shipped = {f"engines/resources/{p.relative_to(ROOT / 'resources').as_posix()}"
               for p in (ROOT / "resources").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert sorted(shipped - names) == []  # every bundled file, not only the JSON
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(meta).decode()
    assert "License-Expression: MIT" in text


def test_installed_app_runs_outside_the_repo(installed):
    bindir, _, env, work = installed
    exe = bindir / "ganstudio"
    from engines import __version__

    assert _run([exe, "--version"], work, env).stdout.strip() == f"ganstudio {__version__}"
    assert _run([bindir / "python", "-m", "app", "--version"], work, env).stdout.strip() == f"ganstudio {__version__}"
    where = _run([bindir / "python", "-c", "from engines import paths; print(paths.RESOURCES)"], work, env).stdout
    assert "site-packages" in where and str(ROOT) not in where, where

    listed = _run([exe, "models", "list"], work, env).stdout
    for model in ("ganstudio-sr-x4", "pconv-compact-w16", "colorize-siggraph17-w025-spread"):
        assert model in listed

    photos, out = work / "photos", work / "out"
    photos.mkdir()
    for name in ("astronaut.png", "coffee.png"):  # two small crops keep the x4 upscale quick
        Image.open(ROOT / "resources" / "samples" / name).convert("RGB").crop((0, 0, 40, 32)).save(photos / name)
    _run([exe, "batch", photos, out, "--task", "upscale", "--model", "default", "--quiet"], work, env)
    for name in ("astronaut.png", "coffee.png"):
        assert Image.open(out / name).size == (160, 128)

    xdg = work / "xdg"
    _run([exe, "--install-desktop"], work, {**env, "XDG_DATA_HOME": str(xdg)})
    entry = (xdg / "applications" / "ganstudio.desktop").read_text()
    assert f"Exec={exe} %F" in entry and (xdg / "icons/hicolor/scalable/apps/ganstudio.svg").is_file()

    shot = work / "shot.png"
    _run([exe, "--screenshot", shot, "--size", "900x600"], work, env)
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.float32)
    assert pixels.shape[1] == 900 and pixels.shape[0] >= 600  # the window's minimum height may be taller
    assert pixels.std() > 10  # a window with widgets, not a blank frame
