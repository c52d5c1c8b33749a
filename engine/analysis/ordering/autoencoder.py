"""Autoencoder of descriptors, then a Gaussian mixture on its code (Boattini et al. 2019).

Boattini, Dijkstra & Filion, J. Chem. Phys. 151, 154901 (2019): a small fully connected
autoencoder learns a low-dimensional code of each particle's bond-order descriptors (they use
averaged q̄_l, l = 1…8); a Gaussian mixture clusters the code; no labels are used. Recipe here
(their architecture: one hidden layer in each half, a linear bottleneck):

* inputs standardised per column (zero mean, unit variance);
* encoder F → ``hidden`` (ReLU) → ``n_code`` (linear), decoder ``n_code`` → ``hidden`` (ReLU)
  → F (linear); ``hidden`` defaults to 10 F;
* loss: mean squared reconstruction error + ``weight_decay`` · ||w||² (Adam, minibatches of
  ``batch_size``, ``epochs`` passes), on CPU, seeded (initial weights and minibatch order);
* :class:`.mixture_model.DescriptorGMM` on the code (K by BIC unless given);
* which inputs drive the code: ``input_code_correlation_[f, c]``, the Pearson correlation of
  standardised input f with code dimension c over the training particles, and the fraction of
  variance explained by the reconstruction, ``fve_`` = 1 − Σ(x − x̂)² / Σ(x − x̄)²
  (their criterion for the code size).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .mixture_model import DescriptorGMM, check_descriptors

__all__ = ["DescriptorAutoencoder"]


def _network(n_in: int, hidden: int, n_code: int) -> tuple[nn.Module, nn.Module]:
    encoder = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_code))
    decoder = nn.Sequential(nn.Linear(n_code, hidden), nn.ReLU(), nn.Linear(hidden, n_in))
    return encoder, decoder


class DescriptorAutoencoder:
    """Autoencoder + Gaussian mixture classifier of particle environments (module notes).

    Parameters
    ----------
    n_code : int, default 2
        Bottleneck width (code dimensions).
    hidden : int, optional
        Hidden-layer width; default 10 × the number of inputs.
    epochs : int, default 100
        Passes over the training particles.
    batch_size : int, default 256
        Particles per Adam step.
    learning_rate : float, default 1e-3
        Adam step size.
    weight_decay : float, default 1e-5
        L2 penalty on the weights.
    n_components : int, optional
        Mixture components on the code; default chosen by BIC over ``k_range``.
    k_range : tuple of int, default (1, 6)
        Range of K for BIC.
    random_state : int, default 0
        Seed of the weights, the minibatch order and the mixture.

    Attributes
    ----------
    scaler_mean_, scaler_scale_ : ndarray, shape (F,)
        Input standardisation.
    encoder_, decoder_ : torch.nn.Module
        The trained halves (float32, CPU).
    loss_history_ : list of float
        Mean training loss of each epoch (standardised units²).
    code_ : ndarray, shape (N, n_code)
        Code of the training particles.
    fve_ : float
        Fraction of input variance the reconstruction explains.
    input_code_correlation_ : ndarray, shape (F, n_code)
        Pearson correlation of each input with each code dimension.
    gmm_ : DescriptorGMM
        Mixture fitted on the code.
    labels_ : ndarray of int, shape (N,)
        Component of each training particle.
    probabilities_ : ndarray, shape (N, K)
        Their membership probabilities.
    """

    def __init__(
        self,
        n_code: int = 2,
        *,
        hidden: int | None = None,
        epochs: int = 100,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-5,
        n_components: int | None = None,
        k_range: tuple[int, int] = (1, 6),
        random_state: int = 0,
    ) -> None:
        self.n_code = n_code
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.n_components = n_components
        self.k_range = k_range
        self.random_state = random_state

    def _check(self, n_in: int) -> int:
        for name in ("n_code", "epochs", "batch_size"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        hidden = 10 * n_in if self.hidden is None else self.hidden
        if int(hidden) != hidden or hidden < 1:
            raise ValueError(f"hidden must be a positive integer, got {self.hidden!r}")
        if not (self.learning_rate > 0 and self.weight_decay >= 0):
            raise ValueError(
                f"learning_rate must be > 0 and weight_decay >= 0, got {self.learning_rate!r}, "
                f"{self.weight_decay!r}"
            )
        return int(hidden)

    def _standardise(self, X: np.ndarray) -> torch.Tensor:
        return torch.as_tensor((X - self.scaler_mean_) / self.scaler_scale_, dtype=torch.float32)

    def fit(self, X: np.ndarray, y: None = None) -> DescriptorAutoencoder:
        """Train on descriptors ``X`` of shape (N, F), then cluster the code; ``y`` is ignored."""
        X = check_descriptors(X)
        hidden = self._check(X.shape[1])
        self.scaler_mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.scaler_scale_ = np.where(scale > 0, scale, 1.0)
        data = self._standardise(X)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)
            self.encoder_, self.decoder_ = _network(X.shape[1], hidden, int(self.n_code))
        params = [*self.encoder_.parameters(), *self.decoder_.parameters()]
        optimiser = torch.optim.Adam(params, lr=self.learning_rate, weight_decay=self.weight_decay)
        generator = torch.Generator().manual_seed(self.random_state + 1)
        self.loss_history_ = []
        for _ in range(int(self.epochs)):
            order = torch.randperm(len(data), generator=generator)
            total = 0.0
            for start in range(0, len(data), int(self.batch_size)):
                batch = data[order[start:start + int(self.batch_size)]]
                loss = torch.mean((self.decoder_(self.encoder_(batch)) - batch) ** 2)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * len(batch)
            self.loss_history_.append(total / len(data))
        self.encoder_.eval()
        self.decoder_.eval()
        with torch.no_grad():
            code = self.encoder_(data)
            recon = self.decoder_(code).numpy().astype(float)
        self.code_ = code.numpy().astype(float)
        z = data.numpy().astype(float)
        self.fve_ = float(1.0 - np.sum((z - recon) ** 2) / np.sum((z - z.mean(axis=0)) ** 2))
        self.input_code_correlation_ = _correlation(z, self.code_)
        self.gmm_ = DescriptorGMM(
            self.n_components, k_range=self.k_range, random_state=self.random_state
        ).fit(self.code_)
        self.labels_ = self.gmm_.labels_
        self.probabilities_ = self.gmm_.probabilities_
        return self

    def encode(self, X: np.ndarray) -> np.ndarray:
        """Code of descriptors ``X`` (M, F), shape (M, n_code)."""
        X = check_descriptors(X, min_rows=1)
        if X.shape[1] != self.scaler_mean_.size:
            raise ValueError(
                f"descriptors must have {self.scaler_mean_.size} columns as in fit, got {X.shape[1]}"
            )
        with torch.no_grad():
            return self.encoder_(self._standardise(X)).numpy().astype(float)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Membership probabilities of new particles, shape (M, K)."""
        return self.gmm_.predict_proba(self.encode(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable component of new particles, shape (M,), int."""
        return self.predict_proba(X).argmax(axis=1)

    def fit_predict(self, X: np.ndarray, y: None = None) -> np.ndarray:
        """``fit(X).labels_``."""
        return self.fit(X).labels_


def _correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of ``a`` (N, F) with every column of ``b`` (N, C)."""
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    norm = np.outer(np.linalg.norm(a, axis=0), np.linalg.norm(b, axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (a.T @ b) / norm
    return np.where(norm > 0, corr, 0.0)
