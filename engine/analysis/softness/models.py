"""Linear models on structure functions: SVM softness and ridge regression of propensity.

* **Softness** (Cubuk et al., Phys. Rev. Lett. 114, 108001 (2015); Schoenholz et al., Nat. Phys.
  12, 469 (2016)): a linear support-vector machine separates particles about to rearrange from
  particles that stay; a particle's softness S is its signed distance to the hyperplane in the
  standardised descriptor space, ``S = (w·z + b) / |w|`` (S > 0: on the rearranging side).
  Training set here, from propensity (:mod:`.isoconfig`): in each configuration, particles of
  the model's species at or above the ``rearranging_quantile`` (default 0.9: the top 10 %) are
  "rearranging", those at or below ``stable_quantile`` (default the median) "not rearranging";
  the larger set is subsampled to the size of the smaller (balanced, seeded), and scikit-learn's
  ``LinearSVC`` (squared hinge, C = ``C``) fits the plane. Measured on the Kob–Andersen test
  configurations (descriptors of :mod:`.descriptors`): C = 0.001 / 0.01 / 0.1 gave Pearson
  0.488 / 0.500 / 0.511 with propensity; taking the bottom 90 % as "not rearranging" changed it
  by < 0.005. From trajectories (:func:`train_softness_from_labels`), the classes are the p_hop
  labels of :mod:`.labels` instead (Cubuk et al.'s own training set).
* **Ridge regression** of propensity on the standardised descriptors (``RidgeCV``, α by
  leave-one-out over ``alphas``), the structure-function regression of Bapst et al., Nat. Phys.
  16, 448 (2020) and the BOTAN release.

Both keep the standardisation and the plane with the model, describe one species (the
published models are for A particles; other particles predict NaN) and one dimension, and are
stored as JSON (numbers and strings only; never pickled).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.svm import LinearSVC

from ..ordering.systems import ParticleSystem
from .descriptors import SoftnessDescriptors
from .isoconfig import GlassSample

__all__ = ["LinearGlassModel", "describe_samples", "train_softness", "train_softness_from_labels",
           "train_propensity_ridge", "load_model"]

FORMAT = "matloop-glass-linear-model"


@dataclass(frozen=True, eq=False)
class LinearGlassModel:
    """A linear model of standardised descriptors (module notes).

    Attributes
    ----------
    kind : {"softness", "propensity"}
        SVM softness (signed distance, descriptor-space units) or ridge propensity (length units).
    descriptors : SoftnessDescriptors
    species : str
        Species the model describes.
    dim : int
        Spatial dimension of its training data.
    mean, scale : ndarray, shape (F,)
        Standardisation of the descriptors.
    coef : ndarray, shape (F,)
    intercept : float
    details : dict
        Training record (configurations, sizes, hyperparameters, seconds).
    """

    kind: Literal["softness", "propensity"]
    descriptors: SoftnessDescriptors
    species: str
    dim: int
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    details: dict

    def predict(self, system: ParticleSystem, X: np.ndarray | None = None) -> np.ndarray:
        """Softness or propensity of each particle, shape (N,); NaN for other species.

        ``X`` may pass the system's precomputed descriptors (``descriptors.describe(system)``).

        Raises
        ------
        ValueError
            A system of another dimension, or descriptors of the wrong shape.
        """
        if system.dim != self.dim:
            raise ValueError(f"this model was trained on {self.dim}D configurations; the system is {system.dim}D "
                             "(structure functions of 2D and 3D packings are not comparable): train a "
                             f"{system.dim}D model")
        X = self.descriptors.describe(system) if X is None else np.asarray(X, dtype=float)
        if X.shape != (system.n_particles, len(self.coef)):
            raise ValueError(f"descriptors must have shape ({system.n_particles}, {len(self.coef)}), got {X.shape}")
        out = np.full(system.n_particles, np.nan)
        mine = system.species == self.species
        out[mine] = ((X[mine] - self.mean) / self.scale) @ self.coef + self.intercept
        return out

    def save(self, path: str | Path) -> Path:
        """Write the model as JSON; returns the path."""
        record = {
            "format": FORMAT, "kind": self.kind, "species": self.species, "dim": self.dim,
            "descriptors": self.descriptors.to_record(),
            "mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
            "intercept": self.intercept, "details": self.details,
        }
        path = Path(path)
        path.write_text(json.dumps(record))
        return path


def load_model(path: str | Path) -> LinearGlassModel:
    """Read a model written by :meth:`LinearGlassModel.save`.

    Raises
    ------
    ValueError
        Not such a model file, or inconsistent sizes.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name}: not a model file ({exc})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"{path.name}: not a matloop glass model (format {FORMAT!r} expected)")
    missing = [k for k in ("kind", "species", "dim", "descriptors", "mean", "scale", "coef", "intercept", "details")
               if k not in record]
    if missing:
        raise ValueError(f"{path.name}: damaged model file: missing {', '.join(missing)}")
    try:
        if not isinstance(record["descriptors"], dict) or not isinstance(record["descriptors"].get("log_transform"),
                                                                         bool):
            raise TypeError("descriptors must be a record with log_transform true or false")
        descriptors = SoftnessDescriptors.from_record(record["descriptors"])
        arrays = [np.asarray(record[k], dtype=float) for k in ("mean", "scale", "coef")]
        intercept = float(record["intercept"])
    except KeyError as exc:
        raise ValueError(f"{path.name}: damaged model file: descriptors lack {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path.name}: damaged model file ({exc})") from None
    if record["kind"] not in ("softness", "propensity"):
        raise ValueError(f"{path.name}: kind must be 'softness' or 'propensity', got {record['kind']!r}")
    if record["dim"] not in (2, 3) or not isinstance(record["species"], str) or not isinstance(record["details"], dict):
        raise ValueError(f"{path.name}: damaged model file (dim must be 2 or 3, species a name, details a record)")
    if any(a.shape != (descriptors.n_features,) for a in arrays):
        raise ValueError(f"{path.name}: coefficient arrays do not match the {descriptors.n_features} descriptors")
    if not (all(np.isfinite(a).all() for a in arrays) and np.isfinite(intercept) and (arrays[1] > 0).all()):
        raise ValueError(f"{path.name}: damaged model file: mean, scale, coef and intercept must be finite numbers "
                         "and every scale > 0")
    return LinearGlassModel(record["kind"], descriptors, record["species"], record["dim"], *arrays, intercept,
                            record["details"])


