"""Which linear glass models exist: the shipped ones and those trained into a store's directory.

A model is named by a reference string: ``"softness"`` or ``"propensity"`` (the shipped
Kob–Andersen models of :mod:`.shipped`) or the path of a JSON file written by
:meth:`.models.LinearGlassModel.save`. Models trained by the app's job live in
``<store dir>/softness/models/<job id>.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .models import LinearGlassModel, load_model
from .shipped import SHIPPED_PROPENSITY, SHIPPED_SOFTNESS

__all__ = ["SHIPPED", "TrainedModel", "resolve_model", "models_directory", "trained_models", "model_title"]

#: Reference → file of the shipped models.
SHIPPED = {"softness": SHIPPED_SOFTNESS, "propensity": SHIPPED_PROPENSITY}


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """A model file of a store's directory and the model it holds."""

    path: Path
    model: LinearGlassModel


def resolve_model(reference: str) -> LinearGlassModel:
    """The model a reference names (module notes).

    Raises
    ------
    ValueError
        No such file, or not a model file.
    """
    if reference in SHIPPED:
        return load_model(SHIPPED[reference])
    if not Path(reference).is_file():
        raise ValueError(f"{reference}: no such file; give softness, propensity or a model file (.json)")
    return load_model(reference)


def models_directory(store_path: str | Path) -> Path:
    """``<store dir>/softness/models``, created if missing."""
    directory = Path(store_path).parent / "softness" / "models"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def trained_models(store_path: str | Path) -> list[TrainedModel]:
    """Models trained into the store's directory, newest first (unreadable files are skipped)."""
    found = []
    for path in sorted(models_directory(store_path).glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            found.append(TrainedModel(path, load_model(path)))
        except (ValueError, KeyError, TypeError):
            continue
    return found


def model_title(model: LinearGlassModel) -> str:
    """One line: name, kind, species, dimension and training data of a model."""
    kind = "softness (SVM)" if model.kind == "softness" else "propensity (ridge)"
    name = model.details.get("name") or ("shipped Kob–Andersen" if "system" in model.details else "model")
    source = model.details.get("source", f"{model.details.get('configurations', '?')} configurations")
    return f"{name}: {kind}, species {model.species}, {model.dim}D, {source}"
