"""Train grid surrogates on labels from the store and register them.

A data set is every ``ok`` label of one fracture solver set-up whose metric ``target`` is a
number, joined with its design grid. The split into training and held-out designs is seeded;
held-out metrics (Spearman rank correlation, R² or good/bad accuracy) are stored with the
model so the app can compare models without retraining.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import r2_score

from designs.registry import design_from_record
from engine.evaluators.fracture import FRACTURE_SPACES, FractureEvaluator, check_phases_used
from engine.runtime.jobs import JobContext
from engine.store import SolverKey, Store
from engine.store.migration_v3 import METRIC_RENAMES
from engine.surrogates.grid import (
    GridCNNClassifier,
    GridCNNRegressor,
    GridLinearClassifier,
    GridLinearRegressor,
    good_bad_labels,
)

__all__ = ["GRID_MODELS", "MIN_TEST", "MIN_TRAIN", "TASKS", "GridDataset", "TrainingReport", "check_split",
           "grid_dataset", "soft_fraction_range", "train_grid_surrogate", "train_grid_job"]

#: (model, task) → estimator class.
GRID_MODELS = {
    ("cnn", "regression"): GridCNNRegressor,
    ("linear", "regression"): GridLinearRegressor,
    ("cnn", "good-bad"): GridCNNClassifier,
    ("linear", "good-bad"): GridLinearClassifier,
}
#: Learning tasks: regression of the metric, or top-half (good) vs bottom-half (bad).
TASKS = ("regression", "good-bad")


@dataclass(frozen=True)
class GridDataset:
    """Design grids (n, rows, columns) of block indices, targets (n,) and design hashes."""

    grids: np.ndarray
    targets: np.ndarray
    hashes: tuple[str, ...]


@dataclass(frozen=True)
class TrainingReport:
    """A trained, saved and registered model with its held-out evaluation."""

    model_id: int
    path: Path
    metrics: dict[str, Any]
    history: list[dict[str, float]]
    y_test: np.ndarray
    score_test: np.ndarray


def grid_dataset(store: Store, key: SolverKey, target: str) -> GridDataset:
    """Join the ``ok`` labels of ``key`` that have a numeric ``target`` with their grids.

    Raises
    ------
    ValueError
        No usable label, or designs of several grid shapes (train one shape at a time).
    """
    grids, targets, hashes = [], [], []
    for label in store.labels(key, status="ok"):
        value = label.metrics.get(target)
        if not isinstance(value, (int, float)) or not np.isfinite(value):
            continue
        space, genome = store.get_design(label.design_hash)
        if space not in FRACTURE_SPACES:
            continue
        design = design_from_record(space, genome)
        grid = design.as_array() if space == "checkerboard" else design.expand().as_array()
        grids.append(grid)
        targets.append(float(value))
        hashes.append(label.design_hash)
    if not grids:
        raise ValueError(
            f"the store has no ok labels with a numeric {target!r} for solver {key.name} at fidelity "
            f"{key.fidelity} with these settings; label designs first ('matloop label')"
        )
    shapes = Counter(g.shape for g in grids)
    if len(shapes) > 1:
        raise ValueError(f"labelled designs have several grid shapes {dict(shapes)}; train one shape at a time")
    return GridDataset(np.stack(grids), np.asarray(targets), tuple(hashes))


def _check_target(evaluator: FractureEvaluator, target: str) -> None:
    """``ValueError`` unless ``target`` is a metric of the evaluator (naming renamed metrics)."""
    if target in METRIC_RENAMES:
        raise ValueError(f"the metric {target!r} is now called {METRIC_RENAMES[target]!r}")
    evaluator.metric(target)


def soft_fraction_range(grids: np.ndarray) -> list[float]:
    """``[least, largest]`` share of soft blocks (block type 0, the first of the palette) of grids
    ``(n, rows, columns)``: where a model trained on them interpolates (ranking outside it extrapolates)."""
    shares = (np.asarray(grids) == 0).mean(axis=(1, 2))
    return [float(shares.min()), float(shares.max())]


#: Fewest designs a surrogate trains on, and fewest it is scored on.
MIN_TRAIN, MIN_TEST = 10, 5


def check_split(n: int, test_fraction: float) -> int:
    """The number of held-out designs of ``n`` labelled ones at ``test_fraction``.

    Raises
    ------
    ValueError
        Fewer than :data:`MIN_TRAIN` designs left to train on or :data:`MIN_TEST` held out; the message
        says how many labels this share needs.
    """
    n_test = int(round(test_fraction * n))
    if n - n_test < MIN_TRAIN or n_test < MIN_TEST:
        needed = next(m for m in range(MIN_TRAIN + MIN_TEST, 100 * (MIN_TRAIN + MIN_TEST))
                      if m - int(round(test_fraction * m)) >= MIN_TRAIN and int(round(test_fraction * m)) >= MIN_TEST)
        fewest = MIN_TRAIN + MIN_TEST
        raise ValueError(f"only {n} labelled designs: a held-out share of {test_fraction:g} needs at least {needed} "
                         f"({MIN_TRAIN} to train on, {MIN_TEST} held out; {fewest} at a share of 0.35); label more "
                         "designs")
    return n_test


def _check_phases_labelled(store: Store, evaluator: FractureEvaluator) -> None:
    """:func:`check_phases_used` against the designs that ``evaluator``'s solver labelled at its fidelity
    under any settings: ``ValueError`` naming a phase none of them has."""
    key = evaluator.key()
    hashes = {label.design_hash for label in store.labels() if label.solver == key.name
              and label.fidelity == key.fidelity}
    check_phases_used(evaluator.setup, [design_from_record(r.space, r.genome) for r in store.designs(hashes=hashes)
                                        if r.space in FRACTURE_SPACES])


def train_grid_surrogate(
    store: Store,
    *,
    fidelity: str,
    options: Mapping[str, Any],
    target: str,
    model: str = "cnn",
    task: str = "regression",
    test_fraction: float = 0.2,
    max_epochs: int = 300,
    random_state: int = 0,
    device: str = "auto",
    callback: Callable[[dict[str, float]], None] | None = None,
) -> TrainingReport:
    """Train a grid surrogate on stored fracture labels, evaluate it on held-out designs, register it.

    Parameters
    ----------
    store : Store
        Store holding the labels; the model file goes to ``<store dir>/models/``.
    fidelity, options
        Fracture solver set-up whose labels to use (see :func:`engine.evaluators.fracture.fracture_key`).
    target : str
        Metric to learn, e.g. ``"toughness"`` (MPa), ``"strength"`` (MPa), ``"stiffness"`` (MPa).
    model : {"cnn", "linear"}
    task : {"regression", "good-bad"}
    test_fraction : float
        Share of designs held out for evaluation, in (0, 0.9].
    max_epochs, random_state, device
        Passed to the estimator.
    callback : callable, optional
        Called with each epoch's record (``epoch``, ``train_loss``, ``val_loss``, ...).
    """
    if (model, task) not in GRID_MODELS:
        raise ValueError(f"unknown model/task {model!r}/{task!r}; models: cnn, linear; tasks: {', '.join(TASKS)}")
    if not 0 < test_fraction <= 0.9:
        raise ValueError(f"test_fraction must lie in (0, 0.9], got {test_fraction}")
    evaluator = FractureEvaluator.from_options(fidelity, options)
    _check_target(evaluator, target)
    key = evaluator.key()
    try:
        data = grid_dataset(store, key, target)
    except ValueError:
        _check_phases_labelled(store, evaluator)  # a misspelt phase explains it better than "no labels"
        raise
    n = len(data.targets)
    n_test = check_split(n, test_fraction)
    order = np.random.default_rng(random_state).permutation(n)
    test, train = order[:n_test], order[n_test:]
    y = data.targets if task == "regression" else good_bad_labels(data.targets)
    estimator = GRID_MODELS[(model, task)](max_epochs=max_epochs, random_state=random_state, device=device)
    estimator.fit(data.grids[train], y[train], callback=callback)
    score = estimator.rank_scores(data.grids[test])
    metrics: dict[str, Any] = {
        "target": target, "task": task, "model": model, "fidelity": fidelity, "n_train": int(len(train)),
        "n_test": int(n_test), "spearman_test": float(spearmanr(score, data.targets[test]).statistic),
        "epochs": int(estimator.n_epochs_), "fit_seconds": float(estimator.fit_time_s_),
        "soft_fraction_range": soft_fraction_range(data.grids[train]),
    }
    if task == "regression":
        metrics["r2_test"] = float(r2_score(data.targets[test], score))
    else:
        metrics["accuracy_test"] = float(np.mean(estimator.predict(data.grids[test]) == y[test]))
    directory = store.path.parent / "models"
    directory.mkdir(exist_ok=True)
    path = estimator.save(directory / f"{model}-{task}-{target}-{time.strftime('%Y%m%d-%H%M%S')}-{random_state}.pt")
    model_id = store.register_model(f"{model} {task} {target}", type(estimator).__name__, path,
                                    {**metrics, "solver_key": {"name": key.name, "version": key.version,
                                                                "fidelity": key.fidelity, "config_hash": key.config_hash,
                                                                "settings": dict(key.config)}})
    return TrainingReport(model_id, Path(path), metrics, list(estimator.history_), data.targets[test], score)


def train_grid_job(ctx: JobContext, fidelity: str, options: Mapping[str, Any], target: str, model: str = "cnn",
                   task: str = "regression", test_fraction: float = 0.2, max_epochs: int = 300,
                   random_state: int = 0) -> dict[str, Any]:
    """Background job: :func:`train_grid_surrogate`, with one progress report per epoch."""
    def on_epoch(record: dict[str, float]) -> None:
        ctx.progress(min(0.99, record["epoch"] / max_epochs),
                     f"epoch {int(record['epoch'])}: train loss {record['train_loss']:.4g}, "
                     f"validation loss {record['val_loss']:.4g}")

    report = train_grid_surrogate(ctx.store, fidelity=fidelity, options=options, target=target, model=model,
                                  task=task, test_fraction=test_fraction, max_epochs=max_epochs,
                                  random_state=random_state, callback=on_epoch)
    return {"model_id": report.model_id, "path": str(report.path), "metrics": report.metrics,
            "history": report.history, "y_test": report.y_test.tolist(), "score_test": report.score_test.tolist()}
