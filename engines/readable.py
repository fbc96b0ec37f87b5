"""File names that are not valid UTF-8, shown readably.

On Linux a name is bytes; Python decodes the bytes that are not UTF-8 to lone surrogates
(``b"bad-\\xff.png"`` -> ``"bad-\\udcff.png"``, PEP 383). Such a string is the exact name (keep it
for opening files and in the journal) but cannot be printed or encoded as UTF-8.
:func:`readable` is for messages only: each such byte becomes ``\\xNN``, the rest is unchanged.
"""

from __future__ import annotations

import re

__all__ = ["readable"]

_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of bytes 0x80-0xff
_OTHER_SURROGATE = re.compile("[\ud800-\udfff]")


def readable(text: object) -> str:
    """``str(text)`` with undecodable file-name bytes written as ``\\xNN`` (printable, UTF-8 safe)."""
    s = _ESCAPED_BYTE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", str(text))
    return _OTHER_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", s)
