"""Common machinery of the torch surrogates: sklearn-style API, training loop, save/load.

Every surrogate subclasses :class:`TorchSurrogate`. Settings go in the constructor; the torch
``nn.Module`` is built in ``fit`` (stored as ``module_``), training uses early stopping on a
seeded validation split and records ``history_`` (one dict per epoch). ``save(path)`` writes one
file with :func:`torch.save`: the state dict plus a JSON configuration (constructor settings and
fitted non-tensor attributes); ``Class.load`` and
:func:`engine.surrogates.registry.load_surrogate` read it back with
``torch.load(..., weights_only=True)`` so nothing is ever unpickled. This module knows no model
class: the registry maps a file's kind to its class.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import copy
import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from torch import nn

from engine.runtime.device import resolve_device
from engine.surrogates.batching import batched_inference

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "TorchSurrogate",
    "check_matrix",
    "check_targets",
    "malformed_file",
    "read_payload",
    "write_payload",
    "resolve_seed",
]

#: Marker written in every saved surrogate file.
FORMAT = "matloop-surrogate"
#: Version of the file layout.
FORMAT_VERSION = 1

ProgressCallback = Callable[[dict[str, float]], None]


def resolve_seed(random_state: int | np.random.Generator | None) -> int:
    """Turn a ``random_state`` into a concrete integer seed.

    Parameters
    ----------
    random_state : int, numpy.random.Generator or None
        ``None`` draws fresh OS entropy (non-reproducible, as in scikit-learn).

    Returns
    -------
    int
        Seed in ``[0, 2**31)``.
    """
    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative integer, a Generator or None; got {random_state}")
        return int(random_state) % (2**31 - 1)
    raise ValueError(f"random_state must be an int, a numpy Generator or None; got {random_state!r}")


def check_matrix(X: Any, n_features: int | None = None, name: str = "X") -> np.ndarray:
    """Validate a 2D float feature matrix.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
    n_features : int, optional
        Required number of columns.
    name : str
        Name used in error messages.

    Returns
    -------
    numpy.ndarray of float64

    Raises
    ------
    ValueError
        On a wrong number of dimensions or columns, an empty array, non-numeric or non-finite values.
    """
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array; {exc}") from None
    if arr.ndim == 1 and n_features is not None and arr.shape[0] == n_features:
        arr = arr[None, :]
    if arr.ndim != 2:
        want = f"(n_samples, {n_features})" if n_features is not None else "(n_samples, n_features)"
        raise ValueError(f"{name} must be 2D with shape {want}; got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: at least one sample is required")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name} must have {n_features} columns; got {arr.shape[1]}")
    bad = ~np.isfinite(arr)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"{name} holds NaN or infinite values (first at row {row}, column {col}); all values must be finite")
    return arr


def check_targets(y: Any, n_samples: int, name: str = "y") -> np.ndarray:
    """Validate regression targets; returns a float64 array of shape (n_samples, n_outputs)."""
    try:
        arr = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; {exc}") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n_samples:
        raise ValueError(f"{name} must have shape ({n_samples},) or ({n_samples}, n_outputs); got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or infinite values; all targets must be finite")
    return arr


def _jsonable(value: Any) -> Any:
    """Convert tuples/ndarrays/numpy scalars to JSON-native types (recursively)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.random.Generator):
        return None
    return value


@contextmanager
def malformed_file(path: str | Path) -> Iterator[None]:
    """Turn the errors of rebuilding a model from a damaged payload into ``ValueError``."""
    try:
        yield
    except (TypeError, KeyError, AttributeError, IndexError, RuntimeError) as exc:
        raise ValueError(f"{str(path)!r} is a malformed surrogate file ({type(exc).__name__}: {exc})") from None


