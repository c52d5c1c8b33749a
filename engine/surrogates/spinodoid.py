"""Spinodoid forward surrogates: parameters (ρ, θx, θy, θz) → nine orthotropic stiffnesses.

* :class:`SpinodoidPublishedNet` — the architecture of Kumar et al. (2020): 4 → 128, 128, 64, 64,
  32, 32 → 9, ReLU, inputs min–max scaled, Adam 1e-4, batch 64, 200 epochs, MSE on raw targets.
* :class:`SpinodoidEquivariantNet` — our model. Permuting the cone axes (θx, θy, θz) permutes the
  stiffness tensor, so one shared network predicts, for each axis a with the other two axes b, c,
  the triple (C_aa, C_bc, shear C_bcbc) from (ρ, θa, min(θb, θc), max(θb, θc)) plus soft
  open-cone indicators. The prediction is exactly equivariant under all six axis permutations
  and every sample teaches the network three times.

Inputs: ρ (volume fraction, dimensionless), angles in degrees (0 or 15–90). Outputs:
C11, C12, C13, C22, C23, C33, C44, C55, C66 normalised by the base Young's modulus.
Both modules take physical inputs and return physical outputs (scaling lives in buffers), so the
tandem inverse can differentiate through them.
"""

from __future__ import annotations

from abc import abstractmethod

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from torch import nn

from engine.surrogates.base import ProgressCallback, TorchSurrogate, as_tuple_of_ints
from engine.surrogates.data import (
    NORMAL_STIFFNESS,
    OFF_DIAGONAL_STIFFNESS,
    SHEAR_STIFFNESS,
    check_spinodoid_params,
    check_stiffness,
)

__all__ = ["SpinodoidEquivariantNet", "SpinodoidPublishedNet", "permute_axes"]

# For axis a (x=0, y=1, z=2): column of C_aa, of the complementary off-diagonal C_bc and of the
# complementary shear modulus (Voigt 4 = yz, 5 = xz, 6 = xy) in the 9-vector.
_OTHERS = ((1, 2), (0, 2), (0, 1))


def permute_axes(X: np.ndarray, Y: np.ndarray | None, perm: Sequence[int]) -> tuple[np.ndarray, np.ndarray | None]:
    """Relabel the axes of spinodoid parameters (and stiffnesses): new axis i = old axis perm[i].

    Parameters
    ----------
    X : ndarray, shape (n, 4)
        ``(rho, theta_x, theta_y, theta_z)``.
    Y : ndarray, shape (n, 9) or None
        Stiffnesses in :data:`~engine.surrogates.data.STIFFNESS_COMPONENTS` order.
    perm : sequence of 3 ints
        A permutation of (0, 1, 2).

    Returns
    -------
    (X', Y')
        Parameters and stiffnesses of the same structure seen with relabelled axes.
    """
    perm = tuple(int(p) for p in perm)
    if sorted(perm) != [0, 1, 2]:
        raise ValueError(f"perm must be a permutation of (0, 1, 2); got {perm}")
    Xp = np.asarray(X, dtype=np.float64).copy()
    Xp[:, 1:] = np.asarray(X)[:, [1 + p for p in perm]]
    if Y is None:
        return Xp, None
    Y = np.asarray(Y, dtype=np.float64)
    Yp = np.empty_like(Y)
    for new in range(3):
        old = perm[new]
        Yp[:, NORMAL_STIFFNESS[new]] = Y[:, NORMAL_STIFFNESS[old]]
        Yp[:, OFF_DIAGONAL_STIFFNESS[new]] = Y[:, OFF_DIAGONAL_STIFFNESS[old]]
        Yp[:, SHEAR_STIFFNESS[new]] = Y[:, SHEAR_STIFFNESS[old]]
    return Xp, Yp


class _PublishedModule(nn.Module):
    def __init__(self, hidden: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = 4
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 9))
        self.net = nn.Sequential(*layers)
        self.register_buffer("x_min", torch.zeros(4))
        self.register_buffer("x_span", torch.ones(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.x_min) / self.x_span)


