"""The trained classifiers that ship with matloop: saved as plain JSON, never pickled.

:data:`SHIPPED_MODELS` (``models/bond_order.json``, ~50 kB) holds a :class:`.supervised.BondOrderMLP`
and the :class:`.supervised.Q6Threshold` baseline (q6 over SANN neighbours), both trained by
:func:`train_shipped_models` on :func:`.supervised.synthetic_systems` with the settings of
:data:`RECIPE` (seed 0):
fcc, bcc and hcp at Lindemann ratios 0, 0.03, 0.06, 0.09, 0.12 and two relaxed-packing liquids,
4810 particles. Regenerate the file with::

    python -m engine.analysis.ordering.shipped_models

The file stores what prediction needs, as numbers: the feature standardisation (mean, scale),
the perceptron's weight matrices and biases (ReLU hidden layers, softmax output), the class
means, inverse covariances and novelty thresholds of the ``"other"`` test, and the baseline's
q6 thresholds; plus the recipe and library versions (provenance). :func:`load_shipped_models`
rebuilds the two classifiers from it with ``json`` and NumPy only; the perceptron's forward
pass is evaluated here (:class:`FrozenPerceptron`), equal to scikit-learn's to rounding.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .features import FEATURE_NAMES

__all__ = [
    "FORMAT", "RECIPE", "SHIPPED_MODELS", "FrozenPerceptron", "Standardiser",
    "load_shipped_models", "models_to_dict", "models_from_dict", "save_models",
    "train_shipped_models",
]

#: Identifier written into every saved file.
FORMAT = "matloop.ordering.bond-order-models"
_VERSION = 1

#: The shipped file.
SHIPPED_MODELS = Path(__file__).parent / "models" / "bond_order.json"

#: How the shipped models were trained (arguments of the two functions, and the seed).
RECIPE: dict[str, Any] = {
    "synthetic_training_set": {
        "lindemann": [0.0, 0.03, 0.06, 0.09, 0.12], "cells": 4, "liquid_particles": 500, "seed": 0,
    },
    "BondOrderMLP": {
        "hidden_layer_sizes": [32, 32], "alpha": 1e-4, "max_iter": 300,
        "novelty_quantile": 0.999, "random_state": 0,
    },
    "Q6Threshold": {"column": 0, "neighbors": "sann"},
}


class Standardiser:
    """Column standardisation ``(X − mean) / scale`` (a fitted ``StandardScaler``'s transform).

    Parameters
    ----------
    mean, scale : ndarray, shape (F,)
        Column means and standard deviations of the training features.
    """

    def __init__(self, mean: np.ndarray, scale: np.ndarray) -> None:
        self.mean_ = np.asarray(mean, dtype=float)
        self.scale_ = np.asarray(scale, dtype=float)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Standardised features, shape (N, F)."""
        return (np.asarray(X, dtype=float) - self.mean_) / self.scale_


class FrozenPerceptron:
    """Forward pass of a trained perceptron: ReLU hidden layers, softmax output.

    Parameters
    ----------
    weights : list of ndarray
        Layer matrices, shapes (F, H1), (H1, H2), …, (Hk, C).
    biases : list of ndarray
        Layer offsets, shapes (H1,), …, (C,).
    """

    def __init__(self, weights: list[np.ndarray], biases: list[np.ndarray]) -> None:
        self.coefs_ = [np.asarray(w, dtype=float) for w in weights]
        self.intercepts_ = [np.asarray(b, dtype=float) for b in biases]

    def predict_proba(self, Z: np.ndarray) -> np.ndarray:
        """Class probabilities of standardised features ``Z`` (N, F), shape (N, C)."""
        a = np.asarray(Z, dtype=float)
        for w, b in zip(self.coefs_[:-1], self.intercepts_[:-1]):
            a = np.maximum(a @ w + b, 0.0)
        logits = a @ self.coefs_[-1] + self.intercepts_[-1]
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)


