"""Inverse spinodoid design: a target stiffness → distinct candidate designs, verified by the solver.

Kumar, Tan, Zheng & Kochmann, "Inverse-designed spinodoid metamaterials", npj Comput. Mater. 6,
73 (2020) train a forward net (parameters → stiffness) and a tandem inverse net (stiffness →
parameters, trained through the frozen forward net) on their data set, and propose designs for
a target stiffness from the inverse net. Here the forward net is our
:class:`~engine.surrogates.spinodoid.SpinodoidEquivariantNet` and the inverse net
:class:`~engine.surrogates.inverse.TandemInverse`, whose :meth:`~TandemInverse.candidates` gives
several distinct designs that all reproduce the target on the surrogate. The campaign's solver
labels (our homogenisation) are the verification.

The strategy keeps a pool of distinct candidates, best surrogate error first. Each batch is the
next candidates of the pool, so the first batch is what the published method would propose;
see :class:`InverseSpinodoid` for how later batches use the verified errors.

Training is seeded and runs on one CPU thread, so a campaign replays it exactly; the trained
nets are cached in ``cache_dir`` under a key made of the training settings, the data file's
SHA-256 and the torch version, and read back with ``torch.load(weights_only=True)`` through
:func:`engine.surrogates.registry.load_surrogate`, so a replay or a resume does not retrain.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from designs.base import Design
from engine.search.protocol import Strategy
from engine.search.spaces import SearchSpace, SpinodoidSpace
from engine.surrogates.data import NORMAL_STIFFNESS
from fem.spmm import torch_threads

__all__ = ["InverseSpinodoid", "train_inverse", "inverse_model", "DATA_RHO_RANGE", "REFINE_RULES"]

#: Volume-fraction range of the published data set (Kumar et al. 2020): the nets know no other.
DATA_RHO_RANGE = (0.3, 0.9)
_MODEL_VERSION = 1  # bump when the training recipe below changes


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def train_inverse(data: str | Path, holdout: float = 0.1, train_seed: int = 0, forward_epochs: int = 40,
                  tandem_epochs: int = 8) -> Any:
    """Train the forward net and the tandem inverse on the Kumar et al. (2020) data set.

    Seeded, on the CPU, on one torch thread: the same call gives the same weights.

    Parameters
    ----------
    data : str or Path
        The published CSV (see :func:`engine.surrogates.data.load_kumar2020`).
    holdout : float
        Fraction of rows left out (``train_test_split_indices(n, holdout, seed=0)``'s test part;
        0 trains on all rows). The default leaves out the rows the surrogate tests hold out.
    train_seed : int
        Seed of both nets' initialisation and shuffling.
    forward_epochs, tandem_epochs : int
        Epochs of the forward net (its default, 40, reaches test R² ≈ 0.997) and of the tandem
        net (8 reach a reconstruction R² ≈ 0.9998 after refinement).

    Returns
    -------
    TandemInverse
        Fitted, with its forward net as ``forward_``.
    """
    from engine.surrogates.data import load_kumar2020, train_test_split_indices
    from engine.surrogates.inverse import TandemInverse
    from engine.surrogates.spinodoid import SpinodoidEquivariantNet

    X, Y = load_kumar2020(data)
    if holdout > 0:
        X, Y = (a[train_test_split_indices(len(X), holdout, seed=0)[0]] for a in (X, Y))
    with torch_threads(1):
        forward = SpinodoidEquivariantNet(max_epochs=forward_epochs, random_state=train_seed, device="cpu").fit(X, Y)
        return TandemInverse(forward, rho_range=DATA_RHO_RANGE, max_epochs=tandem_epochs, batch_size=128,
                             refine_steps=100, random_state=train_seed, device="cpu").fit(Y)


def inverse_model(data: str | Path, cache_dir: str | Path | None = None, **settings: Any) -> Any:
    """The trained tandem inverse for ``data`` and ``settings`` (of :func:`train_inverse`), cached.

    Parameters
    ----------
    data : str or Path
        The published CSV.
    cache_dir : str, Path or None
        Folder of cached models (e.g. the campaign store's directory); None: train every time.
    **settings
        Keyword arguments of :func:`train_inverse` other than ``data``.

    Returns
    -------
    TandemInverse
    """
    from engine.surrogates.inverse import TandemInverse
    from engine.surrogates.registry import load_surrogate

    if cache_dir is None:
        return train_inverse(data, **settings)
    key = hashlib.sha256(json.dumps({"data": _file_sha256(Path(data)), "settings": settings, "torch": torch.__version__,
                                     "version": _MODEL_VERSION}, sort_keys=True).encode()).hexdigest()[:20]
    path = Path(cache_dir) / f"inverse-spinodoid-{key}.pt"
    if path.is_file():
        model = load_surrogate(path, device="cpu")
        if not isinstance(model, TandemInverse):
            raise ValueError(f"{str(path)!r} holds a {type(model).__name__}, not the cached tandem inverse; remove it")
        return model
    model = train_inverse(data, **settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    model.save(partial)
    os.replace(partial, path)  # atomic: a concurrent campaign sees the whole file or none
    return model


#: How later batches use the verified errors.
REFINE_RULES = ("none", "density")


class InverseSpinodoid(Strategy):
    """Distinct inverse-designed candidates for a target stiffness, refined by their verified errors.

    Each batch takes, in this order:

    1. with ``refine="density"``, density corrections of the ``refine_lines`` best verified
       designs. A spinodoid's geometry seed fixes its wave field, so changing only ρ moves the
       level set of the same field and scales all stiffnesses together. Assuming the solver's
       C11, C22, C33 differ from the target by factors ``a ≥ b`` times a common scale ``s(ρ)``
       (the forward net's geometric-mean stiffness at ρ relative to the verified design), the
       largest relative error is ``max(a s − 1, 1 − b s)``; every verified point bounds
       ``a ≤ (1 + e)/s`` and ``b ≥ (1 − e)/s``, and the next ρ is the first not yet tried of
       ``s = 2/(a + b)`` (the minimum of that model), ``1/a`` and ``1/b``;
    2. the next candidates of the pool (:meth:`TandemInverse.candidates`, best surrogate error
       first, pairwise at least ``min_distance`` apart);
    3. random designs of the space, once both are used up.

    Parameters
    ----------
    space : SpinodoidSpace
        Its ρ range must overlap the data's (0.3–0.9); candidates keep to the overlap.
    seed : int
        Seed of the candidates' random starts and of the fallback designs.
    data : str
        The Kumar et al. (2020) CSV to train on (see :func:`train_inverse`); or give ``model``.
    model : str
        A saved :class:`~engine.surrogates.inverse.TandemInverse` file to use instead of training.
    cache_dir : str or None
        Folder where trained nets are cached (e.g. the store's directory); None retrains on
        every start, a replay included (deterministic, but about a minute).
    holdout, train_seed, forward_epochs, tandem_epochs
        Training settings (see :func:`train_inverse`); part of the cache key.
    pool : int
        Distinct candidates drawn for the target (1..64).
    n_starts : int
        Random starts per cone pattern of the candidate search (0..64).
    min_distance : float
        Smallest normalised distance between pool candidates, in (0, 1].
    refine : {"density", "none"}
        Whether later batches correct the density of the best verified designs.
    refine_lines : int
        How many of the best verified designs are corrected (0..16).
    objective : Objective
        The campaign's objective; it must be a ``target_stiffness`` objective.

    Raises
    ------
    ValueError
        A wrong objective, a missing data or model file, or a setting out of range.
    """

    name: ClassVar[str] = "inverse"
    spaces: ClassVar[tuple[str, ...]] = (SpinodoidSpace.name,)

    def __init__(
        self,
        space: SearchSpace,
        seed: int,
        data: str | None = None,
        model: str | None = None,
        cache_dir: str | None = None,
        holdout: float = 0.1,
        train_seed: int = 0,
        forward_epochs: int = 40,
        tandem_epochs: int = 8,
        pool: int = 12,
        n_starts: int = 8,
        min_distance: float = 0.1,
        refine: str = "density",
        refine_lines: int = 2,
        objective: Any = None,
    ) -> None:
        super().__init__(space, seed)
        if getattr(objective, "kind", None) != "target_stiffness":
            raise ValueError(f"the {self.name} strategy designs for a target stiffness: it needs a target_stiffness "
                             f"objective, not {getattr(objective, 'kind', objective)!r}")
        self.target = np.asarray(objective.target, dtype=float)
        if (data is None) == (model is None):
            raise ValueError(f"the {self.name} strategy needs either data (the Kumar et al. 2020 CSV to train on) or "
                             "model (a saved TandemInverse file), not both or neither (strategy settings: "
                             "--setting data=PATH or --setting model=PATH on the command line)")
        for label, path in (("data", data), ("model", model)):
            if path is not None and not (isinstance(path, str) and Path(path).is_file()):
                raise ValueError(f"{label} must be the path of an existing file, got {path!r}")
        if cache_dir is not None and not isinstance(cache_dir, str):
            raise ValueError(f"cache_dir must be a folder path or null, got {cache_dir!r}")
        if isinstance(holdout, bool) or not isinstance(holdout, (int, float)) or not 0.0 <= holdout < 0.5:
            raise ValueError(f"holdout must be a fraction in [0, 0.5), got {holdout!r}")
        if isinstance(min_distance, bool) or not isinstance(min_distance, (int, float)) or not 0.0 < min_distance <= 1.0:
            raise ValueError(f"min_distance must be a number in (0, 1], got {min_distance!r}")
        if refine not in REFINE_RULES:
            raise ValueError(f"unknown refine {refine!r}; allowed: {', '.join(REFINE_RULES)}")
        self.training = {"holdout": float(holdout), "train_seed": _count("train_seed", train_seed, 0, 2**31 - 1),
                         "forward_epochs": _count("forward_epochs", forward_epochs, 1, 1000),
                         "tandem_epochs": _count("tandem_epochs", tandem_epochs, 1, 1000)}
        self.data, self.model_path, self.cache_dir = data, model, cache_dir
        self.pool = _count("pool", pool, 1, 64)
        self.n_starts = _count("n_starts", n_starts, 0, 64)
        self.min_distance, self.refine = float(min_distance), refine
        self.refine_lines = _count("refine_lines", refine_lines, 0, 16)
        lo, hi = max(space.rho[0], DATA_RHO_RANGE[0]), min(space.rho[1], DATA_RHO_RANGE[1])
        if lo >= hi:
            raise ValueError(f"the space's rho range {space.rho} lies outside the data's {DATA_RHO_RANGE}: the nets "
                             "know nothing there")
        self.rho_range = (lo, hi)
        self._model: Any = None
        self._queue: list[Design] = []  # pool designs not proposed yet
        self._errors: dict[tuple[float, ...], dict[float, float]] = {}  # θ → {ρ: verified error (NaN failed)}
        self._tried: dict[tuple[float, ...], set[float]] = {}  # θ → every ρ proposed on that line

    def settings(self) -> dict[str, Any]:
        return {"data": self.data, "model": self.model_path, "cache_dir": self.cache_dir, **self.training,
                "pool": self.pool, "n_starts": self.n_starts, "min_distance": self.min_distance,
                "refine": self.refine, "refine_lines": self.refine_lines}

    # ------------------------------------------------------------------ the nets
    @property
    def inverse(self) -> Any:
        """The tandem inverse (loaded, or trained and cached, on first use)."""
        if self._model is None:
            if self.model_path is not None:
                from engine.surrogates.inverse import TandemInverse
                from engine.surrogates.registry import load_surrogate

                model = load_surrogate(self.model_path, device="cpu")
                if not isinstance(model, TandemInverse):
                    raise ValueError(f"{self.model_path!r} holds a {type(model).__name__}, not a TandemInverse")
            else:
                model = inverse_model(self.data, self.cache_dir, **self.training)
            self._model = model.set_params(rho_range=self.rho_range)  # candidates keep to the space
        return self._model

    def _fill_pool(self) -> None:
        candidates = self.inverse.candidates(self.target, n_candidates=self.pool, n_starts=self.n_starts,
                                             min_distance=self.min_distance, random_state=self.rng)
        self._queue = [self.space.from_vector(c.params) for c in candidates]

    # ------------------------------------------------------------------ ask / tell
    def ask(self, n: int) -> list[Design]:
        with torch_threads(1):
            if self._model is None:
                self._fill_pool()
            out: list[Design] = []
            while len(out) < n:
                design = self._next_correction() if self.refine == "density" else None
                if design is None and self._queue:
                    design = self._queue.pop(0)
                if design is None:
                    out += self._fresh(self.space.sample(n - len(out), self.rng), n - len(out))
                    continue
                if self._fresh([design], 1):
                    self._tried.setdefault(design.theta, set()).add(design.rho)
                    out.append(design)
            self._record_predictions(out)
            return out

    def _record_predictions(self, designs: Sequence[Design]) -> None:
        """Keep the forward net's objective value of ``designs`` (minus its largest relative error
        of C11, C22, C33, the campaign's objective) in :attr:`predictions`."""
        if not designs:
            return
        normal = list(NORMAL_STIFFNESS)
        predicted = self.inverse.forward_stiffness(np.array([self.space.to_vector(d) for d in designs]))[:, normal]
        errors = np.max(np.abs(predicted - self.target[normal]) / self.target[normal], axis=1)
        for design, error in zip(designs, errors):
            self.predictions[design.content_hash()] = -float(error)

    def tell(self, designs: Sequence[Design], values: np.ndarray) -> None:
        values = np.asarray(values, dtype=float)
        if values.shape != (len(designs), 1):
            raise ValueError(f"the {self.name} strategy takes values of shape ({len(designs)}, 1), got {values.shape}")
        for design, value in zip(designs, values[:, 0]):
            self._errors.setdefault(design.theta, {})[design.rho] = -float(value) if np.isfinite(value) else np.nan
            self._tried.setdefault(design.theta, set()).add(design.rho)

    # ------------------------------------------------------------------ density correction
    def _next_correction(self) -> Design | None:
        """The next density correction of the best verified lines, or None."""
        best = sorted((min(e for e in line.values() if np.isfinite(e)), theta) for theta, line in self._errors.items()
                      if any(np.isfinite(e) for e in line.values()))
        for _, theta in best[:self.refine_lines]:
            for rho in self._line_proposals(theta):
                design = self.space.from_vector([rho, *theta])
                if all(abs(design.rho - r) > 1e-3 for r in self._tried[theta]) and design.content_hash() not in self.seen:
                    return design
        return None

    def _line_proposals(self, theta: tuple[float, ...]) -> list[float]:
        """Densities to try next on the line of designs with cone angles ``theta`` (model above)."""
        points = [(rho, e) for rho, e in self._errors[theta].items() if np.isfinite(e)]
        grid = np.linspace(*self.rho_range, 601)
        params = np.column_stack([grid, np.tile(theta, (len(grid), 1))])
        normal = self.inverse.forward_stiffness(params)[:, list(NORMAL_STIFFNESS)]
        log_scale = np.maximum.accumulate(np.log(np.clip(normal, 1e-9, None)).mean(axis=1))  # monotone in ρ
        anchor = float(np.interp(points[0][0], grid, log_scale))
        s = np.exp(np.interp([rho for rho, _ in points], grid, log_scale) - anchor)
        e = np.array([err for _, err in points])
        a, b = float(np.min((1.0 + e) / s)), float(np.max((1.0 - e) / s))
        wanted = [2.0 / (a + b), 1.0 / a] + ([1.0 / b] if b > 0 else [])
        return [float(np.interp(np.log(w) + anchor, log_scale, grid)) for w in wanted]


def _count(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer)) or int(value) != value \
            or not low <= int(value) <= high:
        raise ValueError(f"{name} must be an integer in {low}..{high}, got {value!r}")
    return int(value)
