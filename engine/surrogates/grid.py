"""Grid surrogates for block designs (checkerboard, hierarchical): linear softmax baseline and CNN.

Designs are integer grids ``(n, rows, columns)`` of block-type indices (checkerboard convention:
row 0 at the bottom, column 0 at the cracked left edge; palette index 0 = soft, 1 = stiff).
Each cell is one-hot encoded into ``n_types`` channels.

* :class:`GridLinearClassifier` / :class:`GridLinearRegressor` — the single-layer perceptron of
  Gu et al. (2018): one linear layer on the one-hot grid, softmax for good/bad.
* :class:`GridCNNClassifier` / :class:`GridCNNRegressor` — a small CNN (two 3×3 convolutions,
  the second with stride 2, then a dense layer) plus a linear skip path from the one-hot grid
  (wide & deep); position-aware (no global pooling) because the crack fixes the geometry.

``symmetry="mirror_rows"`` augments training with the mirror image about the crack plane
(row order reversed), which leaves mode-I labels unchanged; ``symmetric_inference=True``
averages each prediction with that of the mirror image, making it exactly invariant.
Inference runs in batches of ``predict_batch_size`` designs for ranking throughput; the default
(``None``) sizes CPU batches to about :data:`CELLS_PER_BATCH` grid cells (1 024 8×8 or 256 16×16
designs), which keeps the activations in cache (see :mod:`engine.surrogates.batching`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import ClassifierMixin, RegressorMixin
from torch import nn

from engine.surrogates.base import ProgressCallback, TorchSurrogate, as_tuple_of_ints, check_targets

__all__ = [
    "CELLS_PER_BATCH",
    "GPU_BATCH",
    "GridCNNClassifier",
    "GridCNNRegressor",
    "GridLinearClassifier",
    "GridLinearRegressor",
    "SYMMETRIES",
    "check_grids",
    "good_bad_labels",
]

#: Allowed values of the ``symmetry`` parameter.
SYMMETRIES = (None, "mirror_rows")

#: Grid cells per CPU inference batch when ``predict_batch_size`` is None. Measured on 2 CPU
#: cores (8×8 and 16×16 CNN): throughput peaks near 2**16 cells and falls 3× at 2**19.
CELLS_PER_BATCH = 2**16
#: Designs per GPU inference batch when ``predict_batch_size`` is None.
GPU_BATCH = 16384


def good_bad_labels(values: Any, higher_is_better: bool = True, quantile: float = 0.5) -> np.ndarray:
    """Good (1) / bad (0) labels: good is the top ``1 - quantile`` share of ``values``.

    Parameters
    ----------
    values : array-like, shape (n,)
        Scalar figure of merit (e.g. toughness, MPa).
    higher_is_better : bool
        Whether large values are good.
    quantile : float
        Threshold quantile in (0, 1); 0.5 gives the papers' top-half / bottom-half split.

    Returns
    -------
    ndarray of int, shape (n,)
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0 or not np.isfinite(v).all():
        raise ValueError("values must be a non-empty array of finite numbers")
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1); got {quantile}")
    v = v if higher_is_better else -v
    return (v > np.quantile(v, quantile)).astype(int)


