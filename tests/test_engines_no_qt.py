"""DESIGN rule 1: engines/ never imports Qt (checked in a fresh interpreter)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import sys, importlib, pkgutil
import engines
for m in pkgutil.walk_packages(engines.__path__, 'engines.'):
    importlib.import_module(m.name)
bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'app')))
print('LOADED:' + ','.join(bad))
"""


def test_importing_every_engines_module_loads_no_qt():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded = out.stdout.strip().splitlines()[-1]
    assert loaded == "LOADED:", f"engines pulled in Qt or app modules: {loaded}"


def test_no_qt_import_statement_in_engines_sources():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "engines").rglob("*.py")
                 if any(line.lstrip().startswith(("import PySide6", "from PySide6", "import app", "from app"))
                        for line in p.read_text().splitlines())]
    assert offenders == []


@pytest.mark.parametrize("cmd", [["models", "list"], ["bench", "sr"]])
def test_headless_cli_runs_without_qt(cmd):
    probe = f"import sys; from app.main import main; rc = main({cmd!r}); print('QT' if any(m.startswith('PySide6') for m in sys.modules) else 'NOQT'); print(rc)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = out.stdout.strip().splitlines()
    assert lines[-2] == "NOQT", out.stderr