def train_shipped_models(seed: int = 0) -> tuple[Any, Any]:
    """Train the MLP and the q6 baseline by :data:`RECIPE` (``seed`` replaces both seeds).

    Returns
    -------
    mlp : BondOrderMLP
    baseline : Q6Threshold
    """
    from .features import bond_order_features
    from .supervised import BondOrderMLP, Q6Threshold, synthetic_systems

    data = {**RECIPE["synthetic_training_set"], "seed": seed}
    systems = synthetic_systems(**data)  # the configurations of synthetic_training_set(**data)
    X = np.vstack([bond_order_features(s) for s in systems])
    y = np.concatenate([s.labels for s in systems])
    params = {**RECIPE["BondOrderMLP"], "random_state": seed}
    params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    baseline = Q6Threshold(**RECIPE["Q6Threshold"])
    baseline.fit(np.vstack([baseline.inputs(s) for s in systems]), y)
    return BondOrderMLP(**params).fit(X, y), baseline


def _list(a: np.ndarray) -> list:
    return np.asarray(a, dtype=float).tolist()


def models_to_dict(mlp: Any, baseline: Any, seed: int = 0) -> dict[str, Any]:
    """JSON-ready description of a fitted MLP and baseline (module notes)."""
    import sklearn

    net = mlp.mlp_
    if getattr(net, "activation", "relu") != "relu" or getattr(net, "out_activation_", "softmax") != "softmax":
        raise ValueError("only ReLU perceptrons with a softmax output (3 or more classes) can be saved")
    return {
        "format": FORMAT,
        "version": _VERSION,
        "provenance": {
            "trained_by": "engine.analysis.ordering.shipped_models.train_shipped_models",
            "regenerate": "python -m engine.analysis.ordering.shipped_models",
            "recipe": RECIPE, "seed": seed,
            "versions": {"numpy": np.__version__, "scikit-learn": sklearn.__version__},
        },
        "feature_names": list(FEATURE_NAMES),
        "mlp": {
            "params": {"hidden_layer_sizes": list(mlp.hidden_layer_sizes), "alpha": mlp.alpha,
                       "max_iter": mlp.max_iter, "novelty_quantile": mlp.novelty_quantile,
                       "random_state": mlp.random_state},
            "classes": [str(c) for c in mlp.classes_],
            "scaler_mean": _list(mlp.scaler_.mean_), "scaler_scale": _list(mlp.scaler_.scale_),
            "weights": [_list(w) for w in net.coefs_], "biases": [_list(b) for b in net.intercepts_],
            "class_means": _list(mlp.means_), "class_precisions": _list(mlp.precisions_),
            "thresholds": _list(mlp.thresholds_),
        },
        "q6_threshold": {"column": int(baseline.column), "neighbors": baseline.neighbors,
                         "classes": [str(c) for c in baseline.classes_], "thresholds": _list(baseline.thresholds_)},
    }


def _array(section: dict, key: str, shape: tuple[int | None, ...], where: str) -> np.ndarray:
    try:
        value = np.asarray(section[key], dtype=float)
    except KeyError:
        raise ValueError(f"{where}: missing entry {key!r}") from None
    except (TypeError, ValueError):
        raise ValueError(f"{where}: entry {key!r} must be an array of numbers") from None
    if value.ndim != len(shape) or any(s is not None and s != v for s, v in zip(shape, value.shape)):
        raise ValueError(f"{where}: entry {key!r} has shape {value.shape}, expected {shape}")
    if not np.isfinite(value).all():
        raise ValueError(f"{where}: entry {key!r} holds NaN or infinite numbers")
    return value