def read_payload(path: str | Path) -> dict[str, Any]:
    """Read a saved surrogate file safely (``weights_only=True``).

    Raises
    ------
    ValueError
        If the file does not exist, cannot be read by ``torch.load`` with ``weights_only=True``,
        or is not a matloop surrogate file.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"surrogate file {str(path)!r} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure means "not one of ours"
        raise ValueError(f"{str(path)!r} is not a matloop surrogate file (torch.load failed: {type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} is not a matloop surrogate file (missing format marker {FORMAT!r})")
    if payload.get("version") != FORMAT_VERSION:
        raise ValueError(f"{str(path)!r} has surrogate file version {payload.get('version')!r}; this matloop reads {FORMAT_VERSION}")
    return payload


def write_payload(payload: dict[str, Any], path: str | Path) -> Path:
    """Write a model payload (tensors + JSON-safe config) with ``torch.save``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)
    return path


class TorchSurrogate(BaseEstimator, ABC):
    """Base class of torch surrogates with a scikit-learn interface.

    Subclasses write out their ``__init__`` (explicit keyword parameters, stored unchanged with
    :meth:`_store_params`) and implement ``_build_module``, ``_fitted_extras`` /
    ``_restore_extras`` and the data encoding. ``fit`` validates parameters into locals or
    learned attributes and never rewrites them (``get_params()`` is the same before and after).

    Common constructor parameters (all subclasses)
    ----------------------------------------------
    lr : float
        Adam learning rate.
    batch_size : int
        Minibatch size.
    max_epochs : int
        Upper bound on training epochs.
    patience : int or None
        Early stopping: stop after this many epochs without validation improvement and restore
        the best weights. ``None`` disables early stopping (still records validation loss).
    validation_fraction : float
        Fraction of the training data held out for early stopping, in [0, 0.5). With 0 the
        training loss drives early stopping.
    lr_schedule : {"constant", "cosine", "plateau"}
        Learning-rate schedule over ``max_epochs``.
    weight_decay : float
        Adam (decoupled, AdamW) weight decay.
    random_state : int, Generator or None
        Seed of weight initialisation, splitting and shuffling; resolved in ``fit`` to
        ``random_state_``.
    device : str
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
    predict_batch_size : int
        Batch size of inference (ranking throughput). On the CPU the batches are shared among
        ``torch.get_num_threads()`` worker threads with one intra-op thread each (see
        :mod:`engine.surrogates.batching`).
    """

    _estimator_type_name = "surrogate"

    # ------------------------------------------------------------------ to implement
    @abstractmethod
    def _build_module(self) -> nn.Module:
        """The untrained ``nn.Module`` of this surrogate (called in ``fit``)."""

    def _fitted_extras(self) -> dict[str, Any]:
        """JSON-serialisable fitted attributes other than the weights."""
        return {}

    def _restore_extras(self, extras: dict[str, Any]) -> None:
        """Inverse of :meth:`_fitted_extras`."""

    # ------------------------------------------------------------------ helpers
    def _store_params(self, values: dict[str, Any]) -> None:
        """Store the constructor arguments unchanged; call as ``self._store_params(locals())``.

        Sets exactly the parameters of ``__init__``'s signature (scikit-learn's
        ``_get_param_names``), so that ``get_params`` and ``clone`` see what the caller passed.
        """
        for name in self._get_param_names():
            setattr(self, name, values[name])

    def _check_fitted(self) -> None:
        """Raise :class:`~sklearn.exceptions.NotFittedError` unless ``module_`` exists."""
        check_is_fitted(
            self, "module_", msg="This %(name)s instance is not fitted yet; call fit(X, y) or load a saved model first"
        )

    def _common_checks(self) -> None:
        if not (0.0 <= float(self.validation_fraction) < 0.5):
            raise ValueError(f"validation_fraction must be in [0, 0.5); got {self.validation_fraction}")
        if int(self.max_epochs) < 1 or int(self.batch_size) < 1:
            raise ValueError(f"max_epochs and batch_size must be >= 1; got {self.max_epochs}, {self.batch_size}")
        if self.lr_schedule not in ("constant", "cosine", "plateau"):
            raise ValueError(f"lr_schedule must be 'constant', 'cosine' or 'plateau'; got {self.lr_schedule!r}")
        if not (float(self.lr) > 0):
            raise ValueError(f"lr must be positive; got {self.lr}")

    def _init_module(self, seed: int) -> nn.Module:
        """Build the module with a seeded initialisation, without touching the global RNG."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = self._build_module()
        return module.to(self.device_)

    def _train(
        self,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        callback: ProgressCallback | None = None,
        augment: Callable[[torch.Tensor, torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> None:
        """Seeded minibatch training with early stopping; sets ``history_`` and ``best_epoch_``.

        ``inputs`` and ``targets`` are already encoded tensors on ``self.device_``.
        """
        seed = self.random_state_
        gen = torch.Generator().manual_seed(seed + 1)
        n = inputs.shape[0]
        n_val = int(round(float(self.validation_fraction) * n))
        if n_val > 0 and n - n_val < 1:
            raise ValueError(f"too few samples ({n}) for validation_fraction={self.validation_fraction}")
        perm = torch.randperm(n, generator=gen).to(self.device_)
        val_idx, tr_idx = perm[:n_val], perm[n_val:]
        x_tr, y_tr = inputs[tr_idx], targets[tr_idx]
        x_val, y_val = (inputs[val_idx], targets[val_idx]) if n_val else (None, None)
        self.n_train_, self.n_val_ = int(x_tr.shape[0]), int(n_val)

        module = self.module_
        opt = torch.optim.AdamW(module.parameters(), lr=float(self.lr), weight_decay=float(self.weight_decay))
        epochs = int(self.max_epochs)
        if self.lr_schedule == "cosine":
            sched: Any = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=float(self.lr) * 1e-2)
        elif self.lr_schedule == "plateau":
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=max(2, (self.patience or 20) // 3))
        else:
            sched = None
        bs = int(self.batch_size)
        best = math.inf
        best_state = copy.deepcopy(module.state_dict())
        best_epoch, since_best = 0, 0
        history: list[dict[str, float]] = []
        t0 = time.perf_counter()
        for epoch in range(1, epochs + 1):
            module.train()
            order = torch.randperm(x_tr.shape[0], generator=gen).to(self.device_)
            total, count = 0.0, 0
            for start in range(0, x_tr.shape[0], bs):
                idx = order[start : start + bs]
                xb, yb = x_tr[idx], y_tr[idx]
                if augment is not None:
                    xb, yb = augment(xb, yb, gen)
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(module(xb), yb)
                loss.backward()
                opt.step()
                total += float(loss.detach()) * idx.shape[0]
                count += idx.shape[0]
            train_loss = total / max(count, 1)
            val_loss = math.nan
            if x_val is not None:
                module.eval()
                with torch.inference_mode():
                    val_loss = float(
                        sum(
                            float(loss_fn(module(x_val[s : s + 8192]), y_val[s : s + 8192])) * min(8192, n_val - s)
                            for s in range(0, n_val, 8192)
                        )
                        / n_val
                    )
            monitor = val_loss if x_val is not None else train_loss
            lr_now = opt.param_groups[0]["lr"]
            if sched is not None:
                sched.step(monitor) if self.lr_schedule == "plateau" else sched.step()
            record = {
                "epoch": float(epoch),
                "train_loss": train_loss,
                "val_loss": val_loss,
                "lr": float(lr_now),
                "time_s": time.perf_counter() - t0,
            }
            history.append(record)
            if callback is not None:
                callback(dict(record))
            if not math.isfinite(best) or monitor < best * (1.0 - 1e-9):
                best, best_epoch, since_best = monitor, epoch, 0
                best_state = copy.deepcopy(module.state_dict())
            else:
                since_best += 1
                if self.patience is not None and since_best >= int(self.patience):
                    break
        module.load_state_dict(best_state)
        module.eval()
        self.history_ = history
        self.best_epoch_ = best_epoch
        self.n_epochs_ = len(history)
        self.fit_time_s_ = time.perf_counter() - t0

    def _run_batched(self, inputs: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor] | None = None) -> np.ndarray:
        """Evaluate the module (or ``fn``) on ``inputs`` in batches; returns float64 numpy."""
        fn = fn or self.module_
        self.module_.eval()
        return batched_inference(fn, inputs, self._predict_batch_size(), self.device_).numpy()

    def _predict_batch_size(self) -> int:
        """Designs per inference batch (subclasses may derive a default from the input size)."""
        return int(self.predict_batch_size)

    # ------------------------------------------------------------------ fit prologue
    def _start_fit(self) -> None:
        self._common_checks()
        self.random_state_ = resolve_seed(self.random_state)
        self.device_ = resolve_device(self.device)

    # ------------------------------------------------------------------ persistence
    def _to_payload(self) -> dict[str, Any]:
        self._check_fitted()
        params = _jsonable(self.get_params(deep=False))
        extras = _jsonable(self._fitted_extras())
        extras.update(
            random_state_=self.random_state_,
            history_=self.history_,
            best_epoch_=self.best_epoch_,
            n_epochs_=self.n_epochs_,
        )
        config = {"params": params, "extras": extras}
        state = {k: v.detach().to("cpu").clone() for k, v in self.module_.state_dict().items()}
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "kind": type(self).__name__,
            "config": json.dumps(config, allow_nan=True),
            "state_dict": state,
        }

    @classmethod
    def _from_payload(cls, payload: dict[str, Any], device: str = "auto") -> "TorchSurrogate":
        kind = payload.get("kind")
        if kind != cls.__name__:
            raise ValueError(f"the file holds a {kind!r} model, not a {cls.__name__}; load it with {kind}.load or load_surrogate")
        try:
            config = json.loads(payload["config"])
            params = dict(config["params"])
            extras = dict(config["extras"])
            state = payload["state_dict"]
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"malformed surrogate file: {exc}") from None
        params["device"] = device
        for key, value in list(params.items()):
            if isinstance(value, list) and key in getattr(cls, "_tuple_params", ()):
                params[key] = tuple(value)
        est = cls(**params)
        est.device_ = resolve_device(device)
        est.random_state_ = int(extras.pop("random_state_"))
        est.history_ = extras.pop("history_")
        est.best_epoch_ = int(extras.pop("best_epoch_"))
        est.n_epochs_ = int(extras.pop("n_epochs_"))
        est._restore_extras(extras)
        module = est._build_module()
        try:
            module.load_state_dict(state)
        except (RuntimeError, KeyError) as exc:
            raise ValueError(f"weights in the file do not match the {cls.__name__} configuration: {exc}") from None
        est.module_ = module.to(est.device_).eval()
        return est

    def save(self, path: str | Path) -> Path:
        """Write the fitted model to ``path`` (one file: state dict + JSON config via ``torch.save``).

        Returns
        -------
        Path
            The path written.
        """
        return write_payload(self._to_payload(), path)

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> "TorchSurrogate":
        """Load a model saved by :meth:`save` (``weights_only=True``; weights mapped to ``device``).

        Raises
        ------
        ValueError
            If the file is not a matloop surrogate or holds a model of another kind.
        """
        with malformed_file(path):
            return cls._from_payload(read_payload(path), device=device)


def as_tuple_of_ints(values: Sequence[int] | int, name: str) -> tuple[int, ...]:
    """Validate a layer-width specification."""
    if isinstance(values, (int, np.integer)):
        values = (int(values),)
    out = tuple(int(v) for v in values)
    if not out or any(v < 1 for v in out):
        raise ValueError(f"{name} must be a non-empty sequence of positive integers; got {values!r}")
    return out
