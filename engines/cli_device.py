"""``--device`` for the headless commands (``batch``, ``bench <task>``, ``train <task>``): one argparse
helper and one check, so every command spells, validates and applies the device the same way.

The check runs once, in ``engines/cli.py``'s ``main``, before a command starts: an unknown or
unavailable device (``--device cuda:7`` on a machine without it) is a one-line message on stderr
and exit code 2, never a traceback halfway through a run. A concrete device is then exported as
``$GANSTUDIO_DEVICE`` for this process, so every ``make_context`` in it (batch files, bench rows)
and the worker processes it starts (bench fuzz, Ray actors, the GPU kit's trainers) compute there.
"""

from __future__ import annotations

import argparse
import os
import sys

from .core.device import AUTO, DEVICE_ENV, parse_device_choice, resolve_device
from .core.protocol import EngineError

DEVICE_HELP = "where models compute: auto (CUDA, else MPS, else CPU), cpu, cuda, cuda:N or mps"


def add_device_argument(parser: argparse.ArgumentParser, default: str = AUTO) -> None:
    """Give ``parser`` a ``--device`` option (default ``auto``) unless it already has one (the
    commands that declare their own keep its default: ``train spade|segment|igan`` cpu, ``train all``
    cuda); either way :func:`apply_device` checks the value."""
    try:
        parser.add_argument("--device", default=default, help=DEVICE_HELP)
    except argparse.ArgumentError:  # the command declares its own --device
        pass


def apply_device(args: argparse.Namespace, command: str) -> str | None:
    """Validate ``args.device`` and put it to use; returns an error message (exit 2) or None.

    After it, ``args.device`` is the normalised choice; for ``train`` commands, whose trainers take
    a concrete device, ``auto`` is resolved too. A device the user named is exported as
    ``$GANSTUDIO_DEVICE`` (see the module docstring); ``auto`` leaves the environment as it is.
    """
    text = getattr(args, "device", None)
    if text is None:
        return None
    try:
        asked = choice = parse_device_choice(text)
        if command.startswith("ganstudio train") and choice == AUTO:
            choice = resolve_device(AUTO)
    except EngineError as exc:
        return f"{command}: {exc}"
    args.device = choice
    if asked != AUTO:  # only what the user named; auto keeps $GANSTUDIO_DEVICE's say
        os.environ[DEVICE_ENV] = asked
    return None


def report(message: str) -> int:
    print(message, file=sys.stderr)
    return 2
