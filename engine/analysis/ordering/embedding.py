"""PCA → UMAP → clustering of particle descriptors (Adorf et al. 2020).

The unsupervised pipeline of Adorf, Moore, Melle & Glotzer, J. Phys. Chem. B 124, 69 (2020):
per-particle descriptors (there: spherical-harmonic bond-order descriptors; here any columns,
e.g. Steinhardt q_l or bond coherence d̄_l) are

1. standardised column by column (zero mean, unit variance), so that no descriptor dominates
   by its units;
2. reduced by principal component analysis to the leading components that explain
   ``pca_components`` of the variance (or to that many components), which removes noise
   directions before the neighbour graph is built;
3. embedded in 2 (``n_dims``) dimensions by UMAP — McInnes, Healy & Melville,
   arXiv:1802.03426 (2018), the ``umap-learn`` package. ``min_dist = 0`` packs similar
   environments tightly, which the UMAP authors recommend when the embedding is to be
   clustered; ``n_neighbors`` sets how local the structure kept is. Seeded, UMAP runs single
   threaded and is reproducible;
4. clustered in the embedding: a Gaussian mixture (:class:`.mixture_model.DescriptorGMM`, the
   number of clusters given or chosen by BIC) with posterior probabilities, or HDBSCAN
   (Campello, Moulavi & Sander 2013; scikit-learn's :class:`~sklearn.cluster.HDBSCAN`), which
   finds the number of clusters itself and labels outliers ``-1``.

UMAP can tear one continuous cloud into islands (seed-dependent: a single thermal fcc crystal came
out as 3 clusters with seed 0, 1 with seed 1). Clusters of the map are therefore checked where the
descriptors live: each cluster's particles give a Gaussian (weight, mean, covariance) in the
principal-component space of step 2, and clusters whose Gaussians share one density mode are
merged (:func:`.mixture_model.merge_components`, ridgeline ratio ``merge_ratio``, as for the
mixture's own components) — unless the number of clusters was given.

The embedding is also what the app plots as the 2D map of environments. Coordinates of the
embedding have no units and no meaning beyond their neighbourhoods.

scikit-learn API: ``fit(X) -> self`` with X of shape (N, F), learned attributes end in ``_``.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import HDBSCAN
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from .mixture_model import DescriptorGMM, check_descriptors, class_probabilities, merge_components

__all__ = ["CLUSTERERS", "NOISE", "DescriptorEmbedding"]

#: Clustering methods of the embedding.
CLUSTERERS: tuple[str, ...] = ("gmm", "hdbscan")

#: Label HDBSCAN gives to particles in no cluster.
NOISE = -1


class DescriptorEmbedding:
    """Standardise → PCA → UMAP → cluster (module notes).

    Parameters
    ----------
    n_clusters : int, optional
        Gaussian-mixture components; by default chosen by BIC over ``k_range``. Ignored by
        HDBSCAN.
    clusterer : {"gmm", "hdbscan"}, default "gmm"
        How the embedding is clustered.
    pca_components : int or float, default 0.95
        Principal components kept: a count ≥ 1, or a fraction of the variance in (0, 1].
    n_neighbors : int, default 30
        UMAP neighbourhood size (2 ≤ n_neighbors < N).
    min_dist : float, default 0.0
        UMAP minimum distance between embedded points (dimensionless, ≥ 0).
    n_dims : int, default 2
        Dimension of the embedding.
    k_range : tuple of int, default (1, 6)
        Smallest and largest number of mixture components tried by BIC.
    min_cluster_size : int, default 50
        HDBSCAN's smallest cluster (particles).
    merge_ratio : float, default 0.25
        Ridgeline ratio at which clusters of the map that share one descriptor-space mode are
        merged (module notes); not used when ``n_clusters`` is given to the mixture.
    random_state : int, default 0
        Seed of PCA, UMAP and the mixture.

    Attributes
    ----------
    scaler_ : sklearn.preprocessing.StandardScaler
    pca_ : sklearn.decomposition.PCA
    umap_ : umap.UMAP
    embedding_ : ndarray, shape (N, n_dims)
        UMAP coordinates of the training particles.
    labels_ : ndarray of int, shape (N,)
        Cluster of each particle, 0 … K − 1 (HDBSCAN: −1 for noise).
    n_clusters_ : int
        Clusters found (noise not counted).
    probabilities_ : ndarray, shape (N, K) or None
        Posterior probabilities of the mixture components (``None`` for HDBSCAN).
    confidence_ : ndarray, shape (N,)
        Largest posterior probability (GMM) or HDBSCAN's membership strength, in [0, 1].
    gmm_ : DescriptorGMM or None
        The mixture on the embedding (``"gmm"`` only).
    """

    def __init__(
        self,
        n_clusters: int | None = None,
        *,
        clusterer: str = "gmm",
        pca_components: int | float = 0.95,
        n_neighbors: int = 30,
        min_dist: float = 0.0,
        n_dims: int = 2,
        k_range: tuple[int, int] = (1, 6),
        min_cluster_size: int = 50,
        merge_ratio: float = 0.25,
        random_state: int = 0,
    ) -> None:
        self.n_clusters = n_clusters
        self.clusterer = clusterer
        self.pca_components = pca_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.n_dims = n_dims
        self.k_range = k_range
        self.min_cluster_size = min_cluster_size
        self.merge_ratio = merge_ratio
        self.random_state = random_state

    def _check(self, n: int, f: int) -> int | float | None:
        if self.clusterer not in CLUSTERERS:
            raise ValueError(f"unknown clusterer {self.clusterer!r}; allowed: {', '.join(CLUSTERERS)}")
        pcs = self.pca_components
        if isinstance(pcs, (int, np.integer)) and not isinstance(pcs, bool):
            if not 1 <= pcs <= min(n, f):
                raise ValueError(
                    f"pca_components as a count must lie between 1 and min(N, F) = {min(n, f)}, "
                    f"got {pcs}"
                )
        elif not (isinstance(pcs, float) and 0 < pcs <= 1):
            raise ValueError(
                f"pca_components must be a count >= 1 or a variance fraction in (0, 1], got {pcs!r}"
            )
        if int(self.n_neighbors) != self.n_neighbors or not 2 <= self.n_neighbors < n:
            raise ValueError(
                f"n_neighbors must be an integer with 2 <= n_neighbors < N = {n}, "
                f"got {self.n_neighbors!r}"
            )
        if not (np.isfinite(self.min_dist) and self.min_dist >= 0):
            raise ValueError(f"min_dist must be a finite number >= 0, got {self.min_dist!r}")
        if int(self.n_dims) != self.n_dims or not 1 <= self.n_dims < n - 1:
            raise ValueError(f"n_dims must be an integer between 1 and N - 2, got {self.n_dims!r}")
        if int(self.min_cluster_size) != self.min_cluster_size or self.min_cluster_size < 2:
            raise ValueError(f"min_cluster_size must be an integer >= 2, got {self.min_cluster_size!r}")
        return None if isinstance(pcs, float) and pcs == 1.0 else pcs  # None: keep all

    def fit(self, X: np.ndarray, y: None = None) -> DescriptorEmbedding:
        """Embed and cluster descriptors ``X`` of shape (N, F); ``y`` is ignored."""
        import umap  # here, not at module import: numba compiles on import (seconds)

        X = check_descriptors(X, min_rows=4)
        pcs = self._check(*X.shape)
        self.scaler_ = StandardScaler().fit(X)
        Z = self.scaler_.transform(X)
        self.pca_ = PCA(n_components=pcs, svd_solver="full", random_state=self.random_state).fit(Z)
        P = self.pca_.transform(Z)
        self.umap_ = umap.UMAP(
            n_neighbors=int(self.n_neighbors), min_dist=float(self.min_dist),
            n_components=int(self.n_dims), random_state=self.random_state, n_jobs=1,
        )
        self.embedding_ = np.asarray(self.umap_.fit_transform(P), dtype=float)
        if self.clusterer == "gmm":
            self.gmm_ = DescriptorGMM(
                self.n_clusters, k_range=self.k_range, random_state=self.random_state
            ).fit(self.embedding_)
            labels = self.gmm_.labels_
        else:
            hdb = HDBSCAN(min_cluster_size=int(self.min_cluster_size), copy=True).fit(
                self.embedding_)
            self.gmm_ = None
            labels = np.asarray(hdb.labels_, dtype=int)
            self.confidence_ = np.asarray(hdb.probabilities_, dtype=float)
        self.merged_ = self._descriptor_modes(P, labels)
        self.labels_ = np.where(labels == NOISE, NOISE, self.merged_[np.maximum(labels, 0)])
        if self.gmm_ is not None:
            self.probabilities_ = class_probabilities(self.gmm_.probabilities_, self.merged_)
            self.confidence_ = self.probabilities_.max(axis=1)
        else:
            self.probabilities_ = None
        self.n_clusters_ = int(len(set(self.labels_.tolist()) - {NOISE}))
        return self

    def _descriptor_modes(self, P: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Map cluster → class, merging clusters of one descriptor-space mode (module notes)."""
        ids = np.arange(int(labels.max(initial=-1)) + 1)
        if self.n_clusters is not None and self.clusterer == "gmm" or len(ids) < 2:
            return ids
        sizes = np.array([np.sum(labels == k) for k in ids])
        if np.any(sizes <= P.shape[1]):  # too few particles for a covariance: keep as found
            return ids
        ridge = 1e-6 * np.eye(P.shape[1])
        covariances = [np.atleast_2d(np.cov(P[labels == k], rowvar=False)) + ridge for k in ids]
        means = np.array([P[labels == k].mean(axis=0) for k in ids])
        return merge_components(sizes / sizes.sum(), means, covariances, self.merge_ratio)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Embed new descriptors (N, F) with the fitted maps; returns shape (N, n_dims)."""
        X = check_descriptors(X, min_rows=1)
        if X.shape[1] != self.scaler_.n_features_in_:
            raise ValueError(
                f"descriptors must have {self.scaler_.n_features_in_} columns as in fit, "
                f"got {X.shape[1]}"
            )
        P = self.pca_.transform(self.scaler_.transform(X))
        return np.asarray(self.umap_.transform(P), dtype=float)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Cluster of new particles (``"gmm"`` only: HDBSCAN has no rule for new points)."""
        if self.gmm_ is None:
            raise ValueError("predict needs clusterer='gmm'; HDBSCAN labels only the fitted data")
        return self.merged_[self.gmm_.predict(self.transform(X))]

    def fit_predict(self, X: np.ndarray, y: None = None) -> np.ndarray:
        """``fit(X).labels_``."""
        return self.fit(X).labels_
