"""Unsupervised methods of :mod:`.methods`: they learn the classes from the system itself.

Descriptors (option ``descriptors``; ``neighbors`` sets who counts as a neighbour):

* ``"auto"`` (default) — ``"coherence-6"`` when it finds two phases, else ``"steinhardt"``
  (below: "phases first, then structures");
* ``"steinhardt"`` — q_l, l = 1…8 (Boattini et al.'s inputs without the average);
  separates fcc from hcp by the first shell;
* ``"averaged"`` — Lechner–Dellago q̄_l, l = 1…8: less noisy, mixes in the second shell;
* ``"coherence-6"`` — ten Wolde bond coherence d̄_6 over each particle's 2/3 most coherent bonds
  (see :mod:`.coherence`): an order parameter of crystal against liquid that keeps the surface
  layers of a crystal in its liquid crystal-like;
* ``"bond-order"`` — the 14 features of the supervised MLP (q_l, q̄_l, l = 4, 6, 8, with 12 and
  14 neighbours, ŵ4, ŵ6); with a neighbour definition other than the default 12, the same eight
  kinds (q_l, q̄_l, l = 4, 6, 8, ŵ4, ŵ6) with those neighbours.

**An order parameter has two classes at most.** d̄_6 measures one thing: how well a particle's
bond order matches its neighbours' (ten Wolde, Ruiz-Montero & Frenkel 1996 classify solid-like
against liquid-like on it). The mixture methods therefore fit K = 1 or 2 on ``"coherence-6"``
(BIC, then the ridgeline merge of :mod:`.mixture_model`: one phase or two), unless K is given.
With K up to 6 the surface layers of a crystal slab in its liquid are a third class: their own
q̂_6 mixes in their liquid neighbours, so d̄_6 is 0.89 ± 0.04 there against 0.993 ± 0.003 in the
bulk and 0.29 ± 0.14 in the liquid (``slab`` defaults of :mod:`.configurations`, Lindemann
0.05) — a genuine third mode, so BIC chose K = 3–5 and merging left 3 classes (ARI 0.77). The
integrated completed likelihood (ICL = BIC + 2 × entropy of the posterior; Biernacki, Celeux &
Govaert, IEEE TPAMI 22, 719 (2000)), which penalises overlapping components, chose K = 3–6 too
(the narrow bulk component overlaps little); the entropy criterion of Baudry et al. (J. Comput.
Graph. Stat. 19, 332 (2010)) merges the surface into the bulk first, as it should, but that
pair's entropy is 0.02 nats per particle at Lindemann 0.05 and 0.002 at 0.03, about that of
crystal against liquid at 0.05 (0.001–0.002), so no fixed stopping threshold serves. With K ≤ 2
on d̄_6 (measured on 2048 particles, Lindemann 0.02–0.08, seeds 0–2) the GMM reaches ARI
0.93–0.998 and DBSCAN (no K) 0.96–0.98; the autoencoder 0.98–1.00 (Lindemann 0.03–0.08, seeds 0–1).

**Phases first, then structures** (``"auto"``). No one descriptor answers both questions of the
issue: on the slab every set that contains q_l (Steinhardt, averaged, with or without d̄_6, and
d̄_l for l ≠ 6, whose odd-l and l = 2 columns normalise the vanishing q_lm of a cubic crystal,
i.e. noise) puts the surface layers nearer the liquid (ARI 0.51–0.78 by BIC, 0.25–0.56 with K = 2),
and d̄_6 does not see fcc from hcp (ARI 0.00). So ``"auto"`` fits the two-class mixture on d̄_6
first (seeded by ``seed``): two classes — ordered and disordered particles — and the method runs
on d̄_6; one class (a single crystal, an fcc/hcp stacking, a liquid) and it runs on q_l to tell
structures apart. ``details["descriptors"]`` says which set was used. A system with two crystal
structures and a liquid comes out as crystal against liquid; choose ``"steinhardt"`` to split
the crystals.

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
    "DEFAULT_NEIGHBORS", "DESCRIPTORS", "K_RANGE", "PHASE_DESCRIPTORS", "PHASE_K_RANGE", "choose_descriptors",
    "descriptors_of", "run_gmm", "run_dbscan", "run_autoencoder", "run_diffusion_map", "run_umap", "run_gmm_mlp",
]

#: Descriptor set name → description.
DESCRIPTORS: dict[str, str] = {
    "auto": "coherence-6 when it finds two phases (ordered and disordered), else steinhardt",
    "steinhardt": "q_l, l = 1…8",
    "averaged": "Lechner–Dellago q̄_l, l = 1…8",
    "coherence-6": "bond coherence d̄_6 of the 2/3 most coherent bonds (crystal against liquid: K ≤ 2)",
    "bond-order": "the 14 bond-order features of the MLP (12 and 14 neighbours; another count N: the 8 kinds with N)",
}
_LS = range(1, 9)
#: Neighbours of the descriptors when none are given (``"bond-order"``: those of the MLP).
DEFAULT_NEIGHBORS = 12
#: Descriptor sets that are order parameters of two phases: mixtures on them have K in PHASE_K_RANGE.
PHASE_DESCRIPTORS = frozenset({"coherence-6"})
#: K tried on a phase order parameter (module notes).
PHASE_K_RANGE = (1, 2)
#: K tried on every other descriptor set.
K_RANGE = (1, 6)


def descriptors_of(system: ParticleSystem, descriptors: str = "steinhardt",
                   neighbors: NeighborSpec = DEFAULT_NEIGHBORS) -> tuple[np.ndarray, str]:
    """Descriptor matrix (N, F) of a named set (module notes; not ``"auto"``, see
    :func:`choose_descriptors`) and its description; columns whose spread is rounding noise
    (:data:`DESCRIPTOR_RESOLUTION`) are left out, so F may be 0."""
    if descriptors not in DESCRIPTORS or descriptors == "auto":
        allowed = ", ".join(d for d in DESCRIPTORS if d != "auto")
        raise ValueError(f"unknown descriptors {descriptors!r}; allowed: {allowed}")
    who = f"{neighbors} nearest neighbours" if not isinstance(neighbors, str) else f"{neighbors} neighbours"
    if descriptors == "bond-order":
        if neighbors == DEFAULT_NEIGHBORS:
            if system.n_particles < 15:
                raise ValueError(f"the bond-order features need at least 15 particles; the system has "
                                 f"{system.n_particles}")
            return _informative(bond_order_features(system)), DESCRIPTORS[descriptors]
        X = np.hstack([steinhardt(system, (4, 6, 8), neighbors=neighbors),
                       steinhardt(system, (4, 6, 8), neighbors=neighbors, average=True),
                       steinhardt(system, (4, 6), neighbors=neighbors, wl=True)])
        what = f"bond-order features q_l, q̄_l (l = 4, 6, 8), ŵ4, ŵ6 with {who}"
    elif descriptors == "coherence-6":
        # the 2/3 most coherent bonds (8 of 12): a crystal particle at a surface keeps its coherent
        # bonds, so it stays with the crystal (the averaged-over-all recipe split the surface off)
        strongest = None if isinstance(neighbors, str) else max(1, round(2 * int(neighbors) / 3))
        X = bond_coherence(system, (6,), neighbors=neighbors, strongest=strongest)
        what = f"{DESCRIPTORS[descriptors]}, {who}"
    else:
        X = steinhardt(system, _LS, neighbors=neighbors, average=descriptors == "averaged")
        what = f"{DESCRIPTORS[descriptors]}, {who}"
    if not np.isfinite(X).all():
        raise ValueError("some particles have no neighbours (NaN descriptors); use a neighbour count "
                         "instead of a Voronoi or SANN definition, or check the box")
    return _informative(X), what


def choose_descriptors(system: ParticleSystem, descriptors: str = "auto",
                       neighbors: NeighborSpec = DEFAULT_NEIGHBORS, seed: int = 0) -> tuple[np.ndarray, str, str]:
    """The descriptor matrix a method runs on, resolving ``"auto"`` (module notes).

    Returns
    -------
    X : ndarray, shape (N, F)
        :func:`descriptors_of` of the chosen set.
    what : str
        Its description (for ``"auto"``, with the reason of the choice).
    name : str
        The chosen set (never ``"auto"``).
    """
    if descriptors not in DESCRIPTORS:
        raise ValueError(f"unknown descriptors {descriptors!r}; allowed: {', '.join(DESCRIPTORS)}")
    if descriptors != "auto":
        X, what = descriptors_of(system, descriptors, neighbors)
        return X, what, descriptors
    from .mixture_model import DescriptorGMM

    X, what = descriptors_of(system, "coherence-6", neighbors)
    if X.shape[1] > 0 and system.n_particles >= 2:
        phases = DescriptorGMM(k_range=PHASE_K_RANGE, random_state=int(seed)).fit(X)
        if phases.n_components_ == 2:
            return X, f"auto: two phases by d̄_6 → {what}", "coherence-6"
    X, what = descriptors_of(system, "steinhardt", neighbors)
    return X, f"auto: one phase by d̄_6 → {what}", "steinhardt"


def _k_range(name: str) -> tuple[int, int]:
    """K tried by the mixture methods on descriptor set ``name`` (module notes)."""
    return PHASE_K_RANGE if name in PHASE_DESCRIPTORS else K_RANGE


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


_PCA_AXES = ("principal component 1", "principal component 2")
_DIFFUSION_AXES = ("diffusion coordinate 1", "diffusion coordinate 2")


def _one_environment(method: str, system: ParticleSystem, X: np.ndarray, what: str,
                     axes: tuple[str, str], name: str) -> ClassificationResult | None:
    """One cluster when all particles share one environment (no informative column), else None.

    A mixture, a density or an embedding of identical points has nothing to find.
    """
    if X.shape[1] == 0:
        n = system.n_particles
        return _result(method, system, np.full(n, "cluster 1"), np.ones(n), np.zeros((n, 2)), axes, what,
                       {"n_components": 1, "descriptors": name,
                        "note": "every particle has the same environment (every descriptor's "
                                f"spread is below {DESCRIPTOR_RESOLUTION:g}): one cluster"})
    return None


def _bic(gmm: Any) -> dict[str, float]:
    return {str(k): float(v) for k, v in gmm.bic_.items()}


def _merged(gmm: Any, asked: int | None) -> dict[str, int]:
    """The BIC mixture's K when its components were merged into classes (K not given)."""
    return {} if asked is not None else {"mixture_components": int(gmm.n_mixture_components_)}


