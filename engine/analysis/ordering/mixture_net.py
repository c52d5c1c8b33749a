"""A Gaussian mixture finds the classes, then a supervised net learns them (Spellings & Glotzer).

Spellings & Glotzer, AIChE J. 64, 2198 (2018): cluster the bond-order descriptors of one
system with a Gaussian mixture, then train a neural network on the mixture's labels, so that
new configurations are classified by a fast, fixed model without refitting the mixture.
Here the mixture is :class:`.mixture_model.DescriptorGMM` and the net the supervised
:class:`.supervised.BondOrderMLP`, which also reports particles of a new system that fit none
of the learnt classes (label :data:`UNKNOWN`, from its Mahalanobis novelty test).
"""

from __future__ import annotations

import numpy as np

from .mixture_model import DescriptorGMM, check_descriptors
from .supervised import OTHER, BondOrderMLP

__all__ = ["UNKNOWN", "MixtureThenNet"]

#: Label of particles that fit none of the learnt classes.
UNKNOWN = -1


class MixtureThenNet:
    """Gaussian mixture labels, learnt by a multilayer perceptron (module notes).

    Parameters
    ----------
    n_components : int, optional
        Mixture components K; default chosen by BIC over ``k_range``.
    k_range : tuple of int, default (1, 6)
        Range of K for BIC.
    hidden_layer_sizes : tuple of int, default (32, 32)
        Hidden layers of the net.
    novelty_quantile : float, default 0.999
        As in :class:`.supervised.BondOrderMLP`.
    random_state : int, default 0
        Seed of the mixture and the net.

    Attributes
    ----------
    gmm_ : DescriptorGMM
        The mixture fitted on the training descriptors.
    net_ : BondOrderMLP or None
        The net trained on its labels; None when the mixture found a single class (then every
        particle is that class, and no particle is reported as fitting none).
    labels_ : ndarray of int, shape (N,)
        Mixture labels of the training particles, 0 … K − 1.
    """

    def __init__(
        self,
        n_components: int | None = None,
        *,
        k_range: tuple[int, int] = (1, 6),
        hidden_layer_sizes: tuple[int, ...] = (32, 32),
        novelty_quantile: float = 0.999,
        random_state: int = 0,
    ) -> None:
        self.n_components = n_components
        self.k_range = k_range
        self.hidden_layer_sizes = hidden_layer_sizes
        self.novelty_quantile = novelty_quantile
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: None = None) -> MixtureThenNet:
        """Fit the mixture on descriptors ``X`` (N, F), then the net on its labels."""
        X = check_descriptors(X)
        self.gmm_ = DescriptorGMM(
            self.n_components, k_range=self.k_range, random_state=self.random_state
        ).fit(X)
        self.labels_ = self.gmm_.labels_
        if self.gmm_.n_components_ < 2:
            self.net_ = None  # one class: nothing for a net to tell apart
            return self
        self.net_ = BondOrderMLP(
            self.hidden_layer_sizes, novelty_quantile=self.novelty_quantile,
            random_state=self.random_state,
        ).fit(X, self.labels_.astype(str))
        self._columns = np.argsort(self.net_.classes_.astype(int))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Net probabilities of the mixture's components, shape (M, K), columns 0 … K − 1."""
        if self.net_ is None:
            return np.ones((len(check_descriptors(X, min_rows=1)), 1))
        return self.net_.predict_proba(X)[:, self._columns]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Component of each particle of a new system, :data:`UNKNOWN` if it fits none, (M,)."""
        if self.net_ is None:
            return np.zeros(len(check_descriptors(X, min_rows=1)), dtype=int)
        names = self.net_.predict(X)
        known = names != OTHER
        out = np.full(len(names), UNKNOWN, dtype=int)
        out[known] = names[known].astype(int)
        return out
