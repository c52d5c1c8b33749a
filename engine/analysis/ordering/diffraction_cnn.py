"""A convolutional network that classifies particles from their diffraction images.

After Ziletti, Kumar, Scheffler & Ghiringhelli, Nat. Commun. 9, 2775 (2018), who classify the
2D diffraction pattern of a region with a CNN; here the images are the per-particle regions of
:mod:`.diffraction` (three projection channels, 32 × 32 pixels by default).

* :class:`DiffractionCNN` — three 3 × 3 convolution + ReLU + 2 × 2 max-pool stages (8, 16, 32
  channels), a 32-unit hidden layer and a softmax over the classes (22 580 weights); seeded,
  trained with Adam on the cross entropy. Each prediction has a confidence (the largest class
  probability); a particle is ``"other"`` when its 32 hidden features lie beyond every class's
  ``novelty_quantile`` of training Mahalanobis distances (the test of
  :class:`.supervised.BondOrderMLP`, in the network's feature space).
* :func:`diffraction_training_set` — images of fcc, bcc, hcp crystals with Lindemann ratios
  spread over [0, 0.1] and of relaxed-packing liquids (:func:`.liquids.liquid`, at the fcc and
  bcc densities), every region turned into its own uniformly random orientation before its
  image is taken (in its local bond frame by default, see :mod:`.diffraction`), so that the
  invariance to orientation is exercised in training, not assumed.
* :func:`load_shipped_cnn` — the network trained once by :func:`train_shipped_cnn` with
  :data:`TRAINING_RECIPE` (1500 images per class, 6000 in all, 12 epochs; ~3 min on 2 CPU
  cores) and stored as a torch ``state_dict`` plus plain metadata in
  ``models/diffraction_cnn.pt`` (130 kB; loaded with ``torch.load(..., weights_only=True)``:
  tensors, numbers and strings only, never pickled objects). Regenerate it with::

      python -m engine.analysis.ordering.diffraction_cnn

  Measured on fresh crystals in random orientations (``tests/test_analysis_ordering_
  diffraction_cnn.py``): fcc/bcc/hcp/liquid 100/100/100/100 % at Lindemann 0.05 and
  94.2/98.6/97.8/100 % at 0.10 (q6 threshold: 96.0 % and 70.8 % of all particles); sc and
  diamond, never trained, come out ``"other"``.

Runs on the CPU or, with ``device="auto"``, on CUDA when present (:mod:`engine.runtime.device`).
scikit-learn API: ``fit(X, y) -> self``; X has shape (N, C, P, P) (images), y (N,) class names.
"""

from __future__ import annotations

import pickle  # only for the error type of a damaged file; nothing is unpickled
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.runtime.device import resolve_device

from .diffraction import (
    DiffractionSettings, default_length_scale, pattern_from_vectors, random_rotations,
    region_vectors,
)
from .lattices import lattice, nn_distance_of_cell
from .liquids import liquid

__all__ = [
    "OTHER", "SHIPPED_CNN", "TRAINING_RECIPE", "DiffractionCNN", "diffraction_training_set",
    "load_shipped_cnn", "train_shipped_cnn",
]

#: Label of particles that fit no trained class.
OTHER = "other"

#: The shipped weights.
SHIPPED_CNN = Path(__file__).parent / "models" / "diffraction_cnn.pt"

#: How the shipped network was trained (arguments of the two functions).
TRAINING_RECIPE: dict[str, Any] = {
    "diffraction_training_set": {"per_class": 1500, "lindemann_max": 0.1, "seed": 0},
    "DiffractionCNN": {"epochs": 12, "random_state": 0},
}

_FORMAT = "matloop.ordering.diffraction-cnn"
_HIDDEN = 32  # hidden features (the space of the "other" test)


def _network(n_channels: int, pixels: int, n_classes: int) -> tuple[nn.Module, nn.Module]:
    """Feature extractor (images → _HIDDEN features) and the linear output layer."""
    layers: list[nn.Module] = []
    channels = n_channels
    size = pixels
    for width in (8, 16, 32):
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        channels, size = width, size // 2
    layers += [nn.Flatten(), nn.Linear(channels * size * size, _HIDDEN), nn.ReLU()]
    return nn.Sequential(*layers), nn.Linear(_HIDDEN, n_classes)