def run_gmm(system: ParticleSystem, *, descriptors: str = "auto", neighbors: NeighborSpec = DEFAULT_NEIGHBORS,
            n_components: int | None = None, seed: int = 0) -> ClassificationResult:
    """Gaussian mixture on the descriptors (:class:`.mixture_model.DescriptorGMM`).

    ``n_components`` K; by default the K in 1…6 (1…2 on ``"coherence-6"``, module notes) of lowest
    BIC, its components merged into one class per density mode (:mod:`.mixture_model`).
    ``confidence`` is the posterior probability of the chosen class.
    """
    from .mixture_model import DescriptorGMM

    X, what, name = choose_descriptors(system, descriptors, neighbors, int(seed))
    if (same := _one_environment("gmm", system, X, what, _PCA_AXES, name)) is not None:
        return same
    gmm = DescriptorGMM(n_components, k_range=_k_range(name), random_state=int(seed)).fit(X)
    return _result("gmm", system, _named(system, gmm.labels_), gmm.probabilities_.max(axis=1),
                   _pca(X), ("principal component 1", "principal component 2"), what,
                   {"n_components": gmm.n_components_, "descriptors": name, "bic": _bic(gmm),
                    **_merged(gmm, n_components)})


def run_dbscan(system: ParticleSystem, *, descriptors: str = "auto", neighbors: NeighborSpec = DEFAULT_NEIGHBORS,
               min_samples: int | None = None, eps: float | None = None) -> ClassificationResult:
    """DBSCAN on the descriptors with archetypes (:class:`.density_clusters.DescriptorDBSCAN`).

    ``min_samples`` defaults to min(100, N); ``eps`` (standardised descriptor units) to the
    95 % quantile of the k-distances, at least the descriptors' resolution
    (:data:`DESCRIPTOR_RESOLUTION`, so that a perfect lattice's rounding noise is no structure).
    ``descriptors="auto"`` decides with seed 0. ``confidence`` is NaN.
    """
    from .density_clusters import NOISE, DescriptorDBSCAN

    X, what, name = choose_descriptors(system, descriptors, neighbors, 0)
    if (same := _one_environment("dbscan", system, X, what, _PCA_AXES, name)) is not None:
        return same
    k = min(100, system.n_particles) if min_samples is None else min_samples
    model = DescriptorDBSCAN(eps, min_samples=k, resolution=DESCRIPTOR_RESOLUTION).fit(X)
    names = _named(system, model.labels_, NOISE)
    archetypes = {names[i]: int(i) for i in model.archetypes_}
    return _result("dbscan", system, names, np.full(system.n_particles, np.nan), _pca(X),
                   ("principal component 1", "principal component 2"), what,
                   {"eps": model.eps_, "min_samples": int(k), "archetypes": archetypes, "descriptors": name})


