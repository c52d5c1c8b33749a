"""DBSCAN on standardised descriptors, with one archetype per cluster.

Phillips & Voth, Soft Matter 9, 8552 (2013), found crystal structures without labels by
clustering local descriptors with DBSCAN (Ester, Kriegel, Sander & Xu, KDD-96, 226 (1996)) and
showing each cluster by an archetype, a real environment typical of it. Here:

* the descriptor columns are standardised (zero mean, unit variance);
* a particle is a core point when at least ``min_samples`` particles (itself included) lie
  within ``eps`` of it in descriptor space; clusters are the connected core points and their
  border points; the rest is noise, label ``−1`` (for disordered particles, typically the
  liquid: DBSCAN's noise is a class of its own here);
* ``eps`` defaults to the ``eps_quantile`` of every particle's distance to its
  ``min_samples``-th nearest neighbour, the k-distance heuristic of Ester et al. (§4.2), but never
  less than the length, in standardised units, of a difference of ``resolution`` in every
  column: descriptors closer than their resolution are one environment. Without that floor a
  perfect lattice, whose k-distances are float32 rounding (~1e-7), got ``eps`` ~1e-5 and split
  by rounding: a perfect fcc/hcp stacking (1728 particles) came out as 3 clusters, the hcp
  layers next to the fcc block (whose q_l differ from the others' by ~1e-6) a cluster of their
  own (ARI 0.861);
* the archetype of a cluster is its member whose descriptor lies closest (Euclidean, in
  standardised units) to the cluster's mean descriptor.

scikit-learn's :class:`~sklearn.cluster.DBSCAN` does the clustering (deterministic: no seed).
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import DBSCAN
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from .mixture_model import check_descriptors

__all__ = ["NOISE", "DescriptorDBSCAN"]

#: Label of particles in no cluster.
NOISE = -1


class DescriptorDBSCAN:
    """Density-based clusters of particle environments with archetypes (module notes).

    Parameters
    ----------
    eps : float, optional
        Neighbourhood radius in standardised descriptor units; default from ``eps_quantile``.
    min_samples : int, default 100
        Particles (itself included) within ``eps`` that make a core point; at most N.
    eps_quantile : float, default 0.95
        Quantile of the k-distances used as ``eps`` when it is not given, in (0, 1]. With the
        defaults 95 % of the particles are core points, so a broad liquid cloud stays one
        cluster and clusters are what gaps in descriptor space separate (measured on a crystal
        slab in liquid, bond coherence d̄_6, and an fcc/hcp mixture, q_1…q_8, of ~2000
        particles: ARI ≥ 0.96; with ``min_samples=10, eps_quantile=0.5`` the liquid falls into
        tens of small clusters). On descriptors in which the liquid is broad in many directions
        and touches the crystal through an interface population (the slab on q_1…q_8, or on d̄_l
        for l = 1…8) the 95 % quantile spans the liquid and joins everything in one cluster.
    resolution : float, default 0.0
        Smallest meaningful difference of a descriptor, in the units of ``X``; ``eps`` is at least
        ``sqrt(Σ_f (resolution / σ_f)²)`` (σ_f the column spreads).

    Attributes
    ----------
    scaler_ : sklearn.preprocessing.StandardScaler
        Column standardisation.
    eps_ : float
        Radius used (standardised units).
    labels_ : ndarray of int, shape (N,)
        Cluster of each particle, 0 … C − 1, or :data:`NOISE`.
    n_clusters_ : int
        C.
    archetypes_ : ndarray of int, shape (C,)
        Index of the archetype particle of each cluster.
    archetype_descriptors_ : ndarray, shape (C, F)
        Their descriptors, in the units of ``X``.
    """

    def __init__(
        self, eps: float | None = None, *, min_samples: int = 100, eps_quantile: float = 0.95,
        resolution: float = 0.0,
    ) -> None:
        self.eps = eps
        self.min_samples = min_samples
        self.eps_quantile = eps_quantile
        self.resolution = resolution

    def fit(self, X: np.ndarray, y: None = None) -> DescriptorDBSCAN:
        """Cluster descriptors ``X`` of shape (N, F); ``y`` is ignored."""
        X = check_descriptors(X)
        if int(self.min_samples) != self.min_samples or not 1 <= self.min_samples <= len(X):
            raise ValueError(
                f"min_samples must be an integer between 1 and N = {len(X)}, "
                f"got {self.min_samples!r}"
            )
        self.scaler_ = StandardScaler().fit(X)
        Z = self.scaler_.transform(X)
        if self.eps is None:
            if not 0 < self.eps_quantile <= 1:
                raise ValueError(f"eps_quantile must lie in (0, 1], got {self.eps_quantile!r}")
            if not (np.isfinite(self.resolution) and self.resolution >= 0):
                raise ValueError(f"resolution must be a finite number >= 0, got {self.resolution!r}")
            dist, _ = NearestNeighbors(n_neighbors=int(self.min_samples)).fit(Z).kneighbors(Z)
            floor = float(np.linalg.norm(self.resolution / self.scaler_.scale_))
            self.eps_ = float(max(np.quantile(dist[:, -1], self.eps_quantile), floor, 1e-12))
        else:
            if not (np.isfinite(self.eps) and self.eps > 0):
                raise ValueError(f"eps must be a finite number > 0, got {self.eps!r}")
            self.eps_ = float(self.eps)
        model = DBSCAN(eps=self.eps_, min_samples=int(self.min_samples)).fit(Z)
        self.labels_ = model.labels_.astype(int)
        self.n_clusters_ = int(self.labels_.max() + 1)
        self._core = Z[model.core_sample_indices_]
        self._core_labels = self.labels_[model.core_sample_indices_]
        archetypes = []
        for c in range(self.n_clusters_):
            members = np.flatnonzero(self.labels_ == c)
            centre = Z[members].mean(axis=0)
            archetypes.append(members[np.argmin(np.linalg.norm(Z[members] - centre, axis=1))])
        self.archetypes_ = np.asarray(archetypes, dtype=int)
        self.archetype_descriptors_ = X[self.archetypes_]
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Cluster of new particles: that of the nearest core point within ``eps_``, else noise.

        Parameters
        ----------
        X : ndarray, shape (M, F)
            Descriptors, in the units of the training descriptors.

        Returns
        -------
        ndarray of int, shape (M,)
        """
        X = check_descriptors(X, min_rows=1)
        if X.shape[1] != self.scaler_.n_features_in_:
            raise ValueError(
                f"descriptors must have {self.scaler_.n_features_in_} columns as in fit, "
                f"got {X.shape[1]}"
            )
        if len(self._core) == 0:
            return np.full(len(X), NOISE)
        dist, idx = NearestNeighbors(n_neighbors=1).fit(self._core).kneighbors(
            self.scaler_.transform(X)
        )
        return np.where(dist[:, 0] <= self.eps_, self._core_labels[idx[:, 0]], NOISE)

    def fit_predict(self, X: np.ndarray, y: None = None) -> np.ndarray:
        """``fit(X).labels_``."""
        return self.fit(X).labels_
