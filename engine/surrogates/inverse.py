"""Tandem inverse net: target stiffness → spinodoid parameters, through a frozen forward net.

Following Kumar et al. (2020), an inverse MLP (9 → 6×100 → 4) maps the nine stiffnesses to
``(rho, theta_x, theta_y, theta_z)``; it is trained by passing its output through the frozen
forward model and penalising the stiffness mismatch (so non-unique inverses do not average out).
At inference the angles are snapped as published (θ < 7.5° → 0, 7.5–15° → 15°) and then refined
by gradient descent on the forward model for each of the seven open/closed cone patterns;
:meth:`TandemInverse.candidates` returns several distinct designs that all reproduce the target.

Units: ρ dimensionless, angles in degrees, stiffness normalised by the base Young's modulus.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.metrics import r2_score
from torch import nn

from engine.surrogates.base import ProgressCallback, TorchSurrogate, as_tuple_of_ints, check_matrix
from engine.surrogates.data import NORMAL_STIFFNESS, SHEAR_STIFFNESS, THETA_MAX, THETA_MIN_OPEN, snap_angles
from engine.surrogates.registry import from_payload
from engine.surrogates.spinodoid import _SpinodoidBase

__all__ = ["InverseCandidate", "TandemInverse", "CONE_PATTERNS"]

#: The seven open (1) / closed (0) cone patterns (at least one cone open).
CONE_PATTERNS = tuple(p for p in itertools.product((0, 1), repeat=3) if any(p))


@dataclass(frozen=True)
class InverseCandidate:
    """One design proposed for a target stiffness.

    Attributes
    ----------
    params : ndarray, shape (4,)
        ``(rho, theta_x, theta_y, theta_z)``; angles in degrees (0 or 15–90).
    stiffness : ndarray, shape (9,)
        Forward-model stiffness at ``params`` (normalised by the base Young's modulus).
    error : float
        RMS mismatch to the target in units of the training targets' standard deviation.
    relative_error : float
        ``|C(params) - C_target| / |C_target|`` (Euclidean norms over the nine components).
    """

    params: np.ndarray
    stiffness: np.ndarray
    error: float
    relative_error: float


def _logit(p: torch.Tensor) -> torch.Tensor:
    p = p.clamp(1e-4, 1 - 1e-4)
    return torch.log(p) - torch.log1p(-p)


class _InverseModule(nn.Module):
    def __init__(self, hidden: tuple[int, ...], rho_range: tuple[float, float]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = 9
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 4))
        self.net = nn.Sequential(*layers)
        self.register_buffer("y_mean", torch.zeros(9))
        self.register_buffer("y_std", torch.ones(9))
        self.register_buffer("rho_lo", torch.tensor(float(rho_range[0])))
        self.register_buffer("rho_hi", torch.tensor(float(rho_range[1])))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        z = torch.sigmoid(self.net((y - self.y_mean) / self.y_std))
        rho = self.rho_lo + (self.rho_hi - self.rho_lo) * z[:, :1]
        return torch.cat([rho, THETA_MAX * z[:, 1:]], dim=1)


class TandemInverse(TorchSurrogate):
    """Tandem inverse design net with angle snapping and gradient refinement.

    Parameters
    ----------
    forward_model : SpinodoidPublishedNet or SpinodoidEquivariantNet
        A fitted forward model; a frozen copy is kept as ``forward_``.
    hidden : tuple of int
        Inverse MLP widths (published: six layers of 100).
    rho_range : (float, float)
        Volume-fraction range of proposed designs (published data: 0.3–0.9).
    refine_steps : int
        Adam steps of the gradient refinement (0 disables refinement).
    refine_lr : float
        Step size of the refinement in the unconstrained (logit) parameters.
    lr, batch_size, max_epochs, patience, validation_fraction, lr_schedule, weight_decay,
    random_state, device, predict_batch_size
        See :class:`~engine.surrogates.base.TorchSurrogate`.
    """

    _tuple_params = ("hidden", "rho_range")

    def __init__(
        self,
        forward_model: _SpinodoidBase | None = None,
        hidden: Sequence[int] = (100, 100, 100, 100, 100, 100),
        rho_range: Sequence[float] = (0.3, 0.9),
        refine_steps: int = 150,
        refine_lr: float = 0.05,
        lr: float = 1e-3,
        batch_size: int = 64,
        max_epochs: int = 200,
        patience: int | None = 20,
        validation_fraction: float = 0.1,
        lr_schedule: str = "plateau",
        weight_decay: float = 0.0,
        random_state: int | np.random.Generator | None = None,
        device: str = "auto",
        predict_batch_size: int = 65536,
    ) -> None:
        self._store_params(locals())

    # ------------------------------------------------------------------ helpers
    def _build_module(self) -> nn.Module:
        return _InverseModule(as_tuple_of_ints(self.hidden, "hidden"), tuple(self.rho_range))

    def _check_targets(self, Y: Any) -> np.ndarray:
        arr = check_matrix(Y, 9, "target stiffness (C11, C12, C13, C22, C23, C33, C44, C55, C66)")
        if (arr[:, list(NORMAL_STIFFNESS + SHEAR_STIFFNESS)] <= 0).any():
            raise ValueError("target stiffness: C11, C22, C33, C44, C55, C66 must be positive (normalised by the base Young's modulus)")
        return arr

    def _forward(self, params: torch.Tensor) -> torch.Tensor:
        return self.forward_.module_(params)

    def _freeze_forward(self) -> None:
        self.forward_.module_.to(self.device_).eval()
        self.forward_.device_ = self.device_
        for p in self.forward_.module_.parameters():
            p.requires_grad_(False)

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, callback: ProgressCallback | None = None) -> "TandemInverse":
        """Train the inverse net on target stiffnesses ``X`` (n, 9) through the frozen forward model.

        Parameters
        ----------
        X : array-like, shape (n, 9)
            Stiffness targets (e.g. the training stiffnesses of the forward model).
        y : ignored
            Parameters are not needed: the tandem loss is the stiffness mismatch.
        callback : callable, optional
            Called with each epoch's history record.

        Returns
        -------
        self
        """
        self._start_fit()
        if not isinstance(self.forward_model, _SpinodoidBase):
            raise ValueError("forward_model must be a fitted SpinodoidPublishedNet or SpinodoidEquivariantNet")
        self.forward_model._check_fitted()
        as_tuple_of_ints(self.hidden, "hidden")  # validated here, used by _build_module
        lo, hi = (float(v) for v in self.rho_range)
        if not (0.0 <= lo < hi <= 1.0):
            raise ValueError(f"rho_range must satisfy 0 <= lo < hi <= 1; got {self.rho_range}")
        Y = self._check_targets(X)
        self.forward_ = copy.deepcopy(self.forward_model)
        self._freeze_forward()
        self.module_ = self._init_module(self.random_state_)
        self.module_.y_mean.copy_(torch.as_tensor(Y.mean(0), dtype=torch.float32))
        self.module_.y_std.copy_(torch.as_tensor(Y.std(0) + 1e-12, dtype=torch.float32))
        self.y_std_ = Y.std(0) + 1e-12
        scale = torch.as_tensor(self.y_std_, dtype=torch.float32, device=self.device_)

        def loss_fn(params: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            return torch.mean(((self._forward(params) - target) / scale) ** 2)

        Yt = torch.as_tensor(Y, dtype=torch.float32, device=self.device_)
        self._train(Yt, Yt, loss_fn, callback)
        return self

    # ------------------------------------------------------------------ inference
    def predict_raw(self, X: Any) -> np.ndarray:
        """Direct tandem output (n, 4), before snapping; angles may fall in the 0–15° gap."""
        self._check_fitted()
        Y = self._check_targets(X)
        return self._run_batched(torch.as_tensor(Y, dtype=torch.float32))

    def predict_snapped(self, X: Any) -> np.ndarray:
        """Tandem output with the published angle snapping (no refinement), shape (n, 4)."""
        raw = self.predict_raw(X)
        theta_raw = raw[:, 1:].copy()
        raw[:, 1:] = snap_angles(theta_raw)
        rows = np.flatnonzero((raw[:, 1:] == 0).all(axis=1))
        if rows.size:  # at least one cone must be open: open the largest raw angle at 15 degrees
            raw[rows, 1 + np.argmax(theta_raw[rows], axis=1)] = THETA_MIN_OPEN
        return raw

    def _refine(self, targets: torch.Tensor, starts: torch.Tensor, patterns: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Gradient refinement of many (target, start, pattern) rows at once.

        Returns refined parameters (m, 4) and their scaled RMS errors (m,).
        """
        lo, hi = (float(v) for v in self.rho_range)
        dev = self.device_
        scale = torch.as_tensor(self.y_std_, dtype=torch.float32, device=dev)
        targets, starts, patterns = targets.to(dev), starts.to(dev), patterns.to(dev)
        u = _logit((starts[:, :1] - lo) / (hi - lo)).clone().requires_grad_(True)
        v = _logit((starts[:, 1:].clamp(THETA_MIN_OPEN, THETA_MAX) - THETA_MIN_OPEN) / (THETA_MAX - THETA_MIN_OPEN)).clone().requires_grad_(True)

        def params_of(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
            rho = lo + (hi - lo) * torch.sigmoid(u)
            theta = (THETA_MIN_OPEN + (THETA_MAX - THETA_MIN_OPEN) * torch.sigmoid(v)) * patterns
            return torch.cat([rho, theta], dim=1)

        opt = torch.optim.Adam([u, v], lr=float(self.refine_lr))
        with torch.enable_grad():
            for _ in range(int(self.refine_steps)):
                opt.zero_grad(set_to_none=True)
                err = (((self._forward(params_of(u, v)) - targets) / scale) ** 2).mean(1)
                err.sum().backward()
                opt.step()
        with torch.no_grad():
            p = params_of(u, v)
            err = (((self._forward(p) - targets) / scale) ** 2).mean(1).sqrt()
        return p.detach(), err.detach()

    def _best_of_patterns(self, Y: np.ndarray) -> np.ndarray:
        n, k = Y.shape[0], len(CONE_PATTERNS)
        raw = self._run_batched(torch.as_tensor(Y, dtype=torch.float32))
        pats = torch.tensor(CONE_PATTERNS, dtype=torch.float32)
        out = np.empty((n, 4))
        chunk = max(1, int(self.predict_batch_size) // (4 * k))
        for s in range(0, n, chunk):
            rt = torch.as_tensor(raw[s : s + chunk], dtype=torch.float32)
            m = rt.shape[0]
            starts = rt.repeat_interleave(k, 0)
            patterns = pats.repeat(m, 1)
            targets = torch.as_tensor(Y[s : s + chunk], dtype=torch.float32).repeat_interleave(k, 0)
            p, err = self._refine(targets, starts, patterns)
            best = err.view(m, k).argmin(1)
            out[s : s + m] = p.view(m, k, 4)[torch.arange(m), best].cpu().numpy()
        return out

    def predict(self, X: Any, refine: bool = True) -> np.ndarray:
        """Best design parameters (n, 4) for target stiffnesses ``X`` (n, 9).

        With ``refine=True`` (default) each of the seven cone patterns is refined by gradient
        descent from the tandem output and the best is kept; otherwise the snapped tandem output.
        Angles are 0 or within [15, 90] degrees.
        """
        self._check_fitted()
        Y = self._check_targets(X)
        if not refine or int(self.refine_steps) == 0:
            return self.predict_snapped(Y)
        return self._best_of_patterns(Y)

    def forward_stiffness(self, params: Any) -> np.ndarray:
        """Forward-model stiffness (n, 9) at parameters (n, 4)."""
        self._check_fitted()
        return self.forward_.predict(params)

    def reconstruction_r2(self, X: Any, refine: bool = True) -> np.ndarray:
        """Per-component R² of forward(predict(X)) against the targets ``X`` (n, 9)."""
        Y = self._check_targets(X)
        return np.asarray(r2_score(Y, self.forward_stiffness(self.predict(Y, refine=refine)), multioutput="raw_values"))

    def score(self, X: Any, y: Any = None) -> float:
        """Mean reconstruction R² over the nine components (``y`` is ignored)."""
        return float(self.reconstruction_r2(X).mean())

    def candidates(
        self,
        target: Any,
        n_candidates: int = 5,
        n_starts: int = 8,
        min_distance: float = 0.1,
        random_state: int | np.random.Generator | None = 0,
    ) -> list[InverseCandidate]:
        """Several distinct designs for one target stiffness, best first.

        Refines the tandem output and ``n_starts`` random starts for every cone pattern, then
        greedily keeps candidates at least ``min_distance`` apart (max of |Δρ| / ρ-range and
        |Δθ| / 90° over the parameters).

        Parameters
        ----------
        target : array-like, shape (9,) or (1, 9)
        n_candidates : int
            Maximum number returned.
        n_starts : int
            Random starts per cone pattern (besides the tandem output).
        min_distance : float
            Minimum normalised distance between returned candidates, in (0, 1].
        random_state : int, Generator or None
            Seed of the random starts.

        Returns
        -------
        list of InverseCandidate
        """
        self._check_fitted()
        Y = self._check_targets(target)
        if Y.shape[0] != 1:
            raise ValueError(f"candidates takes one target stiffness (9,); got {Y.shape[0]} rows")
        if not 0 < min_distance <= 1 or int(n_candidates) < 1 or int(n_starts) < 0:
            raise ValueError("need n_candidates >= 1, n_starts >= 0 and min_distance in (0, 1]")
        rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
        lo, hi = (float(v) for v in self.rho_range)
        raw = self._run_batched(torch.as_tensor(Y, dtype=torch.float32))
        rand = np.column_stack([rng.uniform(lo, hi, n_starts), rng.uniform(THETA_MIN_OPEN, THETA_MAX, (n_starts, 3))])
        starts_one = np.vstack([raw, rand])
        k = len(CONE_PATTERNS)
        starts = np.repeat(starts_one, k, axis=0)
        patterns = np.tile(np.asarray(CONE_PATTERNS, dtype=np.float64), (starts_one.shape[0], 1))
        targets = np.repeat(Y, starts.shape[0], axis=0)
        p, err = self._refine(*(torch.as_tensor(a, dtype=torch.float32) for a in (targets, starts, patterns)))
        p, err = p.cpu().numpy().astype(np.float64), err.cpu().numpy().astype(np.float64)
        chosen: list[int] = []
        norm = np.array([hi - lo, THETA_MAX, THETA_MAX, THETA_MAX])
        for i in np.argsort(err):
            if all(np.max(np.abs(p[i] - p[j]) / norm) >= min_distance for j in chosen):
                chosen.append(int(i))
            if len(chosen) == int(n_candidates):
                break
        stiff = self.forward_.predict(p[chosen])
        return [
            InverseCandidate(
                params=p[i],
                stiffness=stiff[c],
                error=float(err[i]),
                relative_error=float(np.linalg.norm(stiff[c] - Y[0]) / np.linalg.norm(Y[0])),
            )
            for c, i in enumerate(chosen)
        ]

    # ------------------------------------------------------------------ persistence
    def _to_payload(self) -> dict[str, Any]:
        forward_model = self.forward_model
        try:
            self.forward_model = None  # saved separately, as its own payload
            payload = super()._to_payload()
        finally:
            self.forward_model = forward_model
        payload["forward"] = self.forward_._to_payload()
        return payload

    def _fitted_extras(self) -> dict[str, Any]:
        return {"y_std_": self.y_std_.tolist()}

    def _restore_extras(self, extras: dict[str, Any]) -> None:
        self.y_std_ = np.asarray(extras["y_std_"], dtype=np.float64)

    @classmethod
    def _from_payload(cls, payload: dict[str, Any], device: str = "auto") -> "TandemInverse":
        est = super()._from_payload(payload, device=device)  # checks the kind first
        fwd_payload = payload.get("forward")
        if not isinstance(fwd_payload, dict):
            raise ValueError("malformed TandemInverse file: the forward model is missing")
        try:
            forward = from_payload(fwd_payload, device=device, base=_SpinodoidBase)
        except ValueError as exc:
            raise ValueError(f"malformed TandemInverse file: the forward model cannot be read: {exc}") from None
        est.forward_ = forward
        est.forward_model = forward
        est._freeze_forward()
        return est