def run_autoencoder(system: ParticleSystem, *, descriptors: str = "auto", neighbors: NeighborSpec = DEFAULT_NEIGHBORS,
                    n_components: int | None = None, epochs: int = 100, seed: int = 0) -> ClassificationResult:
    """Autoencoder to a 2D code + Gaussian mixture on it (:class:`.autoencoder.DescriptorAutoencoder`).

    ``details`` hold the fraction of variance the reconstruction explains (``fve``).
    """
    from .autoencoder import DescriptorAutoencoder

    X, what, name = choose_descriptors(system, descriptors, neighbors, int(seed))
    if (same := _one_environment("autoencoder", system, X, what, ("code 1", "code 2"), name)) is not None:
        return same
    model = DescriptorAutoencoder(2, epochs=int(epochs), n_components=n_components, k_range=_k_range(name),
                                  random_state=int(seed)).fit(X)
    return _result("autoencoder", system, _named(system, model.labels_), model.probabilities_.max(axis=1),
                   model.code_, ("code 1", "code 2"), what,
                   {"n_components": model.gmm_.n_components_, "descriptors": name, "fve": model.fve_,
                    "bic": _bic(model.gmm_)})


def run_diffusion_map(system: ParticleSystem, *, descriptors: str = "auto", neighbors: NeighborSpec = DEFAULT_NEIGHBORS,
                      n_components: int | None = None, seed: int = 0) -> ClassificationResult:
    """Diffusion map to 2 coordinates + Gaussian mixture on them (:class:`.diffusion_map.DiffusionMap`)."""
    from .diffusion_map import DiffusionMap

    X, what, name = choose_descriptors(system, descriptors, neighbors, int(seed))
    if (same := _one_environment("diffusion-map", system, X, what, _DIFFUSION_AXES, name)) is not None:
        return same
    model = DiffusionMap(2, n_components=n_components, k_range=_k_range(name), random_state=int(seed)).fit(X)
    return _result("diffusion-map", system, _named(system, model.labels_), model.probabilities_.max(axis=1),
                   model.coordinates_, ("diffusion coordinate 1", "diffusion coordinate 2"), what,
                   {"n_components": model.gmm_.n_components_, "descriptors": name, "epsilon": model.epsilon_,
                    "landmarks": system.n_particles if model.landmarks_ is None else len(model.landmarks_),
                    "eigenvalues": [float(v) for v in model.eigenvalues_]})


