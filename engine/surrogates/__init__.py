"""Torch surrogates behind a scikit-learn API (CPU and CUDA).

Grid models for checkerboard / hierarchical designs (:mod:`.grid`), spinodoid forward nets
(:mod:`.spinodoid`), the tandem inverse net (:mod:`.inverse`), deep ensembles (:mod:`.ensemble`),
the Kumar et al. (2020) data loader (:mod:`.data`), the common model machinery (:mod:`.base`)
and the persistence registry that loads any saved model (:mod:`.registry`).

The names below are imported from their modules on first access (PEP 562), so importing one
module of this package (say :mod:`.ensemble`) does not import the others; the registry imports
the module of a saved model's kind when a file is read.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name → module that defines it.
_EXPORTS = {
    "CONE_PATTERNS": "engine.surrogates.inverse",
    "GridCNNClassifier": "engine.surrogates.grid",
    "GridCNNRegressor": "engine.surrogates.grid",
    "GridLinearClassifier": "engine.surrogates.grid",
    "GridLinearRegressor": "engine.surrogates.grid",
    "InverseCandidate": "engine.surrogates.inverse",
    "SPINODOID_PARAMS": "engine.surrogates.data",
    "STIFFNESS_COMPONENTS": "engine.surrogates.data",
    "SpinodoidEquivariantNet": "engine.surrogates.spinodoid",
    "SpinodoidPublishedNet": "engine.surrogates.spinodoid",
    "SurrogateEnsemble": "engine.surrogates.ensemble",
    "TandemInverse": "engine.surrogates.inverse",
    "TorchSurrogate": "engine.surrogates.base",
    "check_grids": "engine.surrogates.grid",
    "check_spinodoid_params": "engine.surrogates.data",
    "good_bad_labels": "engine.surrogates.grid",
    "load_kumar2020": "engine.surrogates.data",
    "load_surrogate": "engine.surrogates.registry",
    "permute_axes": "engine.surrogates.spinodoid",
    "snap_angles": "engine.surrogates.data",
    "train_test_split_indices": "engine.surrogates.data",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first access (``from engine.surrogates import X``)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