def describe_samples(samples: list[GlassSample], descriptors: SoftnessDescriptors) -> list[np.ndarray]:
    """Descriptor matrices of each sample's system."""
    return [descriptors.describe(s.system) for s in samples]


def training_rows(samples: list[GlassSample], features: list[np.ndarray] | None,
                  descriptors: SoftnessDescriptors, species: str) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    """Descriptor rows and propensities of ``species`` in each sample, and the samples' dimension.

    Raises
    ------
    ValueError
        No samples, a sample without propensity or without particles of ``species``, mixed dimensions.
    """
    if not samples:
        raise ValueError("no training configurations given")
    if any(s.propensity is None for s in samples):
        raise ValueError("every training configuration needs a propensity")
    dims = {s.system.dim for s in samples}
    if len(dims) != 1:
        raise ValueError(f"training configurations mix dimensions {sorted(dims)}; use one")
    features = describe_samples(samples, descriptors) if features is None else features
    X, y = [], []
    for sample, F in zip(samples, features):
        mine = sample.system.species == species
        if not mine.any():
            raise ValueError(f"a training configuration has no particle of species {species!r}")
        X.append(np.asarray(F, dtype=float)[mine])
        y.append(np.asarray(sample.propensity, dtype=float)[mine])
    return X, y, dims.pop()


