"""Methods of :mod:`.methods` that name structures: the shipped MLP, the q6 baseline, CNA.

Both use the models of :mod:`.shipped_models` (trained on 3D fcc, bcc, hcp and liquid, unit
nearest-neighbour distance; the bond-order features are scale free): the MLP on
:func:`.features.bond_order_features`, whose neighbour counts (12 and 14) it was trained with, the
baseline on q6 over SANN neighbours (:class:`.supervised.Q6Threshold`), so these methods take no
neighbour option. The baseline reports ``"other"`` where the MLP's novelty test finds that a
particle fits no trained class (:meth:`.supervised.BondOrderMLP.fits_a_class`): a threshold on one
number has no way to say so itself, and without it a perfect sc crystal (q6 = 0.265 over its 18
SANN neighbours) came out 100 % liquid. The two methods thus differ only in how they name the
particles that fit a trained class.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .features import bond_order_features
from .methods import ClassificationResult
from .supervised import OTHER
from .shipped_models import SHIPPED_MODELS, load_shipped_models
from .systems import ParticleSystem

__all__ = ["run_mlp", "run_q6_threshold", "run_cna"]

_DESCRIPTOR = "bond-order features: q_l, q̄_l (l = 4, 6, 8) with 12 and 14 neighbours, ŵ4, ŵ6"


@lru_cache(maxsize=4)
def _models(path: str) -> tuple:
    return load_shipped_models(path)


def _features(system: ParticleSystem) -> np.ndarray:
    if system.dim != 3:
        raise ValueError(
            "the shipped models are trained on 3D crystals (fcc, bcc, hcp, liquid); this system is "
            "2D: use an unsupervised method (gmm, dbscan, autoencoder, diffusion-map, umap, gmm-mlp)"
        )
    if system.n_particles < 15:
        raise ValueError(f"the bond-order features need 14 neighbours per particle, so at least 15 "
                         f"particles; the system has {system.n_particles}")
    return bond_order_features(system)


def _model_file(model: str | None) -> str:
    """The model file to load: the shipped one when ``model`` is None; an empty path is refused."""
    if model is None:
        return str(SHIPPED_MODELS)
    if not str(model).strip():  # "" used to fall through to the shipped model, unannounced
        raise ValueError(f"model needs a file path, got {model!r}; leave it out to use the shipped model")
    return str(Path(model))


def run_mlp(system: ParticleSystem, *, model: str | None = None) -> ClassificationResult:
    """Shipped :class:`.supervised.BondOrderMLP`: fcc, bcc, hcp, liquid or ``"other"``.

    Parameters
    ----------
    system : ParticleSystem
        3D, at least 15 particles.
    model : str, optional
        A model file written by :func:`.shipped_models.save_models`; default (None) the
        shipped one. An empty path is refused.

    Returns
    -------
    ClassificationResult
        ``confidence`` is the largest class probability; NaN for ``"other"`` particles, which
        fit no trained class.
    """
    mlp, _ = _models(_model_file(model))
    labels, confidence = mlp.predict_with_confidence(_features(system))
    table = pd.DataFrame({"label": labels, "confidence": confidence})
    return ClassificationResult("mlp", table, _DESCRIPTOR,
                                details={"classes": [str(c) for c in mlp.classes_] + ["other"]})


def run_q6_threshold(system: ParticleSystem, *, model: str | None = None) -> ClassificationResult:
    """Shipped :class:`.supervised.Q6Threshold` baseline: thresholds on q6 (SANN neighbours), and
    ``"other"`` where the shipped MLP's novelty test finds no trained class (module notes).

    Parameters
    ----------
    system : ParticleSystem
        3D, at least 15 particles.
    model : str, optional
        A model file written by :func:`.shipped_models.save_models`; default (None) the
        shipped one. An empty path is refused.

    Returns
    -------
    ClassificationResult
        ``confidence`` is NaN (a threshold gives none).
    """
    mlp, baseline = _models(_model_file(model))
    features = _features(system)
    labels = baseline.predict(features if baseline.neighbors is None else baseline.inputs(system)).astype(object)
    labels[~mlp.fits_a_class(features)] = OTHER
    table = pd.DataFrame({"label": labels.astype(str), "confidence": np.full(len(labels), np.nan)})
    details = {"classes": [str(c) for c in baseline.classes_] + [OTHER],
               "q6_thresholds": [float(t) for t in baseline.thresholds_]}
    count = 12 if baseline.neighbors is None else baseline.neighbors
    who = f"{count} neighbours" if isinstance(count, str) else f"the {count} nearest neighbours"
    return ClassificationResult("q6-threshold", table, f"q6 with {who}; other: no trained class fits (MLP novelty test)",
                                details=details)


def run_cna(system: ParticleSystem, *, cutoff: float | None = None) -> ClassificationResult:
    """Common-neighbour analysis (:func:`.common_neighbours.common_neighbour_analysis`).

    Parameters
    ----------
    system : ParticleSystem
        3D particles.
    cutoff : float, optional
        Bond cutoff (length units) of the conventional CNA; default the adaptive CNA
        (Stukowski 2012), which needs none.

    Returns
    -------
    ClassificationResult
        Labels ``fcc``, ``hcp``, ``bcc``, ``ico`` or ``other``; ``confidence`` is NaN (a rule).
    """
    from .common_neighbours import STRUCTURES, common_neighbour_analysis

    result = common_neighbour_analysis(system, cutoff)
    labels = np.asarray(result.structures, dtype=str)
    table = pd.DataFrame({"label": labels, "confidence": np.full(len(labels), np.nan)})
    what = "common-neighbour signatures, " + ("adaptive cutoff" if cutoff is None else f"cutoff {cutoff:g}")
    return ClassificationResult("cna", table, what, details={"classes": list(STRUCTURES)})


def run_diffraction_cnn(system: ParticleSystem) -> ClassificationResult:
    """Shipped :class:`.diffraction_cnn.DiffractionCNN` on per-particle diffraction images
    (Ziletti et al. 2018, in the local bond frame of :mod:`.diffraction`): fcc, bcc, hcp, liquid
    or ``"other"``.

    Parameters
    ----------
    system : ParticleSystem
        3D particles (the region around each particle is imaged).

    Returns
    -------
    ClassificationResult
        ``confidence`` is the largest class probability.
    """
    from .diffraction import diffraction_images
    from .diffraction_cnn import load_shipped_cnn

    if system.dim != 3:
        raise ValueError(f"the diffraction CNN classifies 3D particles; this system is {system.dim}D")
    cnn, settings = load_shipped_cnn()
    try:
        images = diffraction_images(system, settings)
    except ValueError as error:
        if "cutoff" not in str(error):
            raise
        raise ValueError(f"the diffraction CNN images the region within {settings.radius:g} nearest-neighbour "
                         f"distances of each particle: every periodic box length must exceed {2 * settings.radius:g} "
                         "of them; use a larger system") from None
    labels, confidence = cnn.predict_with_confidence(images)
    table = pd.DataFrame({"label": np.asarray(labels, dtype=str), "confidence": confidence})
    return ClassificationResult("diffraction-cnn", table, "diffraction image of each particle's region",
                                details={"classes": [str(c) for c in cnn.classes_] + ["other"]})
