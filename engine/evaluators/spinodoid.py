"""Homogenisation evaluator: the effective 6×6 stiffness of spinodoids, by :mod:`fem.homogenize`.

Stiffnesses are in units of the Young's modulus of the solid (:data:`fem.homogenize.BASE_MATERIAL`);
the store key holds the resolution, the boundary condition and that base material.
"""

from __future__ import annotations

from collections.abc import Mapping
import numbers
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from designs.base import Design
from designs.spinodal import Spinodoid
from designs.stl import MAX_TILES
from engine.evaluators.labelling import evaluation_from_label, record_evaluation
from engine.evaluators.protocol import Evaluation, Evaluator, Metric, ProgressCallback
from engine.runtime.jobs import JobContext
from engine.runtime.resources import check_fits, memory_budget
from engine.store import SolverKey, Store
from fem import homogenize
from fem.cost import Cost, largest_size, stl_cost, voxel_cost

__all__ = ["BOUNDARY_CONDITIONS", "HOMOGENIZATION_METRICS", "HomogenizationEvaluator", "check_stl_export",
           "homogenize_and_store", "homogenize_job", "homogenize_key"]

#: Boundary conditions of the homogenisation (see :mod:`fem.homogenize`).
BOUNDARY_CONDITIONS = ("affine", "periodic")
_UNIT = "E_s"  # Young's modulus of the solid
_MODULI = {"E": "Young's modulus along", "G": "shear modulus in the plane"}


def _constant_metric(name: str) -> Metric:
    if name.startswith("nu"):
        return Metric(name, "1", f"Poisson's ratio ν{name[2:]}: strain along {name[3]} per strain along {name[2]}")
    return Metric(name, _UNIT, f"{_MODULI[name[0]]} {name[1:]}", True)


#: Every number a homogenisation label holds, with its unit.
HOMOGENIZATION_METRICS: tuple[Metric, ...] = (
    Metric("C", _UNIT, "effective 6×6 stiffness, Voigt order 11, 22, 33, 23, 13, 12 (engineering shears)"),
    *(_constant_metric(name) for name in homogenize.ORTHOTROPIC_CONSTANTS),
    Metric("symmetry_error", "1", "max |C − Cᵀ| / max |C|"),
    Metric("solid_fraction", "1", "solid voxels / all voxels"),
    Metric("connected_fraction", "1", "voxels of the load-bearing clusters / all voxels"),
    Metric("kept_clusters", "1", "load-bearing clusters (touching a face under affine, percolating under "
                                 "periodic conditions); floating islands are dropped"),
    Metric("iterations", "1", "block-CG iterations (diagnostic)"),
    Metric("resolution", "1", "voxels per cell side"),
    Metric("seconds", "s", "wall time of the stages", timing=True),
)


@dataclass(frozen=True)
class HomogenizationEvaluator(Evaluator):
    """Labels spinodoids by voxel homogenisation.

    Parameters
    ----------
    resolution : int
        Voxels per cell side, :data:`fem.homogenize.RESOLUTIONS` (8..256).
    bc : {"affine", "periodic"}
        Boundary condition.

    Raises
    ------
    ValueError
        Resolution or boundary condition out of range.
    """

    resolution: int = 32
    bc: str = "affine"

    name: ClassVar[str] = homogenize.SOLVER_NAME
    version: ClassVar[str] = homogenize.SOLVER_VERSION
    spaces: ClassVar[tuple[str, ...]] = (Spinodoid.space,)
    METRICS: ClassVar[tuple[Metric, ...]] = HOMOGENIZATION_METRICS

    def __post_init__(self) -> None:
        if self.bc not in BOUNDARY_CONDITIONS:
            raise ValueError(f"bc must be 'affine' or 'periodic', got {self.bc!r}")
        r = self.resolution
        object.__setattr__(self, "resolution", homogenize.check_resolution(r))

    def check_design(self, design: Design) -> None:
        """``ValueError`` unless ``design`` is a spinodoid this resolution samples finely enough
        and this machine can homogenise at it (see :meth:`check_size`)."""
        super().check_design(design)
        design.check_resolution(self.resolution)
        self.check_size()

    @property
    def cost(self) -> Cost:
        """Upper estimate of the memory and time of one homogenisation (:func:`fem.cost.voxel_cost`)."""
        return voxel_cost(self.resolution, self.bc)

    def check_size(self) -> None:
        """Refuse a resolution whose homogenisation does not fit this machine's memory budget.

        Raises
        ------
        ValueError
            The estimate, the budget (:func:`engine.runtime.resources.memory_budget`) and the
            largest resolution that fits.
        """
        budget = memory_budget()
        if self.cost.memory <= budget.bytes:
            return
        most = largest_size(lambda r: voxel_cost(r, self.bc), budget.bytes, *homogenize.RESOLUTIONS)
        check_fits(self.cost, f"at most {most} voxels per side fit" if most else "no resolution fits", budget)

    @property
    def fidelity(self) -> str:
        return f"voxel-{self.resolution}"

    @property
    def settings(self) -> dict[str, Any]:
        """Boundary condition, resolution and the solid's E and ν."""
        E, nu = homogenize.BASE_MATERIAL
        return {"bc": self.bc, "resolution": self.resolution, "E": float(E), "nu": float(nu)}

    def _solve(self, design: Design, progress: ProgressCallback | None) -> tuple[Mapping[str, Any], None]:
        return homogenize.label(design, resolution=self.resolution, bc=self.bc, progress=progress), None