class _EquivariantModule(nn.Module):
    def __init__(self, hidden: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = 7
        for h in hidden:
            layers += [nn.Linear(width, h), nn.SiLU()]
            width = h
        layers.append(nn.Linear(width, 3))
        self.net = nn.Sequential(*layers)
        self.register_buffer("rho_min", torch.tensor(0.0))
        self.register_buffer("rho_span", torch.tensor(1.0))
        self.register_buffer("y_mean", torch.zeros(3))  # normal, off-diagonal, shear
        self.register_buffer("y_std", torch.ones(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rho = (x[:, 0] - self.rho_min) / self.rho_span
        t = x[:, 1:] / 90.0
        o = torch.clamp(x[:, 1:] / 15.0, 0.0, 1.0)  # 0 closed, 1 open (continuous across the gap)
        feats = []
        for a, (b, c) in enumerate(_OTHERS):
            feats.append(
                torch.stack(
                    [
                        rho,
                        t[:, a],
                        torch.minimum(t[:, b], t[:, c]),
                        torch.maximum(t[:, b], t[:, c]),
                        o[:, a],
                        torch.minimum(o[:, b], o[:, c]),
                        torch.maximum(o[:, b], o[:, c]),
                    ],
                    dim=1,
                )
            )
        out = self.net(torch.stack(feats, dim=1)) * self.y_std + self.y_mean  # (n, 3 axes, 3 kinds)
        y = x.new_empty(x.shape[0], 9)
        for a in range(3):
            y[:, NORMAL_STIFFNESS[a]] = out[:, a, 0]
            y[:, OFF_DIAGONAL_STIFFNESS[a]] = out[:, a, 1]
            y[:, SHEAR_STIFFNESS[a]] = out[:, a, 2]
        return y


class _SpinodoidBase(RegressorMixin, TorchSurrogate):
    """Shared fit/predict of the spinodoid forward nets (see module docstring)."""

    _tuple_params = ("hidden",)

    def _encode(self, X: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(X, dtype=torch.float32, device=self.device_)

    @abstractmethod
    def _set_scaling(self, module: nn.Module, X: np.ndarray, Y: np.ndarray) -> None:
        """Store the input and output scaling of the training data in ``module``."""

    def fit(self, X: Any, y: Any, callback: ProgressCallback | None = None) -> "_SpinodoidBase":
        """Train on parameters ``X`` (n, 4) and stiffnesses ``y`` (n, 9).

        Parameters
        ----------
        X : array-like, shape (n, 4)
            ``(rho, theta_x, theta_y, theta_z)``; angles in degrees (0 or 15–90).
        y : array-like, shape (n, 9)
            C11, C12, C13, C22, C23, C33, C44, C55, C66 / E_base.
        callback : callable, optional
            Called after every epoch with the history record (for progress bars).

        Returns
        -------
        self
        """
        self._start_fit()
        as_tuple_of_ints(self.hidden, "hidden")  # validated here, used by _build_module
        X = check_spinodoid_params(X)
        Y = check_stiffness(y)
        if Y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {Y.shape[0]}")
        self.n_features_in_ = 4
        self.module_ = self._init_module(self.random_state_)
        self._set_scaling(self.module_, X, Y)
        scale = torch.as_tensor(self._loss_scale(Y), dtype=torch.float32, device=self.device_)

        def loss_fn(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            return torch.mean(((pred - target) / scale) ** 2)

        self._train(self._encode(X), torch.as_tensor(Y, dtype=torch.float32, device=self.device_), loss_fn, callback)
        return self

    def _loss_scale(self, Y: np.ndarray) -> np.ndarray:
        return np.ones(9)

    def predict(self, X: Any) -> np.ndarray:
        """Stiffnesses (n, 9) at parameters ``X`` (n, 4); see :meth:`fit` for units and ranges."""
        self._check_fitted()
        X = check_spinodoid_params(X)
        return self._run_batched(self._encode(X))

    def forward_torch(self, x: torch.Tensor) -> torch.Tensor:
        """Differentiable forward map on a float32 tensor of physical parameters (no validation)."""
        self._check_fitted()
        return self.module_(x)

    def score_per_component(self, X: Any, y: Any) -> np.ndarray:
        """Coefficient of determination R² of each of the nine components."""
        Y = check_stiffness(y)
        return np.asarray(r2_score(Y, self.predict(X), multioutput="raw_values"))


class SpinodoidPublishedNet(_SpinodoidBase):
    """Forward net of Kumar et al. (2020): 4 → 128,128,64,64,32,32 → 9, ReLU, min–max inputs.

    Parameters
    ----------
    hidden : tuple of int
        Hidden-layer widths (published: 128, 128, 64, 64, 32, 32).
    lr, batch_size, max_epochs : float, int, int
        Published: Adam 1e-4, batch 64, 200 epochs.
    patience : int or None
        Early stopping patience in epochs (published: none).
    validation_fraction, lr_schedule, weight_decay, random_state, device, predict_batch_size
        See :class:`~engine.surrogates.base.TorchSurrogate`.
    """

    def __init__(
        self,
        hidden: Sequence[int] = (128, 128, 64, 64, 32, 32),
        lr: float = 1e-4,
        batch_size: int = 64,
        max_epochs: int = 200,
        patience: int | None = None,
        validation_fraction: float = 0.1,
        lr_schedule: str = "constant",
        weight_decay: float = 0.0,
        random_state: int | np.random.Generator | None = None,
        device: str = "auto",
        predict_batch_size: int = 65536,
    ) -> None:
        self._store_params(locals())

    def _build_module(self) -> nn.Module:
        return _PublishedModule(as_tuple_of_ints(self.hidden, "hidden"))

    def _set_scaling(self, module: nn.Module, X: np.ndarray, Y: np.ndarray) -> None:
        lo, hi = X.min(axis=0), X.max(axis=0)
        module.x_min.copy_(torch.as_tensor(lo, dtype=torch.float32))
        module.x_span.copy_(torch.as_tensor(np.where(hi > lo, hi - lo, 1.0), dtype=torch.float32))


class SpinodoidEquivariantNet(_SpinodoidBase):
    """Axis-permutation-equivariant forward net (our model; see module docstring).

    Parameters
    ----------
    hidden : tuple of int
        Widths of the shared per-axis MLP (SiLU activations).
    lr, batch_size, max_epochs, patience : float, int, int, int or None
        Adam(W) learning rate, minibatch size (designs), epochs, early-stopping patience.
    validation_fraction, lr_schedule, weight_decay, random_state, device, predict_batch_size
        See :class:`~engine.surrogates.base.TorchSurrogate`.
    """

    def __init__(
        self,
        hidden: Sequence[int] = (128, 128, 128, 64),
        lr: float = 3e-3,
        batch_size: int = 256,
        max_epochs: int = 40,
        patience: int | None = 20,
        validation_fraction: float = 0.1,
        lr_schedule: str = "cosine",
        weight_decay: float = 0.0,
        random_state: int | np.random.Generator | None = None,
        device: str = "auto",
        predict_batch_size: int = 65536,
    ) -> None:
        self._store_params(locals())

    def _build_module(self) -> nn.Module:
        return _EquivariantModule(as_tuple_of_ints(self.hidden, "hidden"))

    def _set_scaling(self, module: nn.Module, X: np.ndarray, Y: np.ndarray) -> None:
        lo, hi = float(X[:, 0].min()), float(X[:, 0].max())
        module.rho_min.fill_(lo)
        module.rho_span.fill_(hi - lo if hi > lo else 1.0)
        groups = [Y[:, list(NORMAL_STIFFNESS)], Y[:, list(OFF_DIAGONAL_STIFFNESS)], Y[:, list(SHEAR_STIFFNESS)]]
        module.y_mean.copy_(torch.tensor([g.mean() for g in groups], dtype=torch.float32))
        module.y_std.copy_(torch.tensor([g.std() + 1e-12 for g in groups], dtype=torch.float32))

    def _loss_scale(self, Y: np.ndarray) -> np.ndarray:
        scale = np.empty(9)
        for cols in (NORMAL_STIFFNESS, OFF_DIAGONAL_STIFFNESS, SHEAR_STIFFNESS):
            scale[list(cols)] = Y[:, list(cols)].std()
        return scale