def models_from_dict(data: Any, where: str = "model file") -> tuple[Any, Any]:
    """Rebuild ``(BondOrderMLP, Q6Threshold)`` from :func:`models_to_dict`'s output.

    Raises
    ------
    ValueError
        Not a matloop bond-order model description, another version, or malformed arrays.
    """
    from .supervised import BondOrderMLP, Q6Threshold

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{where}: not a matloop bond-order model file (format {FORMAT!r})")
    if data.get("version") != _VERSION:
        raise ValueError(f"{where}: model file version {data.get('version')!r}, this matloop reads {_VERSION}")
    if data.get("feature_names") != list(FEATURE_NAMES):
        raise ValueError(f"{where}: the model was trained on other features than {', '.join(FEATURE_NAMES)}")
    try:
        m, b = data["mlp"], data["q6_threshold"]
        classes = np.asarray(m["classes"], dtype=str)
        params = dict(m["params"])
        params["hidden_layer_sizes"] = tuple(int(h) for h in params["hidden_layer_sizes"])
        mlp = BondOrderMLP(**params)
        sizes = [len(FEATURE_NAMES), *params["hidden_layer_sizes"], len(classes)]
        if len(m["weights"]) != len(sizes) - 1 or len(m["biases"]) != len(sizes) - 1:
            raise ValueError(f"{where}: {len(sizes) - 1} weight matrices and bias vectors expected")
        weights = [_array(m["weights"], k, (sizes[k], sizes[k + 1]), where) for k in range(len(sizes) - 1)]
        biases = [_array(m["biases"], k, (sizes[k + 1],), where) for k in range(len(sizes) - 1)]
        f, c = len(FEATURE_NAMES), len(classes)
        mlp.scaler_ = Standardiser(_array(m, "scaler_mean", (f,), where), _array(m, "scaler_scale", (f,), where))
        mlp.mlp_ = FrozenPerceptron(weights, biases)
        mlp.classes_ = classes
        mlp.means_ = _array(m, "class_means", (c, f), where)
        mlp.precisions_ = _array(m, "class_precisions", (c, f, f), where)
        mlp.thresholds_ = _array(m, "thresholds", (c,), where)
        neighbors = b.get("neighbors")  # absent in files of older matloop: q6 of the bond-order features
        if not (neighbors is None or neighbors in ("voronoi", "sann")
                or (isinstance(neighbors, int) and not isinstance(neighbors, bool) and neighbors >= 1)):
            raise ValueError(f"{where}: the q6 baseline's neighbours must be a count, 'voronoi' or 'sann', "
                             f"got {neighbors!r}")
        baseline = Q6Threshold(int(b["column"]), neighbors=neighbors)
        baseline.classes_ = np.asarray(b["classes"], dtype=str)
        baseline.thresholds_ = _array(b, "thresholds", (len(baseline.classes_) - 1,), where)
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"{where}: malformed model file ({type(exc).__name__}: {exc})") from None
    return mlp, baseline


def save_models(path: str | Path, mlp: Any, baseline: Any, seed: int = 0) -> Path:
    """Write the two classifiers as JSON (floats written exactly, by ``repr``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(models_to_dict(mlp, baseline, seed), separators=(",", ":")) + "\n")
    return path


def load_shipped_models(path: str | Path | None = None) -> tuple[Any, Any]:
    """The shipped (or another saved) ``(BondOrderMLP, Q6Threshold)``, read with ``json``.

    Parameters
    ----------
    path : str or Path, optional
        A file written by :func:`save_models`; default :data:`SHIPPED_MODELS`.

    Raises
    ------
    ValueError
        Missing, unreadable or malformed file.
    """
    path = SHIPPED_MODELS if path is None else Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ValueError(f"cannot read the model file {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a JSON model file ({exc})") from None
    return models_from_dict(data, str(path))


def main(argv: list[str] | None = None) -> int:
    """Retrain by :data:`RECIPE` and rewrite the shipped file (or the path given)."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else SHIPPED_MODELS
    mlp, baseline = train_shipped_models(0)
    path = save_models(target, mlp, baseline, 0)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB): classes {', '.join(mlp.classes_)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
