"""Unsupervised methods of :mod:`.methods`: they learn the classes from the system itself.

Descriptors (option ``descriptors``; ``neighbors`` sets who counts as a neighbour):

* ``"steinhardt"`` (default) — q_l, l = 1…8 (Boattini et al.'s inputs without the average);
  separates fcc from hcp by the first shell;
* ``"averaged"`` — Lechner–Dellago q̄_l, l = 1…8: less noisy, mixes in the second shell;
* ``"coherence"`` — ten Wolde bond coherence d̄_l, l = 1…8 (see :mod:`.coherence`);
* ``"coherence-6"`` — d̄_6 alone: keeps the surface layers of a crystal in its liquid
  crystal-like, so a two-class mixture or DBSCAN splits crystal from liquid (the recipe of
  ``tests/test_analysis_ordering_unsupervised.py``; with all of d̄_1…8 the surface becomes a
  class of its own);
* ``"bond-order"`` — the 14 features of the supervised MLP (fixed 12 and 14 neighbours).

Clusters are named ``"cluster 1"``, ``"cluster 2"`` … in order of decreasing mean q6 (12
neighbours): cluster 1 is the most ordered. DBSCAN's noise is ``"noise"``. The 2D embedding is
the first two principal components of the standardised descriptors (GMM, DBSCAN, GMM + MLP),
the autoencoder's code, the first two diffusion coordinates, or the UMAP map; with a single descriptor column
(``"coherence-6"``) the second principal component is NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .coherence import bond_coherence
from .features import bond_order_features
from .methods import ClassificationResult
from .neighbors import NeighborSpec
from .steinhardt import steinhardt
from .systems import ParticleSystem

__all__ = [
    "DESCRIPTORS", "descriptors_of", "run_gmm", "run_dbscan", "run_autoencoder", "run_diffusion_map",
    "run_umap", "run_gmm_mlp",
]

#: Descriptor set name → description.
DESCRIPTORS: dict[str, str] = {
    "steinhardt": "q_l, l = 1…8",
    "averaged": "Lechner–Dellago q̄_l, l = 1…8",
    "coherence": "bond coherence d̄_l, l = 1…8, of the 2/3 most coherent bonds",
    "coherence-6": "bond coherence d̄_6 of the 2/3 most coherent bonds",
    "bond-order": "the 14 bond-order features of the MLP",
}
_LS = range(1, 9)


def descriptors_of(system: ParticleSystem, descriptors: str = "steinhardt",
                   neighbors: NeighborSpec = 12) -> tuple[np.ndarray, str]:
    """Descriptor matrix (N, F) of a named set (module notes) and its description; columns whose
    spread is rounding noise (:data:`DESCRIPTOR_RESOLUTION`) are left out, so F may be 0."""
    if descriptors not in DESCRIPTORS:
        raise ValueError(f"unknown descriptors {descriptors!r}; allowed: {', '.join(DESCRIPTORS)}")
    if descriptors == "bond-order":
        if system.n_particles < 15:
            raise ValueError(f"the bond-order features need at least 15 particles; the system has "
                             f"{system.n_particles}")
        return _informative(bond_order_features(system)), DESCRIPTORS[descriptors]
    if descriptors.startswith("coherence"):
        # the 2/3 most coherent bonds (8 of 12): a crystal particle at a surface keeps its coherent
        # bonds, so it stays with the crystal (the averaged-over-all recipe split the surface off)
        strongest = None if isinstance(neighbors, str) else max(1, round(2 * int(neighbors) / 3))
        X = bond_coherence(system, (6,) if descriptors == "coherence-6" else _LS, neighbors=neighbors,
                           strongest=strongest)
    else:
        X = steinhardt(system, _LS, neighbors=neighbors, average=descriptors == "averaged")
    if not np.isfinite(X).all():
        raise ValueError("some particles have no neighbours (NaN descriptors); use a neighbour count "
                         "instead of a Voronoi or SANN definition, or check the box")
    X = _informative(X)
    who = f"{neighbors} nearest neighbours" if not isinstance(neighbors, str) else f"{neighbors} neighbours"
    return X, f"{DESCRIPTORS[descriptors]}, {who}"


def _named(system: ParticleSystem, clusters: np.ndarray, noise: int | None = None) -> np.ndarray:
    """Cluster indices → ``"cluster k"`` by decreasing mean q6; ``noise`` → ``"noise"``."""
    q6 = steinhardt(system, 6, neighbors=min(12, system.n_particles - 1))[:, 0]
    ids = [c for c in np.unique(clusters) if c != noise]
    ranked = sorted(ids, key=lambda c: -q6[clusters == c].mean())
    names = np.full(len(clusters), "noise", dtype=object)
    for rank, c in enumerate(ranked, start=1):
        names[clusters == c] = f"cluster {rank}"
    return names.astype(str)


def _pca(X: np.ndarray) -> np.ndarray:
    scale = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    _, _, vt = np.linalg.svd(Z, full_matrices=False)
    out = np.full((len(Z), 2), np.nan)  # one descriptor column: no second component
    k = min(2, vt.shape[0])
    out[:, :k] = Z @ vt[:k].T
    return out


def _result(method: str, system: ParticleSystem, labels: np.ndarray, confidence: np.ndarray,
            embedding: np.ndarray, axes: tuple[str, str], descriptor: str,
            details: dict[str, Any]) -> ClassificationResult:
    table = pd.DataFrame({"label": labels, "confidence": confidence,
                          "embedding_1": embedding[:, 0], "embedding_2": embedding[:, 1]})
    details = {**details, "classes": sorted(set(labels.tolist()))}
    return ClassificationResult(method, table, descriptor, axes, details)


#: Spread (standard deviation over the particles, descriptor units) below which a descriptor
#: column holds no information and is left out: the descriptors are dimensionless, of order
#: 0.1-1, and freud computes them in float32. Measured on perfect lattices: rounding spreads
#: q_1, q_2 of fcc/hcp by ~1e-7 and the odd-l q_l of sc (6 neighbours) and bcc (14) by up to
#: 2.3e-4; standardised, that noise became clusters (perfect fcc/hcp: K = 5, ARI 0.50; perfect
#: sc: 3 clusters at confidence 1.000). Thermal noise of Lindemann 0.01 already spreads q_l by ~1e-2.
DESCRIPTOR_RESOLUTION = 1e-3


def _informative(X: np.ndarray) -> np.ndarray:
    """The descriptor columns whose spread exceeds :data:`DESCRIPTOR_RESOLUTION`."""
    return X[:, X.std(axis=0) > DESCRIPTOR_RESOLUTION]


def _one_environment(method: str, system: ParticleSystem, X: np.ndarray, what: str,
                     axes: tuple[str, str]) -> ClassificationResult | None:
    """One cluster when all particles share one environment (no informative column), else None.

    A mixture, a density or an embedding of identical points has nothing to find.
    """
    if X.shape[1] == 0:
        n = system.n_particles
        return _result(method, system, np.full(n, "cluster 1"), np.ones(n), np.zeros((n, 2)), axes, what,
                       {"n_components": 1, "note": "every particle has the same environment (every descriptor's "
                                                   f"spread is below {DESCRIPTOR_RESOLUTION:g}): one cluster"})
    return None


def _bic(gmm: Any) -> dict[str, float]:
    return {str(k): float(v) for k, v in gmm.bic_.items()}


def _merged(gmm: Any, asked: int | None) -> dict[str, int]:
    """The BIC mixture's K when its components were merged into classes (K not given)."""
    return {} if asked is not None else {"mixture_components": int(gmm.n_mixture_components_)}


