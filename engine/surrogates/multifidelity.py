"""Multi-fidelity regression: a cheap model's predictions as regressors, a surrogate for the rest.

Kennedy & O'Hagan (2000, "Predicting the output from a complex computer code when fast
approximations are available", Biometrika 87, 1–13) model the expensive output as a scaled
cheap one plus a discrepancy, ``f_high(x) = ρ f_low(x) + δ(x)`` (their autoregressive
scheme, eq. 2). Here the cheap output is a vector — a surrogate fitted on many cheap labels
(e.g. the fast fracture fidelity's stiffness, G/σ² and |K|/σ predicted for each design) — so
``ρ`` becomes a row of least-squares coefficients with an intercept, fitted on the few expensive
labels, and the discrepancy ``δ`` is any regressor (a grid CNN, an ensemble) fitted on what
that linear part leaves.

Measured on stored labels of 8×8 plates (fracture solver version 5, before the mode-I grip
strips; held-out Spearman of the toughness ranks, mean of 4 splits, 16 / 32 / 48 full labels;
400 fast labels for the cheap CNN): mode I 0.898 / 0.905 / 0.906 against 0.866 / 0.875 / 0.875
for the CNN on full labels alone (the linear part by itself: 0.908 / 0.914 / 0.918, so at these
label counts the discrepancy CNN adds a little noise); mode II 0.603 / 0.606 / 0.627 against
0.586 / 0.596 / 0.650 (linear part 0.51). Starting the CNN from the cheap model's convolutions
instead (transfer of the trunk, the output layers afresh) gave 0.856–0.870 and 0.583–0.619: no
gain, so it is not offered.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["MultiFidelityRegressor"]


class MultiFidelityRegressor:
    """``y ≈ [1, ẑ(X)] β + δ(X)``: ``ẑ`` the predictions of a fitted cheap model, ``δ`` a regressor.

    Parameters
    ----------
    low : fitted regressor
        Predicts the cheap outputs ``ẑ`` (n, c) (or (n,)) of designs; not refitted.
    discrepancy : regressor
        Unfitted model of what the linear part leaves (scikit-learn ``fit``/``predict``; an
        ensemble's ``predict(X, return_std=True)`` is passed through).

    Attributes
    ----------
    coef_ : ndarray, shape (c + 1, k)
        Intercept and coefficients of the cheap outputs for each of the ``k`` targets.
    """

    def __init__(self, low: Any, discrepancy: Any) -> None:
        self.low = low
        self.discrepancy = discrepancy

    def _design_matrix(self, X: Any) -> np.ndarray:
        z = np.asarray(self.low.predict(X), dtype=float)
        return np.column_stack([np.ones(len(z)), z.reshape(len(z), -1)])

    def fit(self, X: Any, y: Any) -> "MultiFidelityRegressor":
        """Least-squares ``β`` of ``y`` (n,) or (n, k) on ``[1, ẑ(X)]``, then ``δ`` on the residual.

        Returns
        -------
        self
        """
        Y = np.asarray(y, dtype=float)
        A = self._design_matrix(X)
        if len(A) != len(Y):
            raise ValueError(f"X has {len(A)} designs but y has {len(Y)} rows")
        self.coef_ = np.linalg.lstsq(A, Y.reshape(len(Y), -1), rcond=None)[0]
        self.discrepancy.fit(X, (Y.reshape(len(Y), -1) - A @ self.coef_).reshape(Y.shape))
        self._1d = Y.ndim == 1
        return self

    def _linear(self, X: Any) -> np.ndarray:
        out = self._design_matrix(X) @ self.coef_
        return out[:, 0] if self._1d else out

    def predict(self, X: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Predicted targets in the units of ``y`` (and the discrepancy's spread with ``return_std``)."""
        if return_std:
            mean, std = self.discrepancy.predict(X, return_std=True)
            return self._linear(X).reshape(np.shape(mean)) + mean, std
        delta = np.asarray(self.discrepancy.predict(X))
        return self._linear(X).reshape(delta.shape) + delta

    def rank_scores(self, X: Any) -> np.ndarray:
        """Ranking score: the first predicted target."""
        out = self.predict(X)
        return out if out.ndim == 1 else out[:, 0]
