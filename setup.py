"""What pyproject.toml cannot say declaratively: the packages are found (app*, engines*) *and* the
top-level ``resources/`` folder ships inside the installed package as ``engines/resources/`` (each
sub-folder a data-only package), where ``engines.paths`` finds it with importlib.resources.
Everything else is in pyproject.toml."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent
# resources/, resources/weights, resources/samples, ... -> engines.resources, engines.resources.weights, ...
RESOURCE_PACKAGES = ["engines.resources"] + sorted(
    "engines.resources." + ".".join(d.relative_to(HERE / "resources").parts)
    for d in (HERE / "resources").rglob("*") if d.is_dir() and d.name != "__pycache__")

setup(
    packages=find_packages(include=["app", "app.*", "engines", "engines.*"]) + RESOURCE_PACKAGES,
    package_dir={"engines.resources": "resources"},
    # every file of the resource folders (weights, cards, samples, icons...); JSON beside the code
    package_data={"": ["*.json"], **{name: ["*"] for name in RESOURCE_PACKAGES}},
)
