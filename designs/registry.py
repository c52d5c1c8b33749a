"""Design spaces by name: rebuild a stored ``(space, genome)`` record as a design object."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from designs.base import Design
from designs.checkerboard import Checkerboard
from designs.hierarchical import Hierarchical
from designs.spinodal import Spinodoid

__all__ = ["DESIGN_SPACES", "design_from_record", "read_designs"]

#: Read-only map: design space name → design class (each has ``from_json(genome)``).
DESIGN_SPACES: Mapping[str, type] = MappingProxyType(
    {cls.space: cls for cls in (Checkerboard, Hierarchical, Spinodoid)}
)


def design_from_record(space: str, genome: Any) -> Design:
    """Build the design of space ``space`` from its genome; ``ValueError`` if either is invalid."""
    try:
        cls = DESIGN_SPACES[space]
    except KeyError:
        raise ValueError(f"unknown design space {space!r}; known: {', '.join(sorted(DESIGN_SPACES))}") from None
    return cls.from_json(genome)


def read_designs(path: str | Path, default_space: str | None = None) -> list[Design]:
    """Read designs from a JSON file (a list) or a JSON-lines file (one design per line).

    Each entry is ``{"space": ..., "genome": {...}}``, or a bare genome when ``default_space``
    is given (e.g. the output of ``Checkerboard.to_json``).

    Raises
    ------
    ValueError
        Unreadable file, invalid JSON, or an invalid design; the message names the entry.
    """
    file = Path(path)
    try:
        text = file.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read designs from {file}: {exc}") from None
    stripped = text.strip()
    if not stripped:
        raise ValueError(f"{file} holds no designs")
    try:
        if stripped.startswith("["):
            entries = json.loads(stripped)
        else:
            entries = [json.loads(line) for line in stripped.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise ValueError(f"{file} is not JSON or JSON lines: {exc}") from None
    designs = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ValueError(f"{file}, design {number}: expected a JSON object, got {type(entry).__name__}")
        if "space" in entry and "genome" in entry:
            space, genome = entry["space"], entry["genome"]
        elif default_space is not None:
            space, genome = default_space, entry
        else:
            raise ValueError(f"{file}, design {number}: needs 'space' and 'genome' keys")
        try:
            designs.append(design_from_record(space, genome))
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"{file}, design {number}: {exc}") from None
    return designs