def run_umap(system: ParticleSystem, *, descriptors: str = "auto", neighbors: NeighborSpec = DEFAULT_NEIGHBORS,
             n_components: int | None = None, clusterer: str = "gmm", seed: int = 0) -> ClassificationResult:
    """PCA → UMAP → clustering (:class:`.embedding.DescriptorEmbedding`).

    ``clusterer`` ``"gmm"`` (``n_components`` K, default by BIC; ``confidence`` the posterior) or
    ``"hdbscan"`` (finds K itself; outliers ``"noise"``; ``confidence`` the membership strength).
    """
    from .embedding import NOISE, DescriptorEmbedding

    X, what, name = choose_descriptors(system, descriptors, neighbors, int(seed))
    if (same := _one_environment("umap", system, X, what, ("UMAP 1", "UMAP 2"), name)) is not None:
        return same
    model = DescriptorEmbedding(n_components, clusterer=clusterer, k_range=_k_range(name), random_state=int(seed),
                                n_neighbors=min(30, system.n_particles - 1)).fit(X)
    return _result("umap", system, _named(system, model.labels_, NOISE), model.confidence_, model.embedding_,
                   ("UMAP 1", "UMAP 2"), what, {"n_components": int(model.n_clusters_), "clusterer": clusterer,
                                            "descriptors": name})


def run_gmm_mlp(system: ParticleSystem, *, descriptors: str = "auto", neighbors: NeighborSpec = DEFAULT_NEIGHBORS,
                n_components: int | None = None, seed: int = 0) -> ClassificationResult:
    """Gaussian mixture labels learnt by an MLP (:class:`.mixture_net.MixtureThenNet`).

    The labels are the net's on the same particles (those that fit no learnt class ``"noise"``);
    ``confidence`` is the net's probability of the chosen component (NaN for ``"noise"``).
    """
    from .mixture_net import UNKNOWN, MixtureThenNet

    X, what, name = choose_descriptors(system, descriptors, neighbors, int(seed))
    if (same := _one_environment("gmm-mlp", system, X, what, _PCA_AXES, name)) is not None:
        return same
    model = MixtureThenNet(n_components, k_range=_k_range(name), random_state=int(seed)).fit(X)
    labels = model.predict(X)
    confidence = np.where(labels == UNKNOWN, np.nan, model.predict_proba(X).max(axis=1))
    agreement = float(np.mean(labels == model.labels_))
    return _result("gmm-mlp", system, _named(system, labels, UNKNOWN), confidence, _pca(X),
                   ("principal component 1", "principal component 2"), what,
                   {"n_components": int(model.gmm_.n_components_), "descriptors": name,
                    "net_agrees_with_mixture": agreement,
                    **_merged(model.gmm_, n_components),
                    **({"note": "the mixture found one class: no net was trained"} if model.net_ is None else {})})