def check_grids(X: Any, n_types: int | None = None, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Validate design grids and return an int64 array of shape (n, rows, columns).

    Parameters
    ----------
    X : array-like (n, rows, columns) or (rows, columns), or a sequence of designs with ``as_array()``
        Block-type indices.
    n_types : int, optional
        Number of block types: indices must lie in ``[0, n_types)``.
    shape : (int, int), optional
        Required grid shape.

    Raises
    ------
    ValueError
        On ragged, empty, non-integer, NaN or out-of-range entries, or a wrong grid shape.
    """
    if isinstance(X, (list, tuple)) and X and hasattr(X[0], "as_array"):
        X = [d.as_array() for d in X]
    elif hasattr(X, "as_array"):
        X = X.as_array()
    if isinstance(X, np.ndarray) and X.dtype.kind in "iub":
        return _check_integer_grids(X, n_types, shape)  # fast path: no float copy, no NaN/rounding checks
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("design grids must be a rectangular numeric array (n, rows, columns); got a ragged or non-numeric input") from None
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.size == 0:
        raise ValueError(f"design grids must have shape (n, rows, columns) with n >= 1; got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("design grids hold NaN or infinite entries; entries must be block-type indices")
    if (arr != np.round(arr)).any():
        raise ValueError("design grid entries must be integer block-type indices")
    if shape is not None and tuple(arr.shape[1:]) != tuple(shape):
        raise ValueError(f"this model was trained on {shape[0]}x{shape[1]} grids; got {arr.shape[1]}x{arr.shape[2]}")
    if arr.min() < 0 or (n_types is not None and arr.max() >= n_types):
        allowed = f"0..{n_types - 1}" if n_types is not None else "non-negative integers"
        raise ValueError(f"unknown block type index {int(arr.min() if arr.min() < 0 else arr.max())}; allowed {allowed}")
    return arr.astype(np.int64)


def _check_integer_grids(arr: np.ndarray, n_types: int | None, shape: tuple[int, int] | None) -> np.ndarray:
    """:func:`check_grids` for an integer (or boolean) ndarray: same checks, same messages."""
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.size == 0:
        raise ValueError(f"design grids must have shape (n, rows, columns) with n >= 1; got shape {arr.shape}")
    if shape is not None and tuple(arr.shape[1:]) != tuple(shape):
        raise ValueError(f"this model was trained on {shape[0]}x{shape[1]} grids; got {arr.shape[1]}x{arr.shape[2]}")
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or (n_types is not None and hi >= n_types):
        allowed = f"0..{n_types - 1}" if n_types is not None else "non-negative integers"
        raise ValueError(f"unknown block type index {lo if lo < 0 else hi}; allowed {allowed}")
    return np.ascontiguousarray(arr, dtype=np.int64)


class _LinearModule(nn.Module):
    def __init__(self, n_types: int, shape: tuple[int, int], n_out: int) -> None:
        super().__init__()
        self.n_types = n_types
        self.linear = nn.Linear(n_types * shape[0] * shape[1], n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(1))


class _CNNModule(nn.Module):
    def __init__(self, n_types: int, shape: tuple[int, int], n_out: int, channels: tuple[int, int], hidden: int) -> None:
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(n_types, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1, stride=2)
        h, w = (shape[0] + 1) // 2, (shape[1] + 1) // 2
        self.fc1 = nn.Linear(c2 * h * w, hidden)
        self.fc2 = nn.Linear(hidden, n_out)
        self.skip = nn.Linear(n_types * shape[0] * shape[1], n_out)  # linear path (wide & deep)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = F.relu(self.conv1(x))
        z = F.relu(self.conv2(z))
        return self.fc2(F.relu(self.fc1(z.flatten(1)))) + self.skip(x.flatten(1))


class _GridBase(TorchSurrogate):
    """Shared encoding, training and inference of the grid models."""

    _tuple_params = ("channels",)
    _architecture = "linear"
    _task = "regression"

    # -------------------------------------------------------------- construction
    def _n_out(self) -> int:
        return len(self.classes_) if self._task == "classification" else self.n_outputs_

    def _build_module(self) -> nn.Module:
        shape = tuple(self.grid_shape_)
        if self._architecture == "linear":
            return _LinearModule(self.n_types_, shape, self._n_out())
        return _CNNModule(self.n_types_, shape, self._n_out(), self._channels(), int(self.hidden))

    def _encode(self, grids: torch.Tensor) -> torch.Tensor:
        types = torch.arange(self.n_types_, device=grids.device, dtype=grids.dtype)
        return (grids[:, None] == types[None, :, None, None]).to(torch.float32)  # one-hot channels

    def _logits(self, grids: torch.Tensor) -> torch.Tensor:
        out = self.module_(self._encode(grids))
        if self.symmetric_inference:
            out = 0.5 * (out + self.module_(self._encode(grids.flip(-2))))
        return out

    def _channels(self) -> tuple[int, int]:
        """The two convolution widths of ``channels``, validated (the parameter is left as given)."""
        channels = as_tuple_of_ints(self.channels, "channels")
        if len(channels) != 2:
            raise ValueError(f"channels must give two convolution widths; got {self.channels!r}")
        return channels[0], channels[1]

    def _check_params(self) -> None:
        if self.symmetry not in SYMMETRIES:
            raise ValueError(f"symmetry must be one of {SYMMETRIES}; got {self.symmetry!r}")
        if self._architecture == "cnn":
            self._channels()
            as_tuple_of_ints(self.hidden, "hidden")

    def _augment(self, xb: torch.Tensor, yb: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        flip = (torch.rand(xb.shape[0], generator=gen) < 0.5).to(xb.device)
        return torch.where(flip[:, None, None, None], xb.flip(-2), xb), yb

    def _fit_common(self, X: Any, callback: ProgressCallback | None) -> np.ndarray:
        self._start_fit()
        self._check_params()
        grids = check_grids(X, self.n_types)
        self.n_types_ = int(self.n_types) if self.n_types is not None else max(2, int(grids.max()) + 1)
        self.grid_shape_ = (int(grids.shape[1]), int(grids.shape[2]))
        self.n_features_in_ = int(grids.shape[1] * grids.shape[2])
        return grids

    def _grid_tensor(self, grids: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(grids, dtype=torch.uint8 if self.n_types_ <= 255 else torch.int64)

    def _train_grids(self, grids: np.ndarray, targets: torch.Tensor, loss_fn: Any, callback: ProgressCallback | None) -> None:
        self.module_ = self._init_module(self.random_state_)
        inputs = self._encode(self._grid_tensor(grids).to(self.device_))
        augment = self._augment if self.symmetry == "mirror_rows" else None
        self._train(inputs, targets.to(self.device_), loss_fn, callback, augment)

    def _predict_batch_size(self) -> int:
        if self.predict_batch_size is None and self.device_.type != "cpu":
            return GPU_BATCH
        if self.predict_batch_size is None:
            return max(1, CELLS_PER_BATCH // (self.grid_shape_[0] * self.grid_shape_[1]))
        return int(self.predict_batch_size)

    def _raw_outputs(self, X: Any) -> np.ndarray:
        self._check_fitted()
        grids = check_grids(X, self.n_types_, tuple(self.grid_shape_))
        return self._run_batched(self._grid_tensor(grids), self._logits)

    def _fitted_extras(self) -> dict[str, Any]:
        extras: dict[str, Any] = {"n_types_": self.n_types_, "grid_shape_": list(self.grid_shape_)}
        if self._task == "classification":
            extras["classes_"] = self.classes_.tolist()
        else:
            extras.update(n_outputs_=self.n_outputs_, y_mean_=self.y_mean_.tolist(), y_std_=self.y_std_.tolist(), y_1d_=self.y_1d_)
        return extras

    def _restore_extras(self, extras: dict[str, Any]) -> None:
        self.n_types_ = int(extras["n_types_"])
        self.grid_shape_ = tuple(int(v) for v in extras["grid_shape_"])
        self.n_features_in_ = self.grid_shape_[0] * self.grid_shape_[1]
        if self._task == "classification":
            self.classes_ = np.asarray(extras["classes_"])
        else:
            self.n_outputs_ = int(extras["n_outputs_"])
            self.y_mean_ = np.asarray(extras["y_mean_"], dtype=np.float64)
            self.y_std_ = np.asarray(extras["y_std_"], dtype=np.float64)
            self.y_1d_ = bool(extras["y_1d_"])


class _GridClassifierMixin(ClassifierMixin):
    _task = "classification"

    def fit(self, X: Any, y: Any, callback: ProgressCallback | None = None) -> Any:
        """Train on grids ``X`` (n, rows, columns) and class labels ``y`` (n,), e.g. good = 1 / bad = 0.

        Returns
        -------
        self
        """
        grids = self._fit_common(X, callback)
        labels = np.asarray(y).ravel()
        if labels.shape[0] != grids.shape[0]:
            raise ValueError(f"X has {grids.shape[0]} designs but y has {labels.shape[0]} labels")
        if labels.dtype.kind == "f" and not np.isfinite(labels).all():
            raise ValueError("y holds NaN labels; labels must be class values such as 0 (bad) / 1 (good)")
        self.classes_, codes = np.unique(labels, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y must contain at least two classes; got only {self.classes_.tolist()}")
        self._train_grids(grids, torch.as_tensor(codes, dtype=torch.long), nn.functional.cross_entropy, callback)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (n, n_classes), columns in the order of ``classes_``."""
        logits = self._raw_outputs(X)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each design."""
        logits = self._raw_outputs(X)
        return self.classes_[np.argmax(logits, axis=1)]

    def rank_scores(self, X: Any) -> np.ndarray:
        """Ranking score: probability of the largest class (``classes_[-1]``, e.g. good = 1)."""
        return self.predict_proba(X)[:, -1]


class _GridRegressorMixin(RegressorMixin):
    _task = "regression"

    def fit(self, X: Any, y: Any, callback: ProgressCallback | None = None) -> Any:
        """Train on grids ``X`` (n, rows, columns) and targets ``y`` (n,) or (n, k) (e.g. strength, toughness in MPa).

        Returns
        -------
        self
        """
        grids = self._fit_common(X, callback)
        Y = check_targets(y, grids.shape[0])
        self.y_1d_ = np.ndim(y) == 1
        self.n_outputs_ = int(Y.shape[1])
        self.y_mean_ = Y.mean(axis=0)
        self.y_std_ = np.where(Y.std(axis=0) > 0, Y.std(axis=0), 1.0)
        target = torch.as_tensor((Y - self.y_mean_) / self.y_std_, dtype=torch.float32)
        self._train_grids(grids, target, nn.functional.mse_loss, callback)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, (n,) when fitted on a 1D ``y``, else (n, k); units of ``y``."""
        out = self._raw_outputs(X) * self.y_std_ + self.y_mean_
        return out[:, 0] if self.y_1d_ else out

    def rank_scores(self, X: Any) -> np.ndarray:
        """Ranking score: the first predicted target."""
        out = self.predict(X)
        return out if out.ndim == 1 else out[:, 0]


class GridLinearClassifier(_GridClassifierMixin, _GridBase):
    """Single-layer softmax perceptron on one-hot grids: the good/bad baseline of Gu et al. (2018).

    One linear layer maps the one-hot grid (``n_types`` channels per cell) to one logit per
    class; training minimises the cross-entropy. ``rank_scores`` is P(``classes_[-1]``).

    Parameters
    ----------
    n_types : int or None, default=None
        Number of block types (palette size); ``None`` takes the largest index in ``X`` + 1
        (at least 2).
    symmetry : {None, "mirror_rows"}, default="mirror_rows"
        Train also on mirror images about the crack plane (rows reversed; labels unchanged).
    symmetric_inference : bool, default=False
        Average the class logits of a design and of its mirror image (exactly mirror-invariant
        probabilities, twice the inference cost).
    lr, batch_size, max_epochs, patience, validation_fraction, lr_schedule, weight_decay, random_state, device
        Training settings, see :class:`~engine.surrogates.base.TorchSurrogate`.
    predict_batch_size : int or None, default=None
        Designs per inference batch; ``None`` gives about :data:`CELLS_PER_BATCH` grid cells per
        batch on the CPU and :data:`GPU_BATCH` designs on a GPU.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
        Class labels seen in ``fit``, sorted (e.g. 0 = bad, 1 = good).
    n_types_ : int
        Number of one-hot channels.
    grid_shape_ : (int, int)
        Rows and columns of the training grids; predictions need the same shape.
    module_ : torch.nn.Module
        The trained linear layer.
    history_ : list of dict
        One record per epoch (``epoch``, ``train_loss``, ``val_loss``, ``lr``, ``time_s``).
    """

    _architecture = "linear"

    def __init__(
        self,
        n_types: int | None = None,
        symmetry: str | None = "mirror_rows",
        symmetric_inference: bool = False,
        lr: float = 1e-2,
        batch_size: int = 64,
        max_epochs: int = 200,
        patience: int | None = 20,
        validation_fraction: float = 0.15,
        lr_schedule: str = "constant",
        weight_decay: float = 1e-3,
        random_state: int | np.random.Generator | None = None,
        device: str = "auto",
        predict_batch_size: int | None = None,
    ) -> None:
        self._store_params(locals())


class GridLinearRegressor(_GridRegressorMixin, _GridBase):
    """Linear regression on one-hot grids (baseline), trained with Adam(W) on standardised targets.

    One linear layer maps the one-hot grid to the ``k`` targets, each standardised to zero mean
    and unit variance for training; predictions come back in the units of ``y`` (e.g. MPa).

    Parameters
    ----------
    n_types : int or None, default=None
        Palette size (number of block types); ``None`` infers it from ``X`` as the largest
        block index + 1, at least 2.
    symmetry : {None, "mirror_rows"}, default="mirror_rows"
        Training augmentation by the mirror image about the crack plane (mode-I targets do not
        change under it).
    symmetric_inference : bool, default=False
        Predict the mean of the design's and its mirror image's outputs (exact invariance, 2×
        the cost).
    lr, batch_size, max_epochs, patience, validation_fraction, lr_schedule, weight_decay, random_state, device
        See :class:`~engine.surrogates.base.TorchSurrogate`.
    predict_batch_size : int or None, default=None
        Inference batch size in designs. By default about :data:`CELLS_PER_BATCH` grid cells on
        the CPU, :data:`GPU_BATCH` designs on a GPU.

    Attributes
    ----------
    n_outputs_ : int
        Number of targets ``k``.
    y_mean_, y_std_ : ndarray, shape (k,)
        Standardisation of the targets (units of ``y``).
    n_types_, grid_shape_ : int, (int, int)
        One-hot channels; rows and columns of the grids (fixed after ``fit``).
    module_, history_
        Trained linear layer; per-epoch training record.
    """

    _architecture = "linear"

    def __init__(
        self,
        n_types: int | None = None,
        symmetry: str | None = "mirror_rows",
        symmetric_inference: bool = False,
        lr: float = 1e-2,
        batch_size: int = 64,
        max_epochs: int = 200,
        patience: int | None = 20,
        validation_fraction: float = 0.15,
        lr_schedule: str = "constant",
        weight_decay: float = 1e-3,
        random_state: int | np.random.Generator | None = None,
        device: str = "auto",
        predict_batch_size: int | None = None,
    ) -> None:
        self._store_params(locals())


class GridCNNClassifier(_GridClassifierMixin, _GridBase):
    """CNN good/bad classifier on one-hot grids, with a linear skip path (wide & deep).

    Two 3×3 convolutions (the second with stride 2), a dense layer of ``hidden`` units and a
    linear layer on the one-hot grid are summed into the class logits. There is no global
    pooling: the crack fixes the geometry, so where a block sits matters.

    Parameters
    ----------
    channels : (int, int), default=(8, 16)
        Output channels of the first and of the second (stride 2) 3×3 convolution.
    hidden : int, default=32
        Units of the dense layer after the convolutions.
    n_types : int or None, default=None
        One-hot channels per cell; ``None``: one more than the largest block index seen in
        ``fit`` (never fewer than 2).
    symmetry : {None, "mirror_rows"}, default="mirror_rows"
        With ``"mirror_rows"`` training mirrors each design of a minibatch about the crack plane
        with probability 1/2.
    symmetric_inference : bool, default=False
        Classify from the mean logits of the design and its mirror image.
    lr, batch_size, max_epochs, patience, validation_fraction, lr_schedule, weight_decay, random_state, device
        Optimiser, early stopping, seed and device; see
        :class:`~engine.surrogates.base.TorchSurrogate`.
    predict_batch_size : int or None, default=None
        Designs per forward pass when ranking; ``None`` sizes CPU batches to
        :data:`CELLS_PER_BATCH` cells and GPU batches to :data:`GPU_BATCH` designs.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
        Sorted class labels; ``rank_scores`` is the probability of the last one.
    n_types_ : int
        One-hot channels used.
    grid_shape_ : (int, int)
        Grid rows and columns seen in ``fit``.
    module_ : torch.nn.Module
        The trained network (convolutions, dense layer, skip path).
    history_ : list of dict
        Training record, one dict per epoch.
    """

    _architecture = "cnn"

    def __init__(
        self,
        channels: Sequence[int] = (8, 16),
        hidden: int = 32,
        n_types: int | None = None,
        symmetry: str | None = "mirror_rows",
        symmetric_inference: bool = False,
        lr: float = 2e-3,
        batch_size: int = 32,
        max_epochs: int = 300,
        patience: int | None = 40,
        validation_fraction: float = 0.15,
        lr_schedule: str = "plateau",
        weight_decay: float = 1e-3,
        random_state: int | np.random.Generator | None = None,
        device: str = "auto",
        predict_batch_size: int | None = None,
    ) -> None:
        self._store_params(locals())


class GridCNNRegressor(_GridRegressorMixin, _GridBase):
    """CNN regressor on one-hot grids (e.g. strength and toughness in MPa), wide & deep.

    Same network as :class:`GridCNNClassifier` with ``k`` linear outputs, trained by mean squared
    error on standardised targets; predictions are in the units of ``y``.

    Parameters
    ----------
    channels : (int, int), default=(8, 16)
        Widths of the two 3×3 convolutions (the second has stride 2).
    hidden : int, default=32
        Width of the dense layer.
    n_types : int or None, default=None
        Number of block types; inferred from the training grids when ``None`` (largest index
        + 1, at least 2). Hierarchical designs use 3 or more.
    symmetry : {None, "mirror_rows"}, default="mirror_rows"
        Mirror augmentation about the crack plane during training; use ``None`` for targets
        that are not mirror-symmetric.
    symmetric_inference : bool, default=False
        Return the average of the predictions for the design and for its mirror image.
    lr, batch_size, max_epochs, patience, validation_fraction, lr_schedule, weight_decay, random_state, device
        Training settings of :class:`~engine.surrogates.base.TorchSurrogate`.
    predict_batch_size : int or None, default=None
        Inference batch; ``None`` picks :data:`CELLS_PER_BATCH` grid cells' worth of designs on
        the CPU and :data:`GPU_BATCH` designs on a GPU.

    Attributes
    ----------
    n_outputs_ : int
        Number of targets; ``predict`` returns shape (n,) when ``y`` was 1D, else (n, k).
    y_mean_, y_std_ : ndarray, shape (k,)
        Mean and standard deviation of the training targets (units of ``y``).
    n_types_, grid_shape_ : int, (int, int)
        One-hot channels and the grid shape that predictions require.
    module_, history_
        Trained network and its per-epoch training record.
    """

    _architecture = "cnn"

    def __init__(
        self,
        channels: Sequence[int] = (8, 16),
        hidden: int = 32,
        n_types: int | None = None,
        symmetry: str | None = "mirror_rows",
        symmetric_inference: bool = False,
        lr: float = 2e-3,
        batch_size: int = 32,
        max_epochs: int = 300,
        patience: int | None = 40,
        validation_fraction: float = 0.15,
        lr_schedule: str = "plateau",
        weight_decay: float = 1e-3,
        random_state: int | np.random.Generator | None = None,
        device: str = "auto",
        predict_batch_size: int | None = None,
    ) -> None:
        self._store_params(locals())