def run_gmm(system: ParticleSystem, *, descriptors: str = "steinhardt", neighbors: NeighborSpec = 12,
            n_components: int | None = None, seed: int = 0) -> ClassificationResult:
    """Gaussian mixture on the descriptors (:class:`.mixture_model.DescriptorGMM`).

    ``n_components`` K; by default the K in 1…6 of lowest BIC, its components merged into one
    class per density mode (:mod:`.mixture_model`). ``confidence`` is the posterior probability
    of the chosen class.
    """
    from .mixture_model import DescriptorGMM

    X, what = descriptors_of(system, descriptors, neighbors)
    if (same := _one_environment("gmm", system, X, what, ("principal component 1", "principal component 2"))) is not None:
        return same
    gmm = DescriptorGMM(n_components, random_state=int(seed)).fit(X)
    return _result("gmm", system, _named(system, gmm.labels_), gmm.probabilities_.max(axis=1),
                   _pca(X), ("principal component 1", "principal component 2"), what,
                   {"n_components": gmm.n_components_, "bic": _bic(gmm),
                    **_merged(gmm, n_components)})


def run_dbscan(system: ParticleSystem, *, descriptors: str = "steinhardt", neighbors: NeighborSpec = 12,
               min_samples: int | None = None, eps: float | None = None) -> ClassificationResult:
    """DBSCAN on the descriptors with archetypes (:class:`.density_clusters.DescriptorDBSCAN`).

    ``min_samples`` defaults to min(100, N); ``eps`` (standardised descriptor units) to the
    95 % quantile of the k-distances. ``confidence`` is NaN.
    """
    from .density_clusters import NOISE, DescriptorDBSCAN

    X, what = descriptors_of(system, descriptors, neighbors)
    if (same := _one_environment("dbscan", system, X, what, ("principal component 1", "principal component 2"))) is not None:
        return same
    k = min(100, system.n_particles) if min_samples is None else min_samples
    model = DescriptorDBSCAN(eps, min_samples=k).fit(X)
    names = _named(system, model.labels_, NOISE)
    archetypes = {names[i]: int(i) for i in model.archetypes_}
    return _result("dbscan", system, names, np.full(system.n_particles, np.nan), _pca(X),
                   ("principal component 1", "principal component 2"), what,
                   {"eps": model.eps_, "min_samples": int(k), "archetypes": archetypes})


