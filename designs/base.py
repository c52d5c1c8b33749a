"""Shared identity of designs: canonical encoding and content hash.

Every design space implements the :class:`Design` protocol so that the campaign store can
recognise the same design however it was produced (sampled, mutated, uploaded): the hash is
taken over a canonical JSON encoding of ``(space, genome)``.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Protocol, runtime_checkable

__all__ = ["Design", "GenomeIdentity", "canonical_json", "content_hash"]


def canonical_json(payload: Any) -> str:
    """Encode ``payload`` as canonical JSON (sorted keys, no whitespace, no NaN).

    Parameters
    ----------
    payload : Any
        JSON-serialisable object (dicts, lists, str, int, finite float, bool, None).

    Returns
    -------
    str
        The canonical encoding; equal payloads give equal strings.

    Raises
    ------
    ValueError
        If the payload holds NaN or infinity, which have no canonical JSON form.
    """
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)


def content_hash(space: str, genome: Any) -> str:
    """SHA-256 hex digest of the canonical encoding of ``(space, genome)``.

    Parameters
    ----------
    space : str
        Name of the design space (e.g. ``"checkerboard"``).
    genome : Any
        JSON-serialisable genome of the design.

    Returns
    -------
    str
        64 hexadecimal characters.
    """
    return hashlib.sha256(canonical_json({"space": space, "genome": genome}).encode()).hexdigest()


class GenomeIdentity(ABC):
    """Mixin: content hash and JSON text of a design from its ``space`` and ``genome()``."""

    space: ClassVar[str]

    @abstractmethod
    def genome(self) -> Any:
        """JSON-serialisable parameters that define the design."""

    def content_hash(self) -> str:
        """SHA-256 of the canonical ``(space, genome)`` encoding."""
        return content_hash(self.space, self.genome())

    def to_json(self) -> str:
        """JSON text of the genome (sorted keys)."""
        return json.dumps(self.genome(), sort_keys=True)


@runtime_checkable
class Design(Protocol):
    """What the store, solvers and search loops need from any design.

    Attributes
    ----------
    space : str
        Class-level name of the design space, stored next to each design.
    """

    space: ClassVar[str]

    def genome(self) -> Any:
        """JSON-serialisable canonical genome (lists, numbers, strings)."""
        ...

    def content_hash(self) -> str:
        """``content_hash(self.space, self.genome())``."""
        ...
