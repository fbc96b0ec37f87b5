"""What a model card (``<name>.json`` beside its weights) says, shared by every engine family that
lists models from cards (finding the card files is :mod:`engines.cards`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ModelCard:
    """What a ``.json`` model card says (only ``id`` and ``file`` are required)."""

    id: str
    path: Path
    title: str = ""
    license: str = "unknown"
    description: str = ""
    default: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, card: Path) -> "ModelCard":
        return cls.from_data(card, json.loads(card.read_text(encoding="utf-8")))

    @classmethod
    def from_data(cls, card: Path, data: dict[str, Any]) -> "ModelCard":
        return cls(
            id=str(data["id"]), path=card.parent / str(data["file"]), title=str(data.get("title", data["id"])),
            license=str(data.get("license", "unknown")), description=str(data.get("description", "")),
            default=bool(data.get("default", False)), extra=data,
        )