def homogenize_key(resolution: int, bc: str) -> SolverKey:
    """Store key of the voxel homogenisation at ``resolution`` voxels per side under ``bc``."""
    return HomogenizationEvaluator(resolution, bc).key()


def check_stl_export(resolution: int, tiles: int = 1) -> None:
    """Refuse an STL export of a spinodoid that does not fit this machine's memory budget.

    Values outside what :func:`designs.stl.spinodoid_mesh` takes are left to it to refuse.

    Raises
    ------
    ValueError
        The estimate (:func:`fem.cost.stl_cost`), the budget and the finest sampling that fits.
    """
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in (resolution, tiles)) \
            or tiles > MAX_TILES:
        return
    budget = memory_budget()
    cost = stl_cost(resolution, tiles)
    if cost.memory <= budget.bytes:
        return
    most = largest_size(lambda r: stl_cost(r, tiles), budget.bytes, 1, 512)
    check_fits(cost, f"at most {most} samples per cell side fit with {tiles} tile(s) a side" if most
               else "no sampling fits", budget)


def homogenize_and_store(store: Store, design: Spinodoid, resolution: int, bc: str,
                         progress: ProgressCallback | None = None) -> tuple[Evaluation, bool]:
    """Label ``design`` unless the store has the label; returns ``(evaluation, computed_now)``.

    ``progress(fraction, message)`` is the heartbeat of the solve (:func:`fem.homogenize.label`);
    what it raises (a cancelled job) propagates.
    """
    evaluator = HomogenizationEvaluator(resolution, bc)
    key = evaluator.key()
    design_hash = store.add(design)
    stored = store.get_label(design_hash, key)
    if stored is not None:
        return evaluation_from_label(stored), False
    evaluation = evaluator.run(design, progress)[0]
    record_evaluation(store, design_hash, key, evaluation)
    return evaluation, True


def homogenize_job(ctx: JobContext, genome: dict[str, Any], resolution: int = 32, bc: str = "affine") -> dict[str, Any]:
    """Background job: homogenise one spinodoid (stored), return metrics and the E(n) surface.

    Returns
    -------
    dict
        ``design_hash``, ``status``, ``reason``, ``metrics`` (see :data:`HOMOGENIZATION_METRICS`),
        ``computed_now`` and, when ok, ``surface`` (directional Young's modulus, units of E_s).
    """
    design = Spinodoid.from_json(genome)
    evaluator = HomogenizationEvaluator(resolution, bc)
    evaluator.check_design(design)  # before the progress report: bad input fails the job at once
    ctx.progress(0.05, f"homogenising at {evaluator.resolution}³ voxels, {bc} boundary conditions")
    evaluation, computed = homogenize_and_store(ctx.store, design, resolution, bc,
                                                progress=lambda f, m: ctx.progress(0.05 + 0.9 * f, m))
    result: dict[str, Any] = {"design_hash": design.content_hash(), "status": evaluation.status,
                              "reason": evaluation.reason, "metrics": evaluation.metrics, "computed_now": computed}
    if evaluation.ok:
        surface = homogenize.directional_young_surface(np.asarray(evaluation.metrics["C"]))
        result["surface"] = {name: values.tolist() for name, values in surface.items()}
    return result
