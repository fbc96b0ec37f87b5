"""What made an output file, written into it (PNG text chunk or XMP), and file checksums.

The record (a flat dict) holds: software version, task, engine title, model id, the sha256 of the
model's weights file (empty for classical engines, which have none) and the parameters. PNG gets
it as a ``GANStudio`` text chunk holding JSON; JPEG, WebP and TIFF as an XMP packet whose
``ganstudio:*`` attributes hold the same fields (``params`` as JSON).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from .. import __version__
from ..safe_read import open_regular

PNG_KEY = "GANStudio"
XMP_NS = "https://ganstudio.invalid/ns/batch/1.0/"
_HASH_CACHE: dict[tuple[str, int, int], str] = {}
_HASH_LOCK = threading.Lock()


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open_regular(path) as f:  # a pipe or device swapped in would block or never end
        while True:
            block = f.read(chunk)
            if not block:
                return h.hexdigest()
            h.update(block)


def weights_file(engine: object, params: dict[str, Any]) -> Path | None:
    """The weights file an engine runs with: ``engine.path``, or for an engine that picks a
    network per scale (``engine_for(scale)``, e.g. the SR ``default``), that network's file."""
    pick = getattr(engine, "engine_for", None)
    if callable(pick) and "scale" in params:
        try:
            engine = pick(int(params["scale"]))
        except Exception:  # noqa: BLE001 - no file to name; the run itself reports real errors
            return None
    path = getattr(engine, "path", None)
    return Path(path) if path else None


def weights_sha256(engine: object, params: dict[str, Any] | None = None) -> str:
    """sha256 of an engine's weights file (see :func:`weights_file`), cached by path, size and
    mtime; ``""`` for engines without one (classical)."""
    path = weights_file(engine, params or {})
    if not path:
        return ""
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        return ""
    key = (os.fspath(path), st.st_size, st.st_mtime_ns)
    with _HASH_LOCK:
        if key not in _HASH_CACHE:
            _HASH_CACHE[key] = file_sha256(path)
        return _HASH_CACHE[key]


def make_record(task: str, engine: Any, params: dict[str, Any]) -> dict[str, Any]:
    info = engine.info
    return {
        "software": f"GAN Studio {__version__}",
        "version": __version__,
        "task": task,
        "engine": info.title,
        "model": info.id,
        "model_sha256": weights_sha256(engine, params),
        "params": params,
    }


def png_text(record: dict[str, Any]) -> dict[str, str]:
    return {"Software": record["software"], PNG_KEY: json.dumps(record, sort_keys=True)}


def xmp_packet(record: dict[str, Any]) -> bytes:
    attrs = []
    for key, value in record.items():
        text = json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)
        attrs.append(f"ganstudio:{key}={quoteattr(text)}")
    body = "\n    ".join(attrs)
    xml = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        f'  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        f'    xmlns:ganstudio="{XMP_NS}"\n'
        f'    xmp:CreatorTool={quoteattr(record["software"])}\n'
        f"    {body}/>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )
    return xml.encode("utf-8")


def parse_xmp(xmp: bytes | str) -> dict[str, Any]:
    """The ``ganstudio:*`` fields of an XMP packet (``params`` decoded from JSON); {} if none."""
    text = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp
    start, end = text.find("<x:xmpmeta"), text.rfind("</x:xmpmeta>")
    if start < 0 or end < 0:
        return {}
    try:
        root = ET.fromstring(text[start : end + len("</x:xmpmeta>")])
    except ET.ParseError:
        return {}
    out: dict[str, Any] = {}
    prefix = "{" + XMP_NS + "}"
    for desc in root.iter("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description"):
        for key, value in desc.attrib.items():
            if key.startswith(prefix):
                name = key[len(prefix):]
                out[name] = json.loads(value) if name == "params" else value
    return out


def read_record(path: Path) -> dict[str, Any]:
    """The record written into an output file by batch ({} when it has none)."""
    from PIL import Image

    with Image.open(path) as im:
        text = getattr(im, "text", None) or {}
        if PNG_KEY in text:
            return json.loads(text[PNG_KEY])
        xmp = im.info.get("xmp")
        if not xmp and hasattr(im, "tag_v2"):
            xmp = im.tag_v2.get(700)
        return parse_xmp(xmp) if xmp else {}
