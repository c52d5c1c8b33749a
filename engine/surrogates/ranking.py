"""Models in use: rank random candidate plates with a registered grid surrogate.

Candidates are drawn in fixed chunks of :data:`CHUNK` designs from one seeded generator (so a
seed gives the same candidates on every machine), scored chunk by chunk with the model's
batched inference on the CPU, and only the best ``k`` distinct designs are kept: 100 000 8×8
candidates need a few megabytes. The direction comes from the fracture metric table (a larger
toughness is better, a smaller G/σ² is better); a good/bad classifier's score is the
probability of the top half of the target, so the same direction applies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from designs.checkerboard import Checkerboard
from engine.evaluators.fracture import FRACTURE_METRICS
from engine.store import Store
from engine.surrogates.ensemble import SurrogateEnsemble
from engine.surrogates.registry import load_surrogate

__all__ = ["CHUNK", "MAX_CANDIDATES", "Ranking", "grid_shape", "load_registered_model", "model_summary",
           "model_options", "random_plate_grids", "rank_grids", "rank_random_plates", "target_direction"]

#: Candidates generated and scored at a time (fixed: the same seed gives the same candidates anywhere).
CHUNK = 8192
#: Most candidates one ranking draws.
MAX_CANDIDATES = 1_000_000


@dataclass(frozen=True)
class Ranking:
    """The best ``k`` distinct candidates, best first.

    Attributes
    ----------
    indices : numpy.ndarray, shape (k,)
        Position of each in the candidate stream (see :func:`random_plate_grids`).
    grids : numpy.ndarray, shape (k, rows, columns)
        Block grids (0 soft, 1 stiff; row 0 at the bottom).
    scores : numpy.ndarray, shape (k,)
        The model's ranking score (regressor: predicted target in its unit; classifier: P(good)).
    spread : numpy.ndarray or None
        Standard deviation of the score across ensemble members (None for a single model).
    n_candidates : int
        Candidates scored.
    larger_is_better : bool
        Direction of the ranking.
    """

    indices: np.ndarray
    grids: np.ndarray
    scores: np.ndarray
    spread: np.ndarray | None
    n_candidates: int
    larger_is_better: bool

    def designs(self) -> list[Checkerboard]:
        """The ranked candidates as checkerboard designs, best first."""
        return [Checkerboard.from_array(grid) for grid in self.grids]


def target_direction(target: str) -> bool:
    """Whether a larger value of fracture metric ``target`` is better (the metric table's word).

    Raises
    ------
    ValueError
        Unknown metric, or one that is no objective (a diagnostic such as a mesh size).
    """
    for metric in FRACTURE_METRICS:
        if metric.name == target:
            if metric.larger_is_better is None:
                raise ValueError(f"{target!r} is not an objective (no better direction); a model cannot rank by it")
            return metric.larger_is_better
    raise ValueError(f"unknown fracture metric {target!r}; known: {', '.join(m.name for m in FRACTURE_METRICS)}")


def grid_shape(model: Any) -> tuple[int, int]:
    """Grid ``(rows, columns)`` a grid surrogate (or an ensemble of them) was trained on."""
    member = model.members_[0] if isinstance(model, SurrogateEnsemble) else model
    shape = getattr(member, "grid_shape_", None)
    if shape is None:
        raise ValueError(f"a {type(member).__name__} is not a grid model: it cannot rank plates")
    return int(shape[0]), int(shape[1])


def load_registered_model(store: Store, model_id: int) -> tuple[Any, dict[str, Any]]:
    """Load registered model ``model_id`` on the CPU (weights only), with its store record.

    Raises
    ------
    ValueError
        No such model, its file is missing, or the file changed since it was registered.
    """
    record = next((m for m in store.models() if int(m["id"]) == int(model_id)), None)
    if record is None:
        raise ValueError(f"no registered model with id {model_id}")
    path = Path(record["path"])
    if not path.is_file():
        raise ValueError(f"the file of model {model_id} is missing: {path}")
    if hashlib.sha256(path.read_bytes()).hexdigest() != record["weights_hash"]:
        raise ValueError(f"the file of model {model_id} changed since it was registered: {path}")
    return load_surrogate(path, device="cpu"), record


def model_options(record: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Fidelity and ``PlateSetup`` options of the labels a registered model was trained on.

    The options are the stored solver settings less the materials (the default palette); the
    caller checks that they rebuild the stored key (see :func:`model_summary`).
    """
    key = record["metrics"].get("solver_key") or {}
    settings = dict(key.get("settings") or {})
    settings.pop("materials", None)
    return str(key.get("fidelity") or record["metrics"].get("fidelity")), settings


def model_summary(record: Mapping[str, Any], model: Any = None) -> dict[str, Any]:
    """One row of the models table: what a registered model was trained on and how well it ranks.

    ``model`` (loaded) adds the grid size; otherwise it is None.
    """
    metrics = record["metrics"]
    key = metrics.get("solver_key") or {}
    settings = key.get("settings") or {}
    grid = None
    if model is not None:
        try:
            grid = "{}×{}".format(*grid_shape(model))
        except ValueError:
            grid = None
    n = [metrics.get("n_train"), metrics.get("n_test")]
    return {"id": int(record["id"]), "name": record["name"], "kind": record["kind"],
            "target": metrics.get("target"), "task": metrics.get("task"),
            "fidelity": key.get("fidelity") or metrics.get("fidelity"), "mode": settings.get("mode"),
            "plane": settings.get("plane"), "grid": grid,
            "labels": sum(v for v in n if isinstance(v, int)) if any(isinstance(v, int) for v in n) else None,
            "soft fraction (trained)": ("{:.2f}–{:.2f}".format(*metrics["soft_fraction_range"])
                                        if metrics.get("soft_fraction_range") else None),
            "spearman (held out)": metrics.get("spearman_test"), "R² (held out)": metrics.get("r2_test"),
            "accuracy (held out)": metrics.get("accuracy_test"), "created_at": record.get("created_at")}


def _chunks(n: int, rows: int, columns: int, soft_fraction: float, seed: int) -> Iterator[np.ndarray]:
    """The candidate stream in chunks of :data:`CHUNK`: each grid has exactly round(f·cells) soft blocks."""
    if not 1 <= int(n) <= MAX_CANDIDATES:
        raise ValueError(f"the number of candidates must be in 1..{MAX_CANDIDATES}, got {n}")
    if int(rows) < 2 or int(columns) < 2:
        raise ValueError(f"grid size must be at least 2×2, got {rows}×{columns}")
    if not np.isfinite(soft_fraction) or not 0.0 <= soft_fraction <= 1.0:
        raise ValueError(f"soft_fraction must lie in [0, 1], got {soft_fraction!r}")
    if int(seed) < 0:
        raise ValueError(f"the seed must be a non-negative integer, got {seed}")
    rng = np.random.default_rng(int(seed))
    cells = int(rows) * int(columns)
    n_soft = int(round(soft_fraction * cells))
    for start in range(0, int(n), CHUNK):
        m = min(CHUNK, int(n) - start)
        soft = np.argsort(rng.random((m, cells)), axis=1)[:, :n_soft]  # a uniform random subset per design
        grids = np.ones((m, cells), dtype=np.uint8)
        np.put_along_axis(grids, soft, 0, axis=1)
        yield grids.reshape(m, int(rows), int(columns))


def random_plate_grids(n: int, rows: int, columns: int, soft_fraction: float = 0.5, seed: int = 0) -> np.ndarray:
    """All ``n`` candidates of the stream :func:`rank_random_plates` ranks, shape (n, rows, columns), uint8."""
    return np.concatenate(list(_chunks(n, rows, columns, soft_fraction, seed)))


def _scores(model: Any, grids: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    if isinstance(model, SurrogateEnsemble):
        mean, spread = model.rank_scores(grids, return_std=True)
        return np.asarray(mean, dtype=float), np.asarray(spread, dtype=float)
    return np.asarray(model.rank_scores(grids), dtype=float), None


def rank_grids(model: Any, chunks: Iterator[np.ndarray], k: int, larger_is_better: bool) -> Ranking:
    """Keep the best ``k`` distinct grids of a stream of chunks, scored by ``model.rank_scores``.

    Ties are broken by stream position (earlier first); a design that occurs twice is kept once,
    at its best place.
    """
    if int(k) < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    best: tuple[np.ndarray, ...] | None = None
    seen = 0
    ensemble = isinstance(model, SurrogateEnsemble)
    for grids in chunks:
        scores, spread = _scores(model, grids)
        if spread is None:
            spread = np.zeros_like(scores)
        part = (np.arange(seen, seen + len(grids)), grids, scores, spread)
        seen += len(grids)
        if best is not None:
            part = tuple(np.concatenate([a, b]) for a, b in zip(best, part))
        index, grid, score, sd = part
        order = np.lexsort((index, -score if larger_is_better else score))
        flat = grid[order].reshape(len(order), -1)
        _, first = np.unique(flat, axis=0, return_index=True)
        keep = order[np.sort(first)[:int(k)]]
        best = (index[keep], grid[keep], score[keep], sd[keep])
    if best is None:
        raise ValueError("no candidates to rank")
    return Ranking(best[0], best[1], best[2], best[3] if ensemble else None, seen, larger_is_better)


def rank_random_plates(model: Any, n: int, k: int, larger_is_better: bool, soft_fraction: float = 0.5,
                       seed: int = 0, grid: tuple[int, int] | None = None) -> Ranking:
    """Rank ``n`` seeded random checkerboards of the model's grid size; keep the best ``k`` distinct ones.

    Parameters
    ----------
    model : grid surrogate or SurrogateEnsemble of them
        Fitted; its ``rank_scores`` is the ranking score.
    n : int
        Candidates, 1 to :data:`MAX_CANDIDATES`.
    k : int
        Designs kept (at most ``n``).
    larger_is_better : bool
        Direction (see :func:`target_direction`).
    soft_fraction : float
        Exact share of soft blocks of each candidate.
    seed : int
        Seed of the candidate stream (:func:`random_plate_grids` gives the same candidates).
    grid : (rows, columns), optional
        Grid size asked for; refused unless it is the model's.

    Raises
    ------
    ValueError
        A grid size the model was not trained on, or a value out of range.
    """
    rows, columns = grid_shape(model)
    if grid is not None and tuple(int(v) for v in grid) != (rows, columns):
        raise ValueError(f"the model was trained on {rows}×{columns} plates; it cannot rank "
                         f"{grid[0]}×{grid[1]} designs (train a model on labels of that grid size)")
    if not 1 <= int(k) <= int(n):
        raise ValueError(f"k must be in 1..{n} (the number of candidates), got {k}")
    return rank_grids(model, _chunks(n, rows, columns, soft_fraction, seed), k, larger_is_better)
