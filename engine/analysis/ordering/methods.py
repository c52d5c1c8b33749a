"""Classification methods by name: the table the command line and the app look a method up in.

Every method is a function ``run(system, **options) -> ClassificationResult`` named in
:data:`METHODS` by ``"module:function"``; its module is imported only when the method runs
(scikit-learn and torch load only then). Adding a method is one line in the table and one
function (see :mod:`.runners_supervised` and :mod:`.runners_unsupervised`); its keyword
arguments are its options, checked by :func:`classify`.

The per-particle table of a result has a fixed set of columns (trackpy style):

============= ==================================================================
``label``     class of each particle (str): a structure name or ``"other"`` for
              supervised and rule-based methods, ``"cluster 1"``, ``"cluster 2"`` … (most ordered
              first: decreasing mean q6) or ``"noise"`` for unsupervised ones
``confidence`` probability of the chosen class in [0, 1]; NaN where a method has
              none (q6 threshold, CNA, DBSCAN)
``embedding_1``, ``embedding_2``  2D embedding of the descriptors (unsupervised
              methods only; axes named in :attr:`ClassificationResult.embedding_axes`;
              ``embedding_2`` is NaN when the descriptor has a single column)
============= ==================================================================

:func:`particle_table` joins it with positions, true labels (when known) and q4, q6.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from os import PathLike
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .neighbors import NeighborSpec
from .steinhardt import steinhardt
from .systems import ParticleSystem

__all__ = [
    "METHODS", "MethodSpec", "ClassificationResult", "classify", "method_function",
    "method_options", "class_fractions", "particle_table", "table_neighbors",
]


@dataclass(frozen=True)
class MethodSpec:
    """A registered method: where its function lives and what it is.

    Parameters
    ----------
    target : str
        ``"module:function"``.
    kind : {"supervised", "rule", "unsupervised"}
        Supervised methods use a shipped trained model; rule-based ones a fixed geometric test
        (common-neighbour analysis); unsupervised ones learn from the system itself and give an
        embedding. Supervised and rule-based labels are structure names.
    title : str
        One line for menus and help.
    """

    target: str
    kind: str
    title: str


_SUP = "engine.analysis.ordering.runners_supervised"
_UNSUP = "engine.analysis.ordering.runners_unsupervised"

#: Method name → :class:`MethodSpec`.
METHODS: Mapping[str, MethodSpec] = MappingProxyType({
    "mlp": MethodSpec(f"{_SUP}:run_mlp", "supervised",
                      "MLP on bond-order features (shipped model): fcc, bcc, hcp, liquid or other"),
    "q6-threshold": MethodSpec(f"{_SUP}:run_q6_threshold", "supervised",
                               "baseline: thresholds on q6 (SANN neighbours), shipped; 'other' by the MLP's novelty test"),
    "diffraction-cnn": MethodSpec(f"{_SUP}:run_diffraction_cnn", "supervised",
                                  "CNN on diffraction images (shipped model, Ziletti et al.): fcc, bcc, hcp, "
                                  "liquid or other"),
    "cna": MethodSpec(f"{_SUP}:run_cna", "rule",
                      "adaptive common-neighbour analysis (Stukowski): fcc, hcp, bcc, ico or other"),
    "gmm": MethodSpec(f"{_UNSUP}:run_gmm", "unsupervised",
                      "Gaussian mixture on standardised descriptors, K by BIC (Spellings & Glotzer)"),
    "dbscan": MethodSpec(f"{_UNSUP}:run_dbscan", "unsupervised",
                         "DBSCAN on standardised descriptors, with archetypes (Phillips & Voth)"),
    "autoencoder": MethodSpec(f"{_UNSUP}:run_autoencoder", "unsupervised",
                              "autoencoder + Gaussian mixture on its 2D code (Boattini et al.)"),
    "diffusion-map": MethodSpec(f"{_UNSUP}:run_diffusion_map", "unsupervised",
                                "diffusion map + Gaussian mixture on 2 coordinates (Coifman & Lafon)"),
    "umap": MethodSpec(f"{_UNSUP}:run_umap", "unsupervised",
                       "PCA, UMAP to 2D, Gaussian mixture or HDBSCAN on the map (Adorf et al.)"),
    "gmm-mlp": MethodSpec(f"{_UNSUP}:run_gmm_mlp", "unsupervised",
                          "Gaussian mixture labels learnt by an MLP (Spellings & Glotzer)"),
})


@dataclass(frozen=True)
class ClassificationResult:
    """What a method found for every particle.

    Parameters
    ----------
    method : str
        Name in :data:`METHODS`.
    table : pandas.DataFrame
        One row per particle, columns of the module table.
    descriptor : str
        What the method looked at, in words (e.g. ``"q_l, l = 1…8, 12 neighbours"``).
    embedding_axes : tuple of str, optional
        Names of ``embedding_1`` and ``embedding_2`` (unsupervised methods).
    details : dict
        JSON-ready facts of the fit (classes, chosen K, BIC, ε, …).
    """

    method: str
    table: pd.DataFrame
    descriptor: str
    embedding_axes: tuple[str, str] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> np.ndarray:
        """Class of each particle, shape (N,), str."""
        return self.table["label"].to_numpy(dtype=str)


def method_function(name: str) -> Any:
    """The function of method ``name``, imported on first use; ``ValueError`` naming the known ones."""
    if not isinstance(name, str) or name not in METHODS:
        raise ValueError(f"unknown method {name!r}; allowed: {', '.join(METHODS)}")
    module, function = METHODS[name].target.split(":")
    return getattr(importlib.import_module(module), function)


def method_options(name: str) -> dict[str, Any]:
    """Options of method ``name`` and their defaults."""
    parameters = inspect.signature(method_function(name)).parameters
    return {p: v.default for p, v in parameters.items() if v.kind is inspect.Parameter.KEYWORD_ONLY}


def classify(system: ParticleSystem, method: str = "mlp", **options: Any) -> ClassificationResult:
    """Classify every particle of ``system`` with a registered method.

    Parameters
    ----------
    system : ParticleSystem
        Particles (the supervised methods need 3D and at least 15 particles).
    method : str, default "mlp"
        A name of :data:`METHODS`.
    **options
        The method's options (:func:`method_options`); ``None`` values take the default.

    Raises
    ------
    ValueError
        Unknown method or option, or input the method cannot classify (too few particles, a
        2D system for a 3D model, ...).
    """
    if not isinstance(system, ParticleSystem):
        raise ValueError(f"system must be a ParticleSystem, got {type(system).__name__}")
    allowed = method_options(method)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} of the {method} method; "
                         f"allowed: {', '.join(allowed) or 'none'}")
    given = {k: v for k, v in options.items() if v is not None}
    for name, value in given.items():
        _check_option_type(method, name, value)
    return method_function(method)(system, **given)


#: Options that take whole numbers, real numbers, or text (a path for ``model``).
_INTEGER_OPTIONS = frozenset({"seed", "epochs", "min_samples", "n_components"})
_REAL_OPTIONS = frozenset({"eps", "cutoff"})
_TEXT_OPTIONS = frozenset({"descriptors", "clusterer", "model"})


def _check_option_type(method: str, name: str, value: Any) -> None:
    """``ValueError`` when an option has the wrong type (never silently rounded: 2.5 epochs is not 2)."""
    if name in _INTEGER_OPTIONS:
        ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        what = "an integer"
    elif name in _REAL_OPTIONS:
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
        what = "a number"
    elif name in _TEXT_OPTIONS:
        ok = isinstance(value, str) or (name == "model" and isinstance(value, PathLike))
        what = "a file path" if name == "model" else "a name"
    else:
        return
    if not ok:
        raise ValueError(f"option {name} of the {method} method must be {what}, got {value!r} "
                         f"({type(value).__name__})")
    if name == "seed" and not 0 <= value < 2**32:
        raise ValueError(f"seed must be an integer in [0, {2**32 - 1}], got {value}")


def class_fractions(labels: np.ndarray) -> dict[str, float]:
    """Fraction of particles in each class, largest first (ties by name)."""
    names, counts = np.unique(np.asarray(labels, dtype=str), return_counts=True)
    order = sorted(range(len(names)), key=lambda k: (-counts[k], names[k]))
    return {str(names[k]): float(counts[k] / counts.sum()) for k in order}


def particle_table(
    system: ParticleSystem, result: ClassificationResult, *, neighbors: NeighborSpec = 12
) -> pd.DataFrame:
    """Per-particle results with positions, true labels and q4, q6 (for files and plots).

    Columns: ``particle`` (index), ``x``, ``y`` [, ``z``] (length units of the data),
    ``true_label`` (when the system has labels), ``species`` (when known), the result's
    columns, then ``q4``, ``q6`` (Steinhardt with ``neighbors``, dimensionless; a count is
    capped at N − 1 for systems of N ≤ ``neighbors`` particles, see :func:`table_neighbors`).
    """
    table = pd.DataFrame(system.positions, columns=["x", "y", "z"][: system.dim])
    table.insert(0, "particle", np.arange(system.n_particles))
    if system.labels is not None:
        table["true_label"] = system.labels
    if system.species is not None:
        table["species"] = system.species
    for column in result.table.columns:
        table[column] = result.table[column].to_numpy()
    q = steinhardt(system, (4, 6), neighbors=table_neighbors(system, neighbors))
    table["q4"], table["q6"] = q[:, 0], q[:, 1]
    return table


def table_neighbors(system: ParticleSystem, neighbors: NeighborSpec = 12) -> NeighborSpec:
    """The neighbours of the q4, q6 columns of :func:`particle_table`: the method's own definition
    (a count, or a named one such as ``"voronoi"``), a count capped at N − 1 so that small systems
    (which the unsupervised methods classify with fewer neighbours) still get their columns."""
    if isinstance(neighbors, str):
        return neighbors
    return max(1, min(int(neighbors), system.n_particles - 1))
