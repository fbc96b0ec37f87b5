"""File names through Qt, losslessly.

A name that is not valid UTF-8 reaches Python as a string with lone surrogates (PEP 383); a
QString cannot hold those and PySide drops them silently, so ``bad-\\xff.png`` would come back
from an item's data as ``bad-.png``: a different file. Keys stored in Qt (item data, signal
arguments) go through :func:`to_qt` / :func:`from_qt`, a bijection over all names; what the user
reads goes through :func:`display` (``\\xNN`` for such bytes).
"""

from __future__ import annotations

import os

from engines.readable import readable as display

__all__ = ["display", "from_qt", "to_qt"]

_ESCAPED = "\ue000"  # private use: never a BOM, which Qt would read as a byte order


def to_qt(name: str) -> str:
    """A Qt-safe key for ``name``: names without surrogates are unchanged."""
    raw = os.fsencode(name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    # a leading byte-order mark (either order) is taken by Qt as one: escape those names too
    if text is not None and not text.startswith((_ESCAPED, "\ufeff", "\ufffe")):
        return text
    # one character per byte, behind a private-use character that marks the key as escaped
    return _ESCAPED + raw.decode("latin-1")


def from_qt(key: str) -> str:
    """The name :func:`to_qt` was given."""
    if key.startswith(_ESCAPED):
        return os.fsdecode(key[1:].encode("latin-1"))
    return key
