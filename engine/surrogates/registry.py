"""Persistence registry: the kind written in a saved surrogate file → the class that reads it.

Every saved file (see :mod:`engine.surrogates.base`) names its model class in ``payload["kind"]``.
:data:`SURROGATE_KINDS` maps each kind to ``"module:Class"``; the module is imported only when a
file of that kind is read, so loading works whatever the caller imported before, and no model
module has to import another to read a file that nests one (an ensemble's members, a tandem
inverse's forward net). A new persistent model class must be added to the table
(``tests/test_engine_surrogates_api.py`` fails otherwise).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine.surrogates.base import malformed_file, read_payload

__all__ = ["SURROGATE_KINDS", "from_payload", "load_surrogate", "surrogate_class"]

#: Kind name stored in a file → ``"module:Class"`` of the class that reads it.
SURROGATE_KINDS = MappingProxyType(
    {
        "GridCNNClassifier": "engine.surrogates.grid:GridCNNClassifier",
        "GridCNNRegressor": "engine.surrogates.grid:GridCNNRegressor",
        "GridLinearClassifier": "engine.surrogates.grid:GridLinearClassifier",
        "GridLinearRegressor": "engine.surrogates.grid:GridLinearRegressor",
        "SpinodoidEquivariantNet": "engine.surrogates.spinodoid:SpinodoidEquivariantNet",
        "SpinodoidPublishedNet": "engine.surrogates.spinodoid:SpinodoidPublishedNet",
        "SurrogateEnsemble": "engine.surrogates.ensemble:SurrogateEnsemble",
        "TandemInverse": "engine.surrogates.inverse:TandemInverse",
    }
)


def surrogate_class(kind: Any, base: type | None = None) -> type:
    """The class registered for ``kind``, imported on first use.

    Parameters
    ----------
    kind : str
        Kind name as stored in a file (the class name).
    base : type, optional
        Required base class (e.g. the forward nets a tandem inverse accepts).

    Returns
    -------
    type

    Raises
    ------
    ValueError
        If ``kind`` is not registered, or its class is not a subclass of ``base``.
    """
    target = SURROGATE_KINDS.get(kind) if isinstance(kind, str) else None
    if target is None:
        raise ValueError(f"unknown surrogate kind {kind!r}; known kinds: {', '.join(SURROGATE_KINDS)}")
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if base is not None and not issubclass(cls, base):
        allowed = [k for k in SURROGATE_KINDS if issubclass(surrogate_class(k), base)]
        raise ValueError(f"a {kind} model cannot stand here; expected one of: {', '.join(allowed)}")
    return cls


def from_payload(payload: Any, device: str = "auto", base: type | None = None) -> Any:
    """Rebuild a model from a payload read by :func:`~engine.surrogates.base.read_payload`.

    Parameters
    ----------
    payload : dict
        Saved model (``kind``, ``config``, weights); may be nested in another model's file.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``; weights are mapped there.
    base : type, optional
        Required base class of the stored kind.

    Raises
    ------
    ValueError
        If the payload is not a dict or its kind is unknown or not a ``base``.
    """
    if not isinstance(payload, dict):
        raise ValueError(f"a saved model must be a dict payload; got {type(payload).__name__}")
    return surrogate_class(payload.get("kind"), base)._from_payload(payload, device=device)


def load_surrogate(path: str | Path, device: str = "auto") -> Any:
    """Load any saved surrogate (single model, tandem inverse or ensemble), dispatching on its kind.

    Parameters
    ----------
    path : str or Path
        File written by ``save``.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``; weights are mapped there.

    Returns
    -------
    TorchSurrogate or SurrogateEnsemble

    Raises
    ------
    ValueError
        If the file is missing, not a matloop surrogate file, or holds an unknown kind.
    """
    payload = read_payload(path)
    kind = payload.get("kind")
    if not isinstance(kind, str) or kind not in SURROGATE_KINDS:
        raise ValueError(f"{str(path)!r} holds an unknown surrogate kind {kind!r}; known kinds: {', '.join(SURROGATE_KINDS)}")
    with malformed_file(path):
        return from_payload(payload, device=device)