def _check_images(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 4 or X.shape[0] == 0 or X.shape[2] != X.shape[3] or X.shape[2] < 8:
        raise ValueError(
            f"images must have shape (N, C, P, P) with N >= 1 and P >= 8, got shape {X.shape}"
        )
    if not np.isfinite(X).all():
        raise ValueError("images hold NaN or infinite values; all must be finite")
    return X


class DiffractionCNN:
    """CNN classifier of diffraction images with confidences and an ``"other"`` class.

    Parameters
    ----------
    epochs : int, default 25
        Passes over the training images.
    batch_size : int, default 128
        Images per Adam step.
    learning_rate : float, default 1e-3
        Adam step size.
    weight_decay : float, default 1e-4
        L2 penalty (Adam's weight decay).
    novelty_quantile : float, default 0.999
        Quantile of training feature distances beyond which a particle fits no class.
    random_state : int, default 0
        Seed of the weights and the minibatch order.
    device : str, default "auto"
        ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    classes_ : ndarray of str, shape (C,)
        Class names, sorted.
    features_, output_ : torch.nn.Module
        Feature extractor and output layer (on the CPU after ``fit``).
    image_mean_, image_scale_ : float
        Standardisation of the pixel values learnt in ``fit``.
    means_, precisions_, thresholds_ : ndarray, shapes (C, 32), (C, 32, 32), (C,)
        Class means, inverse covariances and novelty thresholds in feature space.
    loss_curve_ : list of float
        Mean training cross entropy of each epoch.
    """

    def __init__(
        self,
        *,
        epochs: int = 25,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        novelty_quantile: float = 0.999,
        random_state: int = 0,
        device: str = "auto",
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.novelty_quantile = novelty_quantile
        self.random_state = random_state
        self.device = device

    def fit(self, X: np.ndarray, y: np.ndarray) -> DiffractionCNN:
        """Learn from images ``X`` (N, C, P, P) and class names ``y`` (N,)."""
        X = _check_images(X)
        y = np.asarray(y).astype(str)
        if y.shape != (len(X),):
            raise ValueError(f"y must have shape ({len(X)},) to match X, got {y.shape}")
        if np.unique(y).size < 2:
            raise ValueError("y must hold at least two classes")
        if int(self.epochs) != self.epochs or self.epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if not 0 < self.novelty_quantile <= 1:
            raise ValueError(f"novelty_quantile must lie in (0, 1], got {self.novelty_quantile!r}")
        device = resolve_device(self.device)
        self.classes_, target = np.unique(y, return_inverse=True)
        self.pixels_ = int(X.shape[2])
        self.image_mean_ = float(X.mean())
        self.image_scale_ = float(X.std()) or 1.0
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)
            self.features_, self.output_ = _network(X.shape[1], X.shape[2], len(self.classes_))
        self.features_.to(device)
        self.output_.to(device)
        params = list(self.features_.parameters()) + list(self.output_.parameters())
        optimiser = torch.optim.Adam(params, lr=self.learning_rate, weight_decay=self.weight_decay)
        generator = torch.Generator().manual_seed(self.random_state + 1)
        data = torch.as_tensor((X - self.image_mean_) / self.image_scale_)
        labels = torch.as_tensor(target, dtype=torch.long)
        loss_fn = nn.CrossEntropyLoss()
        self.loss_curve_ = []
        for _ in range(int(self.epochs)):
            order = torch.randperm(len(data), generator=generator)
            total = 0.0
            for start in range(0, len(data), int(self.batch_size)):
                idx = order[start:start + int(self.batch_size)]
                batch, truth = data[idx].to(device), labels[idx].to(device)
                optimiser.zero_grad()
                loss = loss_fn(self.output_(self.features_(batch)), truth)
                loss.backward()
                optimiser.step()
                total += loss.item() * len(idx)
            self.loss_curve_.append(total / len(data))
        self.features_.cpu().eval()
        self.output_.cpu().eval()
        self._fit_novelty(self._features(X), target)
        return self

    def _fit_novelty(self, F: np.ndarray, target: np.ndarray) -> None:
        f = F.shape[1]
        self.means_ = np.zeros((len(self.classes_), f))
        self.precisions_ = np.zeros((len(self.classes_), f, f))
        self.thresholds_ = np.zeros(len(self.classes_))
        for c in range(len(self.classes_)):
            members = F[target == c]
            self.means_[c] = members.mean(axis=0)
            cov = np.cov(members, rowvar=False).reshape(f, f) + 1e-3 * np.eye(f)
            self.precisions_[c] = np.linalg.inv(cov)
            self.thresholds_[c] = np.quantile(self._distances(members, c), self.novelty_quantile)

    def _distances(self, F: np.ndarray, c: int) -> np.ndarray:
        d = F - self.means_[c]
        return np.einsum("ni,ij,nj->n", d, self.precisions_[c], d)

    def _features(self, X: np.ndarray) -> np.ndarray:
        out = []
        with torch.no_grad():
            for start in range(0, len(X), 1024):
                batch = torch.as_tensor((X[start:start + 1024] - self.image_mean_) / self.image_scale_)
                out.append(self.features_(batch).numpy().astype(float))
        return np.vstack(out)

    def _checked(self, X: np.ndarray) -> np.ndarray:
        X = _check_images(X)
        expected = self.features_[0].in_channels
        if X.shape[1] != expected:
            raise ValueError(f"images must have {expected} channels as in fit, got {X.shape[1]}")
        return X

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (N, C), columns in the order of ``classes_``."""
        F = self._features(self._checked(X))
        with torch.no_grad():
            logits = self.output_(torch.as_tensor(F, dtype=torch.float32))
        return torch.softmax(logits, dim=1).numpy().astype(float)

    def predict_with_confidence(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Labels (``"other"`` where no class fits) and confidences in [1/C, 1] (NaN for
        ``"other"``: a softmax far from the training data means nothing), shape (N,)."""
        X = self._checked(X)
        F = self._features(X)
        with torch.no_grad():
            logits = self.output_(torch.as_tensor(F, dtype=torch.float32))
        proba = torch.softmax(logits, dim=1).numpy().astype(float)
        labels = self.classes_[proba.argmax(axis=1)].astype(object)
        inside = np.any([self._distances(F, c) <= self.thresholds_[c]
                         for c in range(len(self.classes_))], axis=0)
        confidence = proba.max(axis=1)
        labels[~inside], confidence[~inside] = OTHER, np.nan
        return labels.astype(str), confidence

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class names, ``"other"`` where no class fits, shape (N,)."""
        return self.predict_with_confidence(X)[0]

    # --- persistence: tensors, numbers and strings only (torch.load(weights_only=True)) ---

    def to_dict(self, settings: DiffractionSettings | None = None) -> dict[str, Any]:
        """Everything prediction needs, as tensors and plain values."""
        return {
            "format": _FORMAT,
            "classes": [str(c) for c in self.classes_],
            "n_channels": int(self.features_[0].in_channels),
            "pixels": int(self.pixels_),
            "features": self.features_.state_dict(),
            "output": self.output_.state_dict(),
            "image_mean": self.image_mean_,
            "image_scale": self.image_scale_,
            "means": torch.as_tensor(self.means_),
            "precisions": torch.as_tensor(self.precisions_),
            "thresholds": torch.as_tensor(self.thresholds_),
            "settings": (settings or DiffractionSettings()).as_dict(),
            "versions": {"torch": str(torch.__version__), "numpy": str(np.__version__),
                         "python": sys.version.split()[0]},
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> DiffractionCNN:
        """Rebuild a fitted classifier from :meth:`to_dict`'s output."""
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError("not a saved diffraction CNN (format tag missing or different)")
        model = cls()
        model.classes_ = np.asarray(state["classes"], dtype=str)
        model.features_, model.output_ = _network(
            int(state["n_channels"]), int(state["pixels"]), len(model.classes_))
        model.features_.load_state_dict(state["features"])
        model.output_.load_state_dict(state["output"])
        model.features_.eval()
        model.output_.eval()
        model.pixels_ = int(state["pixels"])
        model.image_mean_ = float(state["image_mean"])
        model.image_scale_ = float(state["image_scale"])
        model.means_ = state["means"].numpy()
        model.precisions_ = state["precisions"].numpy()
        model.thresholds_ = state["thresholds"].numpy()
        return model

    def save(self, path: str | Path, settings: DiffractionSettings | None = None) -> None:
        """Write :meth:`to_dict` with ``torch.save`` (a state dict, no pickled classes)."""
        torch.save(self.to_dict(settings), Path(path))

    @classmethod
    def load(cls, path: str | Path) -> tuple[DiffractionCNN, DiffractionSettings]:
        """Read a file written by :meth:`save` (``weights_only=True``) and its image settings."""
        try:
            state = torch.load(Path(path), map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
            raise ValueError(f"cannot read a diffraction CNN from {path}: {error}") from None
        model = cls.from_dict(state)
        return model, DiffractionSettings(**state["settings"])


def _cells(kind: str, half_width: float) -> int:
    """Unit cells (nn distance 1) so that half the shortest box side exceeds ``half_width``."""
    shortest = 1.0 / nn_distance_of_cell(kind)  # lattice constant a; hcp's shortest side is a
    return int(np.ceil(2.0 * half_width / shortest)) + 1


def diffraction_training_set(
    per_class: int = 3000,
    *,
    lindemann_max: float = 0.1,
    kinds: Sequence[str] = ("fcc", "bcc", "hcp"),
    settings: DiffractionSettings | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Diffraction images of generated crystals and liquids in random orientations.

    Parameters
    ----------
    per_class : int, default 3000
        Images of each class (drawn from several configurations).
    lindemann_max : float, default 0.1
        Crystals get Lindemann ratios spread evenly over [0, lindemann_max] (one configuration
        per ratio, 8 ratios).
    kinds : sequence of str, default ("fcc", "bcc", "hcp")
        Crystal classes; the ``"liquid"`` class is always added (half at the fcc density √2,
        half at the bcc density 1.299, unit nearest-neighbour distance).
    settings : DiffractionSettings, optional
        Image settings (defaults if omitted).
    seed : int, default 0
        Seed of the configurations, the particles drawn and their rotations.

    Returns
    -------
    X : ndarray of float32, shape (n_classes · per_class, C, P, P)
        Images (:func:`.diffraction.diffraction_images`).
    y : ndarray of str, shape (n_classes · per_class,)
        Class names.
    """
    if int(per_class) != per_class or per_class < 8:
        raise ValueError(f"per_class must be an integer >= 8, got {per_class!r}")
    settings = DiffractionSettings() if settings is None else settings
    rng = np.random.default_rng(seed)
    half = 1.1 * settings.radius  # region radius in nn units (length scale ≤ 1.03), with margin
    ratios = np.linspace(0.0, lindemann_max, 8)
    images, labels = [], []

    def draw(system, count: int, name: str) -> None:
        pick = np.sort(rng.choice(system.n_particles, size=min(count, system.n_particles),
                                  replace=False))
        vectors, valid = region_vectors(system, settings.radius, default_length_scale(system))
        images.append(pattern_from_vectors(vectors[pick], valid[pick], settings,
                                           random_rotations(len(pick), rng)))
        labels.append(np.full(len(pick), name))

    for kind in kinds:
        counts = np.diff(np.linspace(0, per_class, len(ratios) + 1).astype(int))
        for ratio, count in zip(ratios, counts):
            draw(lattice(kind, _cells(kind, half), lindemann=float(ratio), seed=rng), count, kind)
    density = {"fcc": np.sqrt(2.0), "bcc": 2.0 / (2.0 / np.sqrt(3.0)) ** 3}
    for k, rho in enumerate(density.values()):
        count = per_class // 2 + (k == 0) * (per_class % 2)
        n_liquid = max(count, int(np.ceil(rho * (2.2 * half) ** 3)))
        draw(liquid(n_liquid, float(rho), seed=rng), count, "liquid")
    return np.concatenate(images), np.concatenate(labels)


def train_shipped_cnn(path: str | Path = SHIPPED_CNN) -> DiffractionCNN:
    """Train with :data:`TRAINING_RECIPE` and write the weights file (minutes on 2 cores)."""
    X, y = diffraction_training_set(**TRAINING_RECIPE["diffraction_training_set"])
    model = DiffractionCNN(**TRAINING_RECIPE["DiffractionCNN"]).fit(X, y)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return model


def load_shipped_cnn() -> tuple[DiffractionCNN, DiffractionSettings]:
    """The shipped network (:data:`SHIPPED_CNN`) and the image settings it was trained on."""
    return DiffractionCNN.load(SHIPPED_CNN)


if __name__ == "__main__":  # pragma: no cover - regenerates the shipped weights
    trained = train_shipped_cnn()
    print(f"wrote {SHIPPED_CNN}: classes {list(trained.classes_)}, final loss "
          f"{trained.loss_curve_[-1]:.4f}")
