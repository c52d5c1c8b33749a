"""Fracture labelling of checkerboard and hierarchical plates into the store.

Glue between :mod:`fem.fracture` and the store: the solver key of a set-up, the picklable
task, batch labelling through an executor, and a background job that labels one design and
returns curves and fields for the app.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np

from designs.base import Design
from designs.registry import design_from_record
from engine.runtime.jobs import JobContext
from engine.evaluators.labelling import BatchReport, label_designs
from engine.store import SolverKey, Store
from fem import fracture

__all__ = ["FRACTURE_SPACES", "fracture_key", "label_fracture_batch", "label_fracture_job"]

#: Design spaces the fracture solver labels.
FRACTURE_SPACES = ("checkerboard", "hierarchical")
#: Largest damage field a job returns to the app (nodes per side); finer fields are subsampled.
_MAX_FIELD = 129


def fracture_key(fidelity: str, options: Mapping[str, Any]) -> SolverKey:
    """Store key of the fracture solver at ``fidelity`` with set-up ``options``.

    Parameters
    ----------
    fidelity : {"fast", "strength", "full"}
    options : mapping
        :class:`fem.fracture.PlateSetup` fields that differ from the defaults.
    """
    if fidelity not in fracture.FIDELITIES:
        raise ValueError(f"unknown fidelity {fidelity!r}; allowed: {', '.join(fracture.FIDELITIES)}")
    fracture.PlateSetup(**options)  # validates names and values
    return SolverKey(fracture.SOLVER_NAME, fracture.SOLVER_VERSION, fidelity, dict(options))


def label_fracture_batch(
    store: Store,
    designs: Sequence[Design],
    fidelity: str,
    options: Mapping[str, Any],
    executor: Executor,
    **kwargs: Any,
) -> BatchReport:
    """Label the designs still missing under this fracture set-up (see :func:`label_designs`)."""
    bad = sorted({d.space for d in designs} - set(FRACTURE_SPACES))
    if bad:
        raise ValueError(f"the fracture solver labels {', '.join(FRACTURE_SPACES)} designs, not {', '.join(bad)}")
    key = fracture_key(fidelity, options)
    task = functools.partial(fracture.label, fidelity=fidelity, **dict(options))
    return label_designs(store, designs, key, task, executor, **kwargs)


def _field_step(field: np.ndarray) -> int:
    """Node stride that keeps at most ``_MAX_FIELD`` nodes per side."""
    return max(1, int(np.ceil((max(field.shape) - 1) / (_MAX_FIELD - 1))))


def label_fracture_job(
    ctx: JobContext, space: str, genome: Any, fidelity: str = "full", options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Background job: label one design, store the label, return metrics, curve and damage.

    Returns
    -------
    dict
        ``metrics`` (see :func:`fem.fracture.label`), ``design_hash``, ``strain`` and
        ``stress`` (MPa) lists, ``damage`` (node grid, row 0 at the bottom, at most 129 per
        side), ``x`` and ``y`` (mm) of the damage grid, and ``stored`` (False when the store
        already had this label).
    """
    options = dict(options or {})
    design = design_from_record(space, genome)
    key = fracture_key(fidelity, options)
    store = ctx.store
    design_hash = store.add(design)
    ctx.progress(0.02, f"labelling {space} {design_hash[:12]} at fidelity {fidelity}")
    result = fracture.run(design, fidelity, progress=lambda f, m: ctx.progress(0.02 + 0.97 * f, m), **options)
    metrics = dict(result.metrics)
    status = metrics.pop("status", "ok")
    reason = metrics.pop("reason", None) or None
    stored = store.put_label(
        design_hash, key, metrics, status="ok" if status == "ok" else "failed",
        reason=reason if status != "ok" else None, wall_time=metrics.get("wall_time"),
    )
    step = _field_step(np.asarray(result.damage))
    damage = np.asarray(result.damage)[::step, ::step]
    return {
        "design_hash": design_hash,
        "status": status,
        "reason": reason,
        "metrics": metrics,
        "strain": np.asarray(result.strain, dtype=float).tolist(),
        "stress": np.asarray(result.stress, dtype=float).tolist(),
        "damage": np.round(damage, 4).tolist(),
        "x": np.asarray(result.x, dtype=float)[::step].tolist(),
        "y": np.asarray(result.y, dtype=float)[::step].tolist(),
        "stored": stored,
    }
