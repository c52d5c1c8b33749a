"""Gaussian mixture on standardised descriptors, the number of components chosen by BIC.

The unsupervised classifier of Spellings & Glotzer, AIChE J. 64, 2198 (2018): bond-order
descriptors of every particle, a Gaussian mixture over them, one component per structure.
Each descriptor column is standardised (zero mean, unit variance) so that no column dominates
by its units. When the number of components K is not given it is the one of lowest Bayesian
information criterion ``BIC = −2 ln L̂ + p ln N`` (Schwarz, Ann. Stat. 6, 461 (1978); p free
parameters) over ``k_range``. scikit-learn's :class:`~sklearn.mixture.GaussianMixture` fits the
mixture (EM, k-means++ start, ``n_init`` restarts, the best likelihood kept), seeded.
"""

from __future__ import annotations

import numpy as np
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

__all__ = ["DescriptorGMM", "check_descriptors"]


def check_descriptors(X: np.ndarray, min_rows: int = 2) -> np.ndarray:
    """Descriptors as a float64 array of shape (N, F), refused when malformed.

    Raises
    ------
    ValueError
        Not 2D, fewer than ``min_rows`` rows, no columns, or NaN/infinite entries.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] < min_rows or X.shape[1] < 1:
        raise ValueError(
            f"descriptors must have shape (N, F) with N >= {min_rows} particles and F >= 1, "
            f"got shape {X.shape}"
        )
    if not np.isfinite(X).all():
        raise ValueError(
            "descriptors hold NaN or infinite values (particles without neighbours?); all must "
            "be finite"
        )
    return X


class DescriptorGMM:
    """Gaussian mixture classifier of particle environments (module notes).

    Parameters
    ----------
    n_components : int, optional
        Number of components K; by default chosen by BIC over ``k_range``.
    k_range : tuple of int, default (1, 6)
        Smallest and largest K tried when ``n_components`` is None (inclusive).
    covariance_type : {"full", "diag", "tied", "spherical"}, default "full"
        Covariance of each component (scikit-learn's names).
    n_init : int, default 5
        EM restarts; the fit of highest likelihood is kept.
    random_state : int, default 0
        Seed of the initialisations.

    Attributes
    ----------
    scaler_ : sklearn.preprocessing.StandardScaler
        Column standardisation learnt in ``fit``.
    gmm_ : sklearn.mixture.GaussianMixture
        The chosen mixture.
    n_components_ : int
        Its K.
    bic_ : dict of int to float
        BIC of every K tried (dimensionless; lower is better).
    labels_ : ndarray of int, shape (N,)
        Component of each training particle, 0 … K − 1.
    probabilities_ : ndarray, shape (N, K)
        Posterior membership probabilities of the training particles.
    """

    def __init__(
        self,
        n_components: int | None = None,
        *,
        k_range: tuple[int, int] = (1, 6),
        covariance_type: str = "full",
        n_init: int = 5,
        random_state: int = 0,
    ) -> None:
        self.n_components = n_components
        self.k_range = k_range
        self.covariance_type = covariance_type
        self.n_init = n_init
        self.random_state = random_state

    def _candidates(self, n: int) -> list[int]:
        if self.n_components is not None:
            k = self.n_components
            if int(k) != k or not 1 <= k <= n:
                raise ValueError(
                    f"n_components must be an integer between 1 and N = {n}, got {k!r}"
                )
            return [int(k)]
        low, high = self.k_range
        if int(low) != low or int(high) != high or not 1 <= low <= high:
            raise ValueError(f"k_range must be two integers 1 <= low <= high, got {self.k_range!r}")
        return list(range(int(low), min(int(high), n) + 1))

    def fit(self, X: np.ndarray, y: None = None) -> DescriptorGMM:
        """Fit on descriptors ``X`` of shape (N, F); ``y`` is ignored."""
        X = check_descriptors(X)
        self.scaler_ = StandardScaler().fit(X)
        Z = self.scaler_.transform(X)
        self.bic_ = {}
        best = None
        for k in self._candidates(len(Z)):
            gmm = GaussianMixture(
                k, covariance_type=self.covariance_type, n_init=self.n_init,
                random_state=self.random_state,
            ).fit(Z)
            self.bic_[k] = float(gmm.bic(Z))
            if best is None or self.bic_[k] < self.bic_[best.n_components]:
                best = gmm
        self.gmm_ = best
        self.n_components_ = int(best.n_components)
        self.probabilities_ = best.predict_proba(Z)
        self.labels_ = self.probabilities_.argmax(axis=1)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Posterior probabilities of the components, shape (N, K)."""
        X = check_descriptors(X, min_rows=1)
        if X.shape[1] != self.scaler_.n_features_in_:
            raise ValueError(
                f"descriptors must have {self.scaler_.n_features_in_} columns as in fit, "
                f"got {X.shape[1]}"
            )
        return self.gmm_.predict_proba(self.scaler_.transform(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable component of each particle, shape (N,), int."""
        return self.predict_proba(X).argmax(axis=1)

    def fit_predict(self, X: np.ndarray, y: None = None) -> np.ndarray:
        """``fit(X).labels_``."""
        return self.fit(X).labels_
