"""Fracture evaluator: checkerboard and hierarchical plates labelled by :mod:`fem.fracture`.

:class:`FractureEvaluator` holds a fidelity and a :class:`fem.fracture.PlateSetup`; its store
key is built from every field of the set-up the fidelity uses, with the defaults filled in
(``element_size = ell/2``, the split of the mode), so options given as ``{}``, as the command
line's explicit defaults or as a ``PlateSetup`` give one key. Also here:
batch labelling through an executor and the app's job that labels one design and returns its
curve and damage field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from designs.base import Design
from designs.registry import design_from_record
from engine.evaluators.labelling import BatchReport, label_designs, record_evaluation
from engine.evaluators.protocol import Evaluator, Metric, ProgressCallback
from engine.runtime.jobs import JobContext
from engine.runtime.resources import check_fits, memory_budget
from engine.store import SolverKey, Store
from fem import fracture
from fem.cost import Cost, largest_size, plate_cost
from fem.materials import DEFAULT_PHASE_SETTINGS, Material, default_palette

__all__ = [
    "FAILURE_METRICS",
    "FRACTURE_METRICS",
    "FIDELITY_METRICS",
    "FRACTURE_SPACES",
    "FractureEvaluator",
    "UNUSED_SETTINGS",
    "check_phases_used",
    "fracture_key",
    "label_fracture_batch",
    "label_fracture_job",
]

#: Design spaces the fracture solver labels.
FRACTURE_SPACES = ("checkerboard", "hierarchical")
#: Largest damage field a job returns to the app (nodes per side); finer fields are subsampled.
_MAX_FIELD = 129

_COUNT = "count of the run (diagnostic)"
#: Every number a fracture label holds, with its unit (σ, ε: nominal stress and strain of the plate).
FRACTURE_METRICS: tuple[Metric, ...] = (
    Metric("toughness", "MJ/m³", "work of fracture per unit volume: area under the σ–ε curve up to "
           "failure (what Gu et al. 2018 and the reviewed papers call toughness)", True),
    Metric("strength", "MPa", "peak nominal stress", True),
    Metric("stiffness", "MPa", "initial modulus σ/ε of the cracked plate (elastic, undamaged)", True),
    Metric("strain_at_peak", "1", "nominal strain at the peak stress"),
    Metric("failure_strain", "1", "nominal strain at failure (σ below the end fraction of the peak, or in mode II "
           "the crack from the notch reaching an edge)"),
    Metric("dissipated_energy", "mJ/mm", "phase-field fracture energy at the end, per mm of thickness"),
    Metric("energy_release_rate_per_stress_squared", "mm/MPa",
           "G/σ² of the initial crack (J-integral, linear elastic): G at stress σ is this times σ²", False,
           symbol="G/σ²"),
    Metric("stress_intensity_per_stress", "√mm",
           "|K|/σ of the initial crack: √(G E′)/σ inside one phase, √(G E*) cosh(πε)/σ on the interface of "
           "two (Hutchinson & Suo 1992); none where more than two phases meet at the tip", False, symbol="|K|/σ"),
    Metric("ell", "mm", "phase-field length scale"),
    Metric("grip_strip", "mm", "width of the damage-free strip along each grip (none by default; 2ℓ in mode I with "
           "clamped grips)"),
    Metric("element_size", "mm", "longest element edge of the mesh"),
    Metric("crack_length", "mm", "initial crack length as meshed"),
    Metric("elements", "1", "mesh elements"),
    Metric("dofs", "1", "displacement unknowns"),
    Metric("steps", "1", f"load steps, {_COUNT}"),
    Metric("stagger_iterations", "1", f"stagger iterations, {_COUNT}"),
    Metric("linear_solves", "1", f"linear solves, {_COUNT}"),
    Metric("factorizations", "1", f"matrix factorisations, {_COUNT}"),
    Metric("nonconverged_steps", "1", f"steps accepted without stagger convergence, {_COUNT}"),
    Metric("rejected_steps", "1", f"steps retried smaller at a sudden drop, {_COUNT}"),
    Metric("broke", "1", "true when the run reached its end criterion (failure, or the peak for strength)"),
    Metric("crack_tip_to_edge", "1", "full labels: true when a band of d > 0.9 (mode II; d > 0.5 in mode I) "
           "joins the notch tip to an edge at the end; with broke true, the plate failed from its crack tip (a "
           "plate that did not break can have such a band that still carries load)"),
    Metric("grip_band", "mm", "full labels: the longest stretch of a damage band within ℓ of a grip at the end"),
    Metric("along_grip", "1", "full labels: true when grip_band exceeds 4ℓ: the plate failed partly at a grip, so "
           "its strength and toughness describe the grip as well as the plate"),
    Metric("end_criterion", "1", "how the run ended: failure, through_crack (mode II: the crack from the notch "
           "reached an edge), peak, max_displacement, max_steps or error"),
    Metric("wall_time", "s", "solver wall time", timing=True),
)

#: How a full label's plate failed: whether it broke by the largest strain of the test, whether its
#: crack ran from the notch tip to an edge, whether a band ran along a grip (flags of :data:`FRACTURE_METRICS`).
FAILURE_METRICS = ("broke", "crack_tip_to_edge", "along_grip")

#: ``PlateSetup`` fields that cannot change a label at a fidelity, so they stay out of its key:
#: the fast (linear) solve uses neither the phase field (length, energy split, grip strips, toughness) nor
#: load steps, a strength run stops at the peak whatever ends a full test (end fraction, through crack). (Of the two
#: ways to set the mesh, ``element_size`` and ``elements_per_block``, the one not given is left
#: out too.)
UNUSED_SETTINGS: dict[str, tuple[str, ...]] = {
    "fast": ("ell", "split", "du_max_strain", "max_strain", "end_fraction", "through_crack", "grip_strip",
             "stagger_tol", "stagger_max_iter", "max_nonconverged"),
    "strength": ("end_fraction", "through_crack"),
    "full": (),
}


def _materials_settings(materials: Mapping[str, Material] | None, fidelity: str, split: str,
                        ell: float) -> dict[str, dict[str, float]]:
    """The phases as JSON: the default palette by its failure strains, others by G_c.

    Only what can change the label: a fast (linear) label uses E and ν alone, and a compressive
    strength acts only through a split (without one the whole strain energy drives the damage
    anyway, :mod:`fem.phasefield_split`), so mode-I labels keep their keys. Phases that equal the
    default palette at ``ell`` in all of that (given explicitly, say) are spelled as the default.
    """
    def used(phases: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        if fidelity == "fast":
            return {name: {"E": p["E"], "nu": p["nu"]} for name, p in phases.items()}
        if split == "none":
            return {name: {k: v for k, v in p.items() if k != "compressive_strength"} for name, p in phases.items()}
        return phases

    def by_toughness(phases: Mapping[str, Material]) -> dict[str, dict[str, float]]:
        return used({name: {"E": float(m.E), "nu": float(m.nu), "Gc": float(m.Gc),
                            **({} if m.compressive_strength is None else {"compressive_strength": float(m.compressive_strength)})}
                     for name, m in sorted(phases.items())})

    if materials is not None and by_toughness(materials) != by_toughness(default_palette(ell)):
        return by_toughness(materials)
    return used({name: dict(phase) for name, phase in DEFAULT_PHASE_SETTINGS.items()})


@dataclass(frozen=True)
class FractureEvaluator(Evaluator):
    """Labels plates by fracture of the edge-cracked plate of :mod:`fem.fracture`.

    Parameters
    ----------
    fidelity : {"fast", "strength", "full"}
        One linear solve (LEFM), phase-field run to the peak, or to failure.
    setup : fem.fracture.PlateSetup
        Geometry, loading, mesh, materials and solver settings.

    Raises
    ------
    ValueError
        Unknown fidelity.
    """

    fidelity: str = "full"
    setup: fracture.PlateSetup = field(default_factory=fracture.PlateSetup)

    name: ClassVar[str] = fracture.SOLVER_NAME
    version: ClassVar[str] = fracture.SOLVER_VERSION
    spaces: ClassVar[tuple[str, ...]] = FRACTURE_SPACES
    METRICS: ClassVar[tuple[Metric, ...]] = FRACTURE_METRICS

    def __post_init__(self) -> None:
        if self.fidelity not in fracture.FIDELITIES:
            raise ValueError(f"unknown fidelity {self.fidelity!r}; allowed: {', '.join(fracture.FIDELITIES)}")
        if not isinstance(self.setup, fracture.PlateSetup):
            raise ValueError(f"setup must be a fem.fracture.PlateSetup, got {type(self.setup).__name__}")

    @classmethod
    def from_options(cls, fidelity: str, options: Mapping[str, Any] | None = None) -> "FractureEvaluator":
        """Evaluator from a fidelity and ``PlateSetup`` fields that differ from the defaults.

        Raises
        ------
        ValueError
            Unknown option names (the message lists the allowed ones) or invalid values.
        """
        options = dict(options or {})
        allowed = [f.name for f in fields(fracture.PlateSetup)]
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise ValueError(f"unknown fracture option(s) {unknown}; allowed: {', '.join(allowed)}")
        return cls(fidelity, fracture.PlateSetup(**options))

    @property
    def settings(self) -> dict[str, Any]:
        """The ``PlateSetup`` fields this fidelity uses (normalised by ``PlateSetup``), materials spelled out."""
        unused = UNUSED_SETTINGS[self.fidelity] + (
            ("element_size",) if self.setup.elements_per_block is not None else ("elements_per_block",))
        values = {f.name: getattr(self.setup, f.name) for f in fields(fracture.PlateSetup) if f.name not in unused}
        values["materials"] = _materials_settings(self.setup.materials, self.fidelity, self.setup.split, self.setup.ell)
        return values

    def provides(self, name: str) -> bool:
        """Whether this fidelity computes metric ``name`` (see :data:`FIDELITY_METRICS`); the
        metrics of none of them (mesh sizes, counts, timing) are always there."""
        if any(name in names for names in FIDELITY_METRICS.values()):
            return name in FIDELITY_METRICS[self.fidelity]
        return super().provides(name)

    def check_design(self, design: Design) -> None:
        """``ValueError`` unless ``design`` is a plate this set-up can mesh and this machine can
        solve (checked before any solve; see :meth:`check_grid`)."""
        super().check_design(design)
        fracture.check_design(design, self.setup)
        self.check_grid(*_grid_shape(design))

    def cost(self, design: Design) -> Cost:
        """Estimated memory and time of labelling ``design`` (:func:`fem.cost.plate_cost`)."""
        return self.grid_cost(*_grid_shape(design))

    def grid_cost(self, rows: int, columns: int) -> Cost:
        """Estimated memory and time of labelling a plate of ``rows × columns`` blocks."""
        return plate_cost(*fracture.mesh_elements(rows, columns, self.setup), self.fidelity)

    def check_grid(self, rows: int, columns: int) -> None:
        """Refuse a grid size whose plate does not fit this machine's memory budget.

        Needs only the size, so that the command line checks ``--size`` before it draws the
        designs. The message gives the estimate (:func:`fem.cost.plate_cost`), the budget
        (:func:`engine.runtime.resources.memory_budget`) and the finest mesh that fits.

        Raises
        ------
        ValueError
            The estimated peak memory exceeds the budget.
        """
        budget = memory_budget()
        cost = self.grid_cost(rows, columns)
        if cost.memory <= budget.bytes:
            return
        top = fracture.MAX_ELEMENTS_PER_SIDE
        if self.setup.elements_per_block is not None:
            def per_block(n: int) -> Cost:
                setup = fracture.updated(self.setup, elements_per_block=n)
                return plate_cost(*fracture.mesh_elements(rows, columns, setup), self.fidelity)

            most = largest_size(per_block, budget.bytes, 1, max(1, top // max(rows, columns)))
            fits = (f"elements_per_block <= {most} fits on this {rows}×{columns} grid" if most is not None else
                    f"no mesh of a {rows}×{columns} grid fits")
        else:
            most = largest_size(lambda n: plate_cost(n, n, self.fidelity), budget.bytes, 1, top)
            if most is None:
                fits = "no plate fits"
            elif most >= max(rows, columns):
                fits = (f"the largest square plate that fits has {most} × {most} elements "
                        f"(element_size >= {1.0 / most:.3g} mm)")
            else:  # at least one element per block
                fits = (f"the largest square plate that fits has {most} × {most} elements, so at most {most} "
                        f"blocks a side")
        check_fits(cost, fits, budget)

    def _solve(self, design: Design, progress: ProgressCallback | None) -> tuple[Mapping[str, Any], Any]:
        result = fracture.run(design, self.fidelity, setup=self.setup, progress=progress)
        return result.metrics, result


#: Physical metrics each fidelity computes (the others are ``None`` in its labels): one linear
#: solve of the initial crack, the phase-field run to the peak, the run to failure.
FIDELITY_METRICS: dict[str, tuple[str, ...]] = {
    "fast": ("stiffness", "energy_release_rate_per_stress_squared", "stress_intensity_per_stress"),
    "strength": ("stiffness", "strength", "strain_at_peak", "dissipated_energy"),
    "full": ("stiffness", "strength", "strain_at_peak", "dissipated_energy", "toughness", "failure_strain"),
}


def fracture_key(fidelity: str, options: Mapping[str, Any] | None = None) -> SolverKey:
    """Store key of the fracture solver at ``fidelity`` with ``PlateSetup`` fields ``options``."""
    return FractureEvaluator.from_options(fidelity, options).key()


def label_fracture_batch(
    store: Store,
    designs: Sequence[Design],
    fidelity: str,
    options: Mapping[str, Any] | None,
    executor: Executor,
    **kwargs: Any,
) -> BatchReport:
    """Label the designs still missing under this fracture set-up (see :func:`label_designs`).

    Raises
    ------
    ValueError
        Invalid options, or a phase that none of the designs uses (:func:`check_phases_used`).
    """
    evaluator = FractureEvaluator.from_options(fidelity, options)
    check_phases_used(evaluator.setup, designs)
    return label_designs(store, designs, evaluator, executor, **kwargs)


def check_phases_used(setup: fracture.PlateSetup, designs: Iterable[Design]) -> None:
    """Refuse a phase of ``setup`` that is no block type of ``designs``, unless it is a default phase left at
    its default settings (:func:`fem.materials.default_palette` at ``setup.ell``, which fills in the phases
    not given).

    Such a phase would change nothing in the labels but their store key; it is most likely a
    misspelt block type (``--phase stif:...`` meant for ``stiff``), or a change to a phase the designs
    do not have.

    Raises
    ------
    ValueError
        Says which phases are unused and which block types the designs have.
    """
    if setup.materials is None:
        return
    types = {name for design in designs for name in fracture.block_types(design)}
    defaults = default_palette(setup.ell)
    unused = sorted(name for name, phase in setup.materials.items()
                    if name not in types and phase != defaults.get(name))
    if unused and types:
        raise ValueError(f"phase {' and '.join(map(repr, unused))} is no block type of the designs (theirs: "
                         f"{', '.join(sorted(types))}): give phases for the designs' block types; a new phase is "
                         "for designs whose palette names it")


def _grid_shape(design: Design) -> tuple[int, int]:
    """Blocks ``(rows, columns)`` of the plate a design is meshed as (hierarchical: expanded)."""
    rows, columns = (design.expand() if hasattr(design, "expand") else design).shape
    return int(rows), int(columns)


def _field_step(damage: np.ndarray) -> int:
    """Node stride that keeps at most ``_MAX_FIELD`` nodes per side."""
    return max(1, int(np.ceil((max(damage.shape) - 1) / (_MAX_FIELD - 1))))


def label_fracture_job(
    ctx: JobContext, space: str, genome: Any, fidelity: str = "full", options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Background job: label one design, store the label, return metrics, curve and damage.

    Returns
    -------
    dict
        ``design_hash``, ``status``, ``reason``, ``metrics`` (see :data:`FRACTURE_METRICS`),
        ``strain`` and ``stress`` (MPa) lists, ``damage`` (node grid, row 0 at the bottom, at
        most 129 per side), ``x`` and ``y`` (mm) of the damage grid, ``crack_path`` (full labels:
        :func:`fem.fracture.crack_path_of` on the whole damage grid, as a dict; None otherwise), and
        ``stored`` (False when the store already had this label).
    """
    evaluator = FractureEvaluator.from_options(fidelity, options)
    design = design_from_record(space, genome)
    design_hash = ctx.store.add(design)
    ctx.progress(0.02, f"labelling {space} {design_hash[:12]} at fidelity {fidelity}")
    evaluation, result = evaluator.run(design, progress=lambda f, m: ctx.progress(0.02 + 0.97 * f, m))
    stored = record_evaluation(ctx.store, design_hash, evaluator.key(), evaluation)
    out: dict[str, Any] = {"design_hash": design_hash, "status": evaluation.status, "reason": evaluation.reason,
                           "metrics": evaluation.metrics, "stored": stored,
                           "strain": [], "stress": [], "damage": [], "x": [], "y": [], "crack_path": None}
    if result is not None:
        out["crack_path"] = None if result.crack_path is None else asdict(result.crack_path)
        step = _field_step(np.asarray(result.damage))
        out.update(
            strain=np.asarray(result.strain, dtype=float).tolist(),
            stress=np.asarray(result.stress, dtype=float).tolist(),
            damage=np.round(np.asarray(result.damage)[::step, ::step], 4).tolist(),
            x=np.asarray(result.x, dtype=float)[::step].tolist(),
            y=np.asarray(result.y, dtype=float)[::step].tolist(),
        )
    return out