def run_autoencoder(system: ParticleSystem, *, descriptors: str = "steinhardt", neighbors: NeighborSpec = 12,
                    n_components: int | None = None, epochs: int = 100, seed: int = 0) -> ClassificationResult:
    """Autoencoder to a 2D code + Gaussian mixture on it (:class:`.autoencoder.DescriptorAutoencoder`).

    ``details`` hold the fraction of variance the reconstruction explains (``fve``).
    """
    from .autoencoder import DescriptorAutoencoder

    X, what = descriptors_of(system, descriptors, neighbors)
    if (same := _one_environment("autoencoder", system, X, what, ("code 1", "code 2"))) is not None:
        return same
    model = DescriptorAutoencoder(2, epochs=int(epochs), n_components=n_components, random_state=int(seed)).fit(X)
    return _result("autoencoder", system, _named(system, model.labels_), model.probabilities_.max(axis=1),
                   model.code_, ("code 1", "code 2"), what,
                   {"n_components": model.gmm_.n_components_, "fve": model.fve_, "bic": _bic(model.gmm_)})


def run_diffusion_map(system: ParticleSystem, *, descriptors: str = "steinhardt", neighbors: NeighborSpec = 12,
                      n_components: int | None = None, seed: int = 0) -> ClassificationResult:
    """Diffusion map to 2 coordinates + Gaussian mixture on them (:class:`.diffusion_map.DiffusionMap`)."""
    from .diffusion_map import DiffusionMap

    X, what = descriptors_of(system, descriptors, neighbors)
    if (same := _one_environment("diffusion-map", system, X, what, ("diffusion coordinate 1", "diffusion coordinate 2"))) is not None:
        return same
    model = DiffusionMap(2, n_components=n_components, random_state=int(seed)).fit(X)
    return _result("diffusion-map", system, _named(system, model.labels_), model.probabilities_.max(axis=1),
                   model.coordinates_, ("diffusion coordinate 1", "diffusion coordinate 2"), what,
                   {"n_components": model.gmm_.n_components_, "epsilon": model.epsilon_,
                    "landmarks": system.n_particles if model.landmarks_ is None else len(model.landmarks_),
                    "eigenvalues": [float(v) for v in model.eigenvalues_]})


def run_umap(system: ParticleSystem, *, descriptors: str = "steinhardt", neighbors: NeighborSpec = 12,
             n_components: int | None = None, clusterer: str = "gmm", seed: int = 0) -> ClassificationResult:
    """PCA → UMAP → clustering (:class:`.embedding.DescriptorEmbedding`).

    ``clusterer`` ``"gmm"`` (``n_components`` K, default by BIC; ``confidence`` the posterior) or
    ``"hdbscan"`` (finds K itself; outliers ``"noise"``; ``confidence`` the membership strength).
    """
    from .embedding import NOISE, DescriptorEmbedding

    X, what = descriptors_of(system, descriptors, neighbors)
    if (same := _one_environment("umap", system, X, what, ("UMAP 1", "UMAP 2"))) is not None:
        return same
    model = DescriptorEmbedding(n_components, clusterer=clusterer, random_state=int(seed),
                                n_neighbors=min(30, system.n_particles - 1)).fit(X)
    return _result("umap", system, _named(system, model.labels_, NOISE), model.confidence_, model.embedding_,
                   ("UMAP 1", "UMAP 2"), what, {"n_components": int(model.n_clusters_), "clusterer": clusterer})


def run_gmm_mlp(system: ParticleSystem, *, descriptors: str = "steinhardt", neighbors: NeighborSpec = 12,
                n_components: int | None = None, seed: int = 0) -> ClassificationResult:
    """Gaussian mixture labels learnt by an MLP (:class:`.mixture_net.MixtureThenNet`).

    The labels are the net's on the same particles (those that fit no learnt class ``"noise"``);
    ``confidence`` is the net's probability of the chosen component (NaN for ``"noise"``).
    """
    from .mixture_net import UNKNOWN, MixtureThenNet

    X, what = descriptors_of(system, descriptors, neighbors)
    if (same := _one_environment("gmm-mlp", system, X, what, ("principal component 1", "principal component 2"))) is not None:
        return same
    model = MixtureThenNet(n_components, random_state=int(seed)).fit(X)
    labels = model.predict(X)
    confidence = np.where(labels == UNKNOWN, np.nan, model.predict_proba(X).max(axis=1))
    agreement = float(np.mean(labels == model.labels_))
    return _result("gmm-mlp", system, _named(system, labels, UNKNOWN), confidence, _pca(X),
                   ("principal component 1", "principal component 2"), what,
                   {"n_components": int(model.gmm_.n_components_), "net_agrees_with_mixture": agreement,
                    **_merged(model.gmm_, n_components),
                    **({"note": "the mixture found one class: no net was trained"} if model.net_ is None else {})})
