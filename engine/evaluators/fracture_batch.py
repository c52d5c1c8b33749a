"""Batch labelling of plates as one background job: given designs or N random ones, through the executor.

The job (kind ``"label-batch"``) and ``matloop label`` share :func:`random_plates` and
:func:`~engine.evaluators.fracture.label_fracture_batch`: designs already labelled under the
set-up are skipped, each label is stored as it finishes, and a cancel stops the batch between
designs and, through :class:`~engine.evaluators.labelling.CancellableCall`, inside the solver
runs in flight (the executor's workers read the cancel flag from the store).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from designs.base import Design
from designs.checkerboard import Checkerboard
from designs.hierarchical import Hierarchical
from designs.registry import design_from_record
from engine.evaluators.fracture import FAILURE_METRICS, FRACTURE_SPACES, FractureEvaluator, label_fracture_batch
from engine.evaluators.labelling import CancellableCall
from engine.evaluators.protocol import Evaluation
from engine.runtime.config import settings_from_env
from engine.runtime.executors import make_executor
from engine.runtime.jobs import JobCancelled, JobContext

__all__ = ["MAX_BATCH", "ROW_METRICS", "label_batch_job", "random_plates"]

#: Most designs one batch job labels (a larger batch: several jobs, or ``matloop label``).
MAX_BATCH = 10_000
#: Metrics each row of the job's result table holds (units: see the fracture metric table).
ROW_METRICS = ("stiffness", "strength", "toughness", "energy_release_rate_per_stress_squared",
               "stress_intensity_per_stress", *FAILURE_METRICS, "wall_time")


def random_plates(space: str, count: int, size: int, soft_fraction: float = 0.5, seed: int = 0,
                  symmetric: bool = False) -> list[Design]:
    """``count`` random plates drawn from one seeded generator (as ``matloop label --random``).

    Parameters
    ----------
    space : {"checkerboard", "hierarchical"}
    count : int
        Number of designs, 1 to 1 000 000.
    size : int
        Blocks per side (hierarchical: building blocks per side of the coarse grid).
    soft_fraction : float
        Exact share of soft blocks of a checkerboard (rounded to a count), in [0, 1].
    seed : int
        Non-negative seed.
    symmetric : bool
        Checkerboards mirror-symmetric about the crack plane.

    Raises
    ------
    ValueError
        Unknown space or a value out of its range.
    """
    if space not in FRACTURE_SPACES:
        raise ValueError(f"unknown design space {space!r}; allowed: {', '.join(FRACTURE_SPACES)}")
    if not 1 <= int(count) <= 1_000_000:
        raise ValueError(f"the number of random designs must be in 1..1000000, got {count}")
    if int(seed) < 0:
        raise ValueError(f"the seed must be a non-negative integer, got {seed}")
    rng = np.random.default_rng(int(seed))
    if space == "hierarchical":
        return [Hierarchical.random(int(size), seed=rng) for _ in range(int(count))]
    return [Checkerboard.random(int(size), soft_fraction=float(soft_fraction), seed=rng, symmetric=bool(symmetric))
            for _ in range(int(count))]


def _designs(designs: Sequence[Mapping[str, Any]] | None, random: Mapping[str, Any] | None) -> list[Design]:
    """The batch's designs from records or a random draw; ``ValueError`` naming the bad record."""
    if (designs is None) == (random is None):
        raise ValueError("give either designs (a list of {space, genome}) or random (space, count, size, ...)")
    if random is not None:
        allowed = {"space", "count", "size", "soft_fraction", "seed", "symmetric"}
        unknown = sorted(set(random) - allowed)
        if unknown:
            raise ValueError(f"unknown random-design setting(s) {unknown}; allowed: {', '.join(sorted(allowed))}")
        count = int(random.get("count", 0))
        if count > MAX_BATCH:
            raise ValueError(f"a batch job labels at most {MAX_BATCH} designs, not {count}; use matloop label")
        return random_plates(random.get("space", "checkerboard"), count, int(random.get("size", 8)),
                             float(random.get("soft_fraction", 0.5)), int(random.get("seed", 0)),
                             bool(random.get("symmetric", False)))
    if not designs:
        raise ValueError("the batch holds no designs")
    if len(designs) > MAX_BATCH:
        raise ValueError(f"a batch job labels at most {MAX_BATCH} designs, not {len(designs)}; use matloop label")
    out = []
    for number, record in enumerate(designs, start=1):
        try:
            out.append(design_from_record(record["space"], record["genome"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"design {number} of the batch is invalid: {exc}") from None
    return out


def _cell(value: Any) -> Any:
    """A metric as a table cell: numbers and flags as they are, anything else as None."""
    return value if isinstance(value, (int, float, bool, str)) or value is None else None


def label_batch_job(ctx: JobContext, fidelity: str = "fast", options: Mapping[str, Any] | None = None,
                    designs: Sequence[Mapping[str, Any]] | None = None, random: Mapping[str, Any] | None = None,
                    executor: str | None = None) -> dict[str, Any]:
    """Background job: label a batch of plates through the executor into the store.

    Parameters
    ----------
    ctx : JobContext
        Progress and cancellation.
    fidelity : {"fast", "strength", "full"}
        Solver fidelity (fast: one linear solve per design).
    options : mapping, optional
        ``PlateSetup`` fields (mode, plane, ell in mm, mesh, split).
    designs : list of dict, optional
        ``{"space", "genome"}`` records to label.
    random : dict, optional
        Instead of ``designs``: ``space``, ``count``, ``size``, ``soft_fraction``, ``seed``,
        ``symmetric`` of random plates (:func:`random_plates`).
    executor : str, optional
        Executor spec (default: the ``MATLOOP_EXECUTOR`` setting).

    Returns
    -------
    dict
        Counts (``requested``, ``unique``, ``already_labelled``, ``labelled_ok``,
        ``labelled_failed``), the solver ``key`` and ``rows``: one per unique design in batch
        order with ``design_hash``, ``space``, ``status`` (``ok``, ``failed``), ``stored``
        (``"now"`` or ``"before"``), ``reason`` and the metrics of :data:`ROW_METRICS`.

    Raises
    ------
    JobCancelled
        When cancelled: the labels finished before are stored, the others are not.
    """
    evaluator = FractureEvaluator.from_options(fidelity, options)
    plates = _designs(designs, random)
    for plate in plates:  # every design checked (space, mesh, memory) before any solve
        evaluator.check_design(plate)
    key = evaluator.key()
    hashes = list(dict.fromkeys(plate.content_hash() for plate in plates))
    before = ctx.store.labelled_hashes(key) & set(hashes)
    counts = {"ok": 0, "failed": 0}
    total = len(hashes)

    def report() -> None:
        done = counts["ok"] + counts["failed"]
        ctx.progress(min(0.99, 0.01 + 0.98 * (done + len(before)) / total),
                     f"{done}/{total - len(before)} designs labelled, {len(before)} already stored, "
                     f"{counts['failed']} failed")

    def on_label(design_hash: str, evaluation: Evaluation) -> None:
        counts["ok" if evaluation.ok else "failed"] += 1
        report()

    report()
    spec = executor if executor is not None else settings_from_env().executor
    task = CancellableCall(evaluator, str(ctx.store.path), ctx.job_id)
    with make_executor(spec) as pool:
        batch = label_fracture_batch(ctx.store, plates, fidelity, options, pool, task=task, on_label=on_label,
                                     should_stop=ctx.cancelled)
    if batch.cancelled:
        raise JobCancelled()
    rows = []
    by_hash = {plate.content_hash(): plate for plate in plates}
    for design_hash in hashes:
        label = ctx.store.get_label(design_hash, key)
        row: dict[str, Any] = {"design_hash": design_hash, "space": by_hash[design_hash].space,
                               "status": None if label is None else label.status,
                               "stored": "before" if design_hash in before else "now",
                               "reason": None if label is None else label.reason}
        row.update({name: None if label is None else _cell(label.metrics.get(name)) for name in ROW_METRICS})
        if label is not None and row["wall_time"] is None:
            row["wall_time"] = label.wall_time
        rows.append(row)
    return {"requested": batch.requested, "unique": batch.unique, "already_labelled": batch.already_labelled,
            "labelled_ok": batch.labelled_ok, "labelled_failed": batch.labelled_failed,
            "key": {"name": key.name, "version": key.version, "fidelity": key.fidelity,
                    "config_hash": key.config_hash},
            "rows": rows}