def _standardisation(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = X.std(axis=0)
    return X.mean(axis=0), np.where(scale > 0, scale, 1.0)


def train_softness(samples: list[GlassSample], *, descriptors: SoftnessDescriptors | None = None,
                   features: list[np.ndarray] | None = None, species: str = "A",
                   rearranging_quantile: float = 0.9, stable_quantile: float = 0.5, C: float = 0.01,
                   seed: int = 0) -> LinearGlassModel:
    """Linear-SVM softness from configurations with propensity (module notes).

    Parameters
    ----------
    samples : list of GlassSample
        Training configurations, each with ``propensity``.
    descriptors : SoftnessDescriptors, optional
        Default recipe of :mod:`.descriptors`.
    features : list of ndarray, optional
        The samples' precomputed descriptor matrices (same recipe).
    species : str, default "A"
    rearranging_quantile, stable_quantile : float
        Per-configuration propensity quantiles of the two classes (0 < stable < rearranging < 1).
    C : float, default 0.01
        SVM regularisation (> 0).
    seed : int, default 0
        Seed of the balancing subsample.

    Raises
    ------
    ValueError
        Missing propensity, mixed dimensions, no particle of ``species``, or bad quantiles or C.
    """
    if not 0 < stable_quantile < rearranging_quantile < 1:
        raise ValueError("quantiles must satisfy 0 < stable_quantile < rearranging_quantile < 1, got "
                         f"{stable_quantile!r} and {rearranging_quantile!r}")
    _check_C(C)
    descriptors = descriptors or SoftnessDescriptors()
    X, y, dim = training_rows(samples, features, descriptors, species)
    soft = [Xc[yc >= np.quantile(yc, rearranging_quantile)] for Xc, yc in zip(X, y)]
    stable = [Xc[yc <= np.quantile(yc, stable_quantile)] for Xc, yc in zip(X, y)]
    details = {"configurations": len(samples), "C": C, "rearranging_quantile": rearranging_quantile,
               "stable_quantile": stable_quantile, "seed": seed}
    return _fit_plane(X, soft, stable, C, seed, descriptors, species, dim, details)


def _check_C(C: float) -> None:
    if not C > 0:
        raise ValueError(f"C must be > 0, got {C!r}")


def _fit_plane(X: list[np.ndarray], soft: list[np.ndarray], stable: list[np.ndarray], C: float, seed: int,
               descriptors: SoftnessDescriptors, species: str, dim: int, details: dict) -> LinearGlassModel:
    """Standardise on all rows ``X``, balance the two classes (seeded subsample), fit the plane."""
    mean, scale = _standardisation(np.vstack(X))
    soft, stable = np.vstack(soft), np.vstack(stable)
    n = min(len(soft), len(stable))
    if n == 0:
        raise ValueError(f"no training particles: {len(soft)} rearranging and {len(stable)} not rearranging "
                         f"particles of species {species!r}; both classes are needed")
    rng = np.random.default_rng(seed)
    soft, stable = soft[rng.choice(len(soft), n, replace=False)], stable[rng.choice(len(stable), n, replace=False)]
    Z = (np.vstack([soft, stable]) - mean) / scale
    svm = LinearSVC(C=C, max_iter=50_000, random_state=seed).fit(Z, np.r_[np.ones(n), np.zeros(n)])
    norm = float(np.linalg.norm(svm.coef_))
    details = {**details, "training_particles": 2 * n}
    return LinearGlassModel("softness", descriptors, species, dim, mean, scale, svm.coef_[0] / norm,
                            float(svm.intercept_[0]) / norm, details)


def train_softness_from_labels(systems: list[ParticleSystem], labels: list[np.ndarray], *,
                               descriptors: SoftnessDescriptors | None = None,
                               features: list[np.ndarray] | None = None, species: str = "A", C: float = 0.01,
                               seed: int = 0) -> LinearGlassModel:
    """Linear-SVM softness from configurations whose particles are labelled by their dynamics.

    The labels come from trajectories (:func:`.labels.hop_labels`: 1 rearranging at that frame, 0
    not rearranging, −1 unlabelled), Cubuk et al. 2015's training set; the plane is fitted as in
    :func:`train_softness` (standardisation on all particles of ``species``, balanced classes).

    Parameters
    ----------
    systems : list of ParticleSystem
        Configurations (e.g. frames of trajectories), one dimension.
    labels : list of ndarray of int, shape (N,) each
    descriptors, features, species, C, seed
        As :func:`train_softness`.

    Raises
    ------
    ValueError
        No systems, mixed dimensions, labels of the wrong length, no particle of ``species``, an
        empty class, or C ≤ 0.
    """
    _check_C(C)
    if not systems or len(systems) != len(labels):
        raise ValueError(f"give one label array per configuration (got {len(systems)} configurations and "
                         f"{len(labels)} label arrays)")
    dims = {s.dim for s in systems}
    if len(dims) != 1:
        raise ValueError(f"training configurations mix dimensions {sorted(dims)}; use one")
    descriptors = descriptors or SoftnessDescriptors()
    features = [descriptors.describe(s) for s in systems] if features is None else features
    X, soft, stable = [], [], []
    for system, F, y in zip(systems, features, labels):
        y = np.asarray(y)
        if y.shape != (system.n_particles,):
            raise ValueError(f"labels must have shape ({system.n_particles},), got {y.shape}")
        mine = system.species == species
        if not mine.any():
            raise ValueError(f"a training configuration has no particle of species {species!r}")
        F = np.asarray(F, dtype=float)
        X.append(F[mine])
        soft.append(F[mine & (y == 1)])
        stable.append(F[mine & (y == 0)])
    details = {"configurations": len(systems), "labels": "p_hop", "C": C, "seed": seed}
    return _fit_plane(X, soft, stable, C, seed, descriptors, species, dims.pop(), details)


def train_propensity_ridge(samples: list[GlassSample], *, descriptors: SoftnessDescriptors | None = None,
                           features: list[np.ndarray] | None = None, species: str = "A",
                           alphas: np.ndarray | None = None) -> LinearGlassModel:
    """Ridge regression of propensity on standardised descriptors (module notes).

    ``alphas`` (default 10^-4 … 10^4) are scored by leave-one-out; the rest as :func:`train_softness`.
    """
    descriptors = descriptors or SoftnessDescriptors()
    X, y, dim = training_rows(samples, features, descriptors, species)
    X, y = np.vstack(X), np.concatenate(y)
    mean, scale = _standardisation(X)
    alphas = np.logspace(-4, 4, 17) if alphas is None else np.asarray(alphas, dtype=float)
    ridge = RidgeCV(alphas=alphas).fit((X - mean) / scale, y)
    details = {"configurations": len(samples), "training_particles": len(y), "alpha": float(ridge.alpha_)}
    return LinearGlassModel("propensity", descriptors, species, dim, mean, scale, np.asarray(ridge.coef_, dtype=float),
                            float(ridge.intercept_), details)
