"""Hierarchical agglomerative clustering of tracks into populations, the number found from the data.

The idea of Mellnik et al. 2014 (Soft Matter 10, 7781) and Valentine et al. 2001 (Phys. Rev. E
64, 061506): tracks in an inhomogeneous material fall into statistically distinct groups of
step statistics. Each track is a point of standardised features (:mod:`.features`; z-scores, so
that no unit or feature range dominates); Ward's minimum-variance linkage
(:func:`scipy.cluster.hierarchy.linkage`) builds the tree.

**Number of clusters, in two steps.**

1. *Is there structure at all?* The gap statistic (Tibshirani, Walther & Hastie 2001, J. R.
   Stat. Soc. B 63, 411): for ``k = 1 … k_max`` the within-cluster sum of squares ``W_k`` of the
   Ward cut into ``k`` clusters is compared with its mean over ``B`` reference data sets drawn
   uniformly in the box spanned by the data along its principal axes (their reference "b"),
   clustered the same way: ``Gap(k) = mean_b log W*_kb − log W_k``, ``s_k = sd_b(log W*_kb)
   sqrt(1 + 1/B)``. **k = 1** when ``Gap(1) ≥ Gap(k*) − s_k*`` with ``k* = argmax_k Gap(k)``: no
   cut beats structureless data of the same extent by more than one standard error more than
   leaving the tracks together does. This is the "global SE max" form of the rule (Dudoit &
   Fridlyand 2002, Genome Biol. 3, research0036; ``maxSE(method = "globalSEmax")`` of R's
   ``cluster::clusGap``). Tibshirani et al.'s first-step form, ``Gap(1) ≥ Gap(2) − s_2``, looks
   only at k = 2 and misses three populations of which any two-way cut merges two: 20 tracks
   each of D = 0.05, 0.5 µm²/s and a trap (50–100 positions) had Gap(1) = 0.16, Gap(2) = 0.23 ±
   0.08 but Gap(3) = 0.61 ± 0.11, and the first-step form called 14 of 30 such data sets
   structureless; the global form found structure in all 30 (margin 4.9–10.6 s.e., 10–90 %),
   and in 2 of 240 single-population data sets (free and trapped, 20–150 tracks, fixed and mixed
   lengths), against 0 of 240 for the first-step form.
2. *How many clusters?* Otherwise ``k`` in ``2 … k_max`` minimises the Bayesian information
   criterion of the Ward cut, each cluster a Gaussian with its own mean and full covariance
   (classification likelihood, as in model-based clustering, Fraley & Raftery 2002, J. Am.
   Stat. Assoc. 97, 611): ``BIC_k = −2 Σ_c Σ_(i∈c) [log N(x_i; μ_c, Σ_c) + log(n_c/n)] +
   (k(p + p(p+1)/2) + k − 1) log n``; a cut with a cluster of ``p + 1`` tracks or fewer is not
   admissible.

Why not one rule: on simulated populations (1–4 groups of free and trapped tracks, equal and
unequal group sizes, fixed and mixed track lengths, 200 frames, σ = 20 nm) the gap statistic
alone split large, elongated clusters (wrong k in 14 of 20 data sets with unequal group sizes),
the best silhouette merged close groups when others were far apart (wrong in 11 of 12 four-group
sets), and the BIC alone split single populations whose features are heavy-tailed because short
tracks are noisier (3 of 12). The two-step rule chose the right k in 178 of 180 data sets
(9 designs × 20 seeds; every single population gave k = 1; measured with the first-step form of
step 1). Re-measured on another 9 designs × 20 seeds (frame interval 0.01 s; D in µm²/s; one free
population of 150 tracks, one trapped, one of 60 tracks of 50–300 frames; two free of 80/80 and
150/30 tracks, D = 0.05 and 0.5; free and trapped 60/60; three of 60 and of 20 tracks, 50–100
frames; four of 40), the global form chose the right k in 167 of 180 with localisation noise
σ = 0.02 µm (first-step form: 148) and 165 without (154), and was never worse on any design;
every single population still gave k = 1. The silhouette (Rousseeuw 1987) of each cut is
reported for information.

Two free populations of only 20 tracks each (D ten-fold apart) are still often called
structureless (12 of 30 data sets): log D separates them, but the two other default features
carry only noise, which standardisation weighs as much, so that the best two-way cut of the data
beats that of the reference box by less than a standard error.

Default features (:data:`CLUSTER_FEATURES`): ``log10_D``, ``alpha`` and ``log10_rg_ratio``.
The non-Gaussian parameter and the confinement ratio are computed too and can be added with
``columns``; they are off by default because for Brownian and trapped particles they carry only
sampling noise, which standardisation weighs as much as the signal (three simulated
populations: mean silhouette 0.72 with the three default features, 0.45 with all five).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.metrics import silhouette_score

__all__ = ["CLUSTER_FEATURES", "TrackClusters", "cluster_tracks", "gap_structure"]

#: Features clustered by default (columns of :func:`.features.track_features`).
CLUSTER_FEATURES = ("log10_D", "alpha", "log10_rg_ratio")


@dataclass(frozen=True, eq=False)
class TrackClusters:
    """Result of :func:`cluster_tracks`.

    Attributes
    ----------
    labels : pandas.Series of int
        Index ``particle``; cluster ``0 … n_clusters − 1`` ordered by increasing mean of the first
        feature (``log10_D``: slowest first), ``-1`` for tracks with a missing feature.
    n_clusters : int
        Number of clusters chosen (gap statistic for k = 1, else BIC).
    ks : ndarray of int, shape (m,)
        Cluster numbers tried, ``1 … k_max`` (fewer with few tracks).
    gap, gap_se : ndarray of float, shape (m,)
        ``Gap(k)`` and ``s_k``.
    bic : ndarray of float, shape (m,)
        ``BIC_k`` of the Ward cuts (``inf`` where not admissible).
    silhouette : ndarray of float, shape (m,)
        Mean silhouette of each cut (NaN for k = 1).
    linkage : ndarray of float, shape (n − 1, 4)
        Ward linkage matrix of the clustered tracks (rows in the order of ``clustered``).
    clustered : ndarray of int
        Particle ids of the clustered tracks.
    columns : tuple of str
        Features used.
    """

    labels: pd.Series
    n_clusters: int
    ks: np.ndarray
    gap: np.ndarray
    gap_se: np.ndarray
    bic: np.ndarray
    silhouette: np.ndarray
    linkage: np.ndarray
    clustered: np.ndarray
    columns: tuple[str, ...]


def cluster_tracks(features: pd.DataFrame, *, columns: Sequence[str] = CLUSTER_FEATURES, k_max: int = 6,
                   n_references: int = 20, seed: int | np.random.Generator = 0) -> TrackClusters:
    """Cluster tracks by Ward linkage of standardised features; number of clusters from the data.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per track, index ``particle`` (:func:`.features.track_features`).
    columns : sequence of str, default :data:`CLUSTER_FEATURES`
        Feature columns to use (at least one).
    k_max : int, default 6
        Largest number of clusters considered (≥ 1).
    n_references : int, default 20
        Reference data sets ``B`` of the gap statistic (≥ 2).
    seed : int or numpy.random.Generator
        For the reference data sets.

    Returns
    -------
    TrackClusters

    Raises
    ------
    ValueError
        Unknown columns, ``k_max < 1``, ``n_references < 2``, or no track with all features.
    """
    columns = tuple(columns)
    missing = [c for c in columns if c not in features.columns]
    if not columns or missing:
        raise ValueError(f"unknown feature columns {missing}; available: {', '.join(map(str, features.columns))}")
    if isinstance(k_max, bool) or int(k_max) != k_max or k_max < 1:
        raise ValueError(f"k_max must be an integer >= 1; got {k_max!r}")
    if isinstance(n_references, bool) or int(n_references) != n_references or n_references < 2:
        raise ValueError(f"n_references must be an integer >= 2; got {n_references!r}")
    values = features.loc[:, list(columns)].to_numpy(float)
    good = np.all(np.isfinite(values), axis=1)
    if not good.any():
        raise ValueError("no track has all the features (tracks need at least 5 positions)")
    x = values[good]
    spread = x.std(axis=0)
    x = (x[:, spread > 0] - x[:, spread > 0].mean(axis=0)) / spread[spread > 0]
    rng = np.random.default_rng(seed)
    n = len(x)
    ks = np.arange(1, max(1, min(int(k_max), n - 1)) + 1)
    if x.shape[1] == 0 or n < 3 or len(ks) < 2:  # nothing to compare k = 1 with
        cuts = [np.ones(n, dtype=int)]
        tree = linkage(x, "ward") if n >= 2 and x.shape[1] else np.empty((0, 4))
        gap = np.zeros(1)
        gap_se = np.zeros(1)
        bic = np.full(1, np.nan)
        ks = ks[:1]
        k = 1
    else:
        tree = linkage(x, "ward")
        cuts = _cuts(tree, ks)
        log_w = np.log([_within(x, c) for c in cuts])
        reference = np.array([np.log([_within(r, c) for c in _cuts(linkage(r, "ward"), ks)])
                              for r in _references(x, int(n_references), rng)])
        gap = reference.mean(axis=0) - log_w
        gap_se = reference.std(axis=0) * np.sqrt(1 + 1 / n_references)
        bic = np.array([_bic(x, c) for c in cuts])
        if not gap_structure(gap, gap_se)[0] or not np.isfinite(bic[1:]).any():
            k = 1
        else:
            k = int(ks[1:][np.argmin(bic[1:])])
    silhouette = np.array([np.nan if len(np.unique(c)) < 2 else silhouette_score(x, c) for c in cuts])
    raw = cuts[k - 1]
    order = np.argsort([values[good][raw == c, 0].mean() for c in range(1, k + 1)])
    rank = np.empty(k, dtype=int)
    rank[order] = np.arange(k)
    labels = np.full(len(features), -1, dtype=np.int64)
    labels[good] = rank[raw - 1]
    return TrackClusters(pd.Series(labels, index=features.index, name="cluster"), k, ks, gap, gap_se, bic,
                         silhouette, tree, features.index.to_numpy()[good], columns)


def gap_structure(gap: np.ndarray, gap_se: np.ndarray) -> tuple[bool, int]:
    """Whether the gap statistic finds structure: ``Gap(1) < Gap(k*) − s_k*`` (module notes, step 1).

    Parameters
    ----------
    gap, gap_se : ndarray of float, shape (m,)
        ``Gap(k)`` and ``s_k`` for ``k = 1 … m``.

    Returns
    -------
    structure : bool
        False (one cluster) when ``Gap(1) ≥ Gap(k*) − s_k*``, or when ``m < 2``.
    best : int
        ``k* = argmax_k Gap(k)`` (1-based; 1 when ``m < 2``).
    """
    gap, gap_se = np.asarray(gap, dtype=float), np.asarray(gap_se, dtype=float)
    if len(gap) < 2:
        return False, 1
    best = int(np.argmax(gap))
    return bool(gap[0] < gap[best] - gap_se[best]), best + 1


def _cuts(tree: np.ndarray, ks: np.ndarray) -> list[np.ndarray]:
    """Labels ``1 … k`` of the tree cut into each ``k``."""
    return [np.ones(len(tree) + 1, dtype=int) if k == 1 else fcluster(tree, int(k), "maxclust") for k in ks]


def _within(x: np.ndarray, labels: np.ndarray) -> float:
    """Pooled within-cluster sum of squares ``W_k``."""
    total = 0.0
    for c in np.unique(labels):
        part = x[labels == c]
        total += float(np.sum((part - part.mean(axis=0)) ** 2))
    return max(total, np.finfo(float).tiny)


def _bic(x: np.ndarray, labels: np.ndarray) -> float:
    """Classification BIC of a partition, one full-covariance Gaussian per cluster (inf if a cluster is too small)."""
    n, p = x.shape
    clusters = np.unique(labels)
    log_likelihood = 0.0
    for c in clusters:
        part = x[labels == c]
        m = len(part)
        if m <= p + 1:
            return np.inf
        cov = np.cov(part, rowvar=False, bias=True).reshape(p, p) + 1e-9 * np.eye(p)
        sign, log_det = np.linalg.slogdet(cov)
        if sign <= 0:
            return np.inf
        centred = part - part.mean(axis=0)
        mahalanobis = np.einsum("ij,ij->i", centred @ np.linalg.inv(cov), centred)
        log_likelihood += float(-0.5 * np.sum(mahalanobis) - 0.5 * m * (log_det + p * np.log(2 * np.pi))
                                + m * np.log(m / n))
    k = len(clusters)
    return -2 * log_likelihood + (k * (p + p * (p + 1) / 2) + k - 1) * np.log(n)


def _references(x: np.ndarray, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Uniform data in the box of ``x`` along its principal axes (Tibshirani et al. 2001, ref. b)."""
    centred = x - x.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ axes.T
    low, high = projected.min(axis=0), projected.max(axis=0)
    return [rng.uniform(low, high, size=projected.shape) @ axes for _ in range(count)]
