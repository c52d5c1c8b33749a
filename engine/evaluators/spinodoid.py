"""Homogenisation labels of spinodoids in the store, and the app's homogenisation job."""

from __future__ import annotations

from typing import Any

import numpy as np

from designs.spinodal import Spinodoid
from engine.runtime.jobs import JobContext
from engine.store import SolverKey, Store
from fem import homogenize

__all__ = ["homogenize_key", "homogenize_and_store", "homogenize_job"]


def homogenize_key(resolution: int, bc: str) -> SolverKey:
    """Store key of the voxel homogenisation at ``resolution`` voxels per side under ``bc``."""
    if bc not in ("affine", "periodic"):
        raise ValueError(f"bc must be 'affine' or 'periodic', got {bc!r}")
    if int(resolution) != resolution or not 8 <= int(resolution) <= 256:
        raise ValueError(f"resolution must be an integer in 8..256 voxels per side, got {resolution!r}")
    return SolverKey(homogenize.SOLVER_NAME, homogenize.SOLVER_VERSION, f"voxel-{int(resolution)}",
                     {"bc": bc, "resolution": int(resolution), "E": 1.0, "nu": 0.3})


def homogenize_and_store(store: Store, design: Spinodoid, resolution: int, bc: str) -> tuple[dict[str, Any], bool]:
    """Label ``design`` unless the store has the label; returns ``(metrics, computed_now)``."""
    key = homogenize_key(resolution, bc)
    design_hash = store.add(design)
    stored = store.get_label(design_hash, key)
    if stored is not None:
        return {**stored.metrics, "status": stored.status, "reason": stored.reason or ""}, False
    metrics = homogenize.label(design, resolution=int(resolution), bc=bc)
    values = {k: v for k, v in metrics.items() if k not in ("status", "reason")}
    failed = metrics["status"] != "ok"
    store.put_label(design_hash, key, values, status="failed" if failed else "ok",
                    reason=metrics.get("reason") if failed else None, wall_time=sum((metrics.get("seconds") or {}).values()))
    return metrics, True


def homogenize_job(ctx: JobContext, genome: dict[str, Any], resolution: int = 32, bc: str = "affine") -> dict[str, Any]:
    """Background job: homogenise one spinodoid (stored), return metrics and the E(n) surface."""
    design = Spinodoid.from_json(genome)
    homogenize_key(resolution, bc)
    ctx.progress(0.05, f"homogenising at {resolution}³ voxels, {bc} boundary conditions")
    metrics, computed = homogenize_and_store(ctx.store, design, resolution, bc)
    result: dict[str, Any] = {"design_hash": design.content_hash(), "metrics": metrics, "computed_now": computed}
    if metrics.get("status") == "ok":
        surface = homogenize.directional_young_surface(np.asarray(metrics["C"]))
        result["surface"] = {name: values.tolist() for name, values in surface.items()}
    return result
