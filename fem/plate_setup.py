"""The set-up of the edge-cracked plate test that :mod:`fem.fracture` labels with.

:class:`PlateSetup` holds the geometry, loading, mesh, materials and solver settings of a run,
each checked and with its default resolved (per loading mode: crack length, strain limit, end
fraction, energy split, through-crack end; grip strips per mode and grips); :func:`updated`
changes some of them and resolves the defaults again. What the defaults are and how they were measured is told in
:mod:`fem.fracture` ("Grips", "Mode II grips …", "Mode I grips").
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any, Literal, Mapping

import numpy as np

from fem.cost import plate_cost
from fem.materials import Material, material_from_settings
from fem.phasefield_split import Split, check_split

__all__ = [
    "DEFAULT_ELL",
    "MAX_ELL",
    "MAX_PLANE_STRAIN_NU",
    "MAX_ELEMENTS_PER_SIDE",
    "CRACK_LENGTH",
    "MAX_STRAIN",
    "END_FRACTION",
    "GRIP_STRIP",
    "GRIPS",
    "MAX_GRIP_STRIP",
    "MAX_CONTRAST",
    "PlateSetup",
    "updated",
]

#: Default phase-field length (mm): a quarter of a block of the 8×8 grid on the 1 mm plate.
DEFAULT_ELL = 1.0 / 32.0
#: Most elements along a side of the plate (a finer mesh is refused: memory and time).
MAX_ELEMENTS_PER_SIDE = 1024
#: Default edge-crack length (mm) per mode: Gu et al. 2018's tension plate, Miehe et al. 2010's shear test.
CRACK_LENGTH: dict[str, float] = {"I": 0.2, "II": 0.5}
#: Default ``max_strain`` per mode: confined by grips and rollers, cracked shear plates break later.
MAX_STRAIN: dict[str, float] = {"I": 0.5, "II": 2.0}
#: Default ``end_fraction`` per mode: a shear plate whose cracks overlap still carries a few per cent of its
#: peak while the crack from the tip runs on to an edge (see "Grips" in :mod:`fem.fracture`).
END_FRACTION: dict[str, float] = {"I": 0.1, "II": 0.005}
#: Default ``grip_strip`` per mode (in units of ``ell``) with clamped grips: see "Grips" in :mod:`fem.fracture`; in
#: mode II a strip only moved the grip bands to its border. Bonded grips (the default) need none.
GRIP_STRIP: dict[str, float] = {"I": 2.0, "II": 0.0}
#: How the top and bottom edges are held (see "Grips" in :mod:`fem.fracture`).
GRIPS: tuple[str, ...] = ("bonded", "clamped")
#: Largest ratio of the phases' Young's moduli: at 1e6 a random 8×8 plate's fast label still tends smoothly to its
#: void limit (stiffness 41.06 MPa at 1e4, 40.67 at 1e6), at 1e30 the linear solve gave a negative G/σ².
MAX_CONTRAST = 1e6
#: Longest phase-field length (mm). A crack's damage decays as ``exp(-r / ell)`` across its band and must die
#: out before the grips, 0.5 mm from the crack plane (``exp(-8)`` at 1/16 mm); with longer ``ell`` the grips
#: hold the damage back and labels exceed what the phases can carry (an all-stiff plate, whose phase is
#: 40 MPa strong: 27.1 MPa at ell = 1/32, 33.0 at 1/16, 37.4 at 1/8, 42.5 at 1/4 in mode I).
MAX_ELL = 1.0 / 16.0
#: Largest Poisson's ratio of a phase in plane strain. Fully integrated Q1 elements lock as ν → 1/2
#: (plane stress does not: its in-plane ν/(1 + ν) stays below 1/3). An all-stiff plate's |K|/σ
#: (fast, bonded grips) changes from elements of 1/64 to 1/128 mm by 0.45 % at ν = 0.33,
#: 0.6 % at 0.45, 1.2 % at 0.49 and 3.9 % at 0.499.
MAX_PLANE_STRAIN_NU = 0.45
#: Widest damage-free grip strip (mm): the middle half of the plate, crack plane and process zone, stays free.
MAX_GRIP_STRIP = 0.25


@dataclass(frozen=True)
class PlateSetup:
    """Geometry, loading, discretisation and materials of a labelling run.

    Every value is normalised and checked here, and every default is resolved (``element_size``,
    ``split``), so the fields are exactly what the solver sees.

    Parameters
    ----------
    crack_length : float or None
        Edge crack length (mm) on the unit plate, in (0, 1); ``None`` means :data:`CRACK_LENGTH`
        of the mode (0.2 in mode I, 0.5 in mode II; resolved here).
    mode : {"I", "II"}
        Tension or shear of the top edge.
    plane : {"stress", "strain"}
        2D constitutive assumption.
    ell : float
        Phase-field length scale (mm), in (0, :data:`MAX_ELL`]; the same on every grid.
    element_size : float or None
        Largest element edge (mm), at most ``ell / 2``; ``None`` means ``ell / 2`` (resolved
        here) unless ``elements_per_block`` is given.
    elements_per_block : int or None
        Instead of ``element_size``: elements per block side (>= 1), so the element size is
        ``block side / n`` along each axis and depends on the grid; :func:`check_design` refuses
        a design whose mesh then has an element longer than ``ell / 2``. Give one of the two.
    split : {"none", "spectral", "voldev"} or None
        Energy split that drives the damage (:mod:`fem.phasefield_split`); ``None`` means
        ``"none"`` in mode I and ``"spectral"`` in mode II (resolved here).
    materials : mapping of str to Material or None
        Block type name → phase; ``None`` uses :func:`fem.materials.default_palette` at ``ell``. A
        phase may be given by its settings (``{"E": 100, "nu": 0.33, "failure_strain": 0.4}``,
        :func:`fem.materials.material_from_settings`; a failure strain is taken at ``ell``).
    du_max_strain : float
        Largest nominal strain increment per load step; where damage grows, steps follow the
        damage-growth target of :class:`fem.phasefield.SolverOptions`, and sudden drops are
        refined to 1/64 of it.
    max_strain : float or None
        Nominal strain at which a run ends regardless; ``None`` means :data:`MAX_STRAIN` of the
        mode (0.5 in mode I, 2 in mode II; resolved here).
    end_fraction : float or None
        Failure when σ < end_fraction σ_peak after the peak; ``None`` means
        :data:`END_FRACTION` of the mode (0.1 in mode I, 0.005 in mode II; resolved here).
    through_crack : bool or None
        Also end a full run (failure) once the crack from the notch tip has reached the plate
        boundary (:class:`fem.phasefield_crack.ThroughCrack`); ``None`` means True in mode II
        and False in mode I (resolved here).
    grips : {"bonded", "clamped"}
        ``"bonded"``: the top and bottom edges are held through a thin elastic layer
        (:data:`fem.grips.ADHESIVE`, springs); ``"clamped"``: their displacements are
        prescribed (solver versions up to 6). See "Grips" in :mod:`fem.fracture`.
    grip_strip : float or None
        Width of the damage-free strips along the top and bottom grips, in units of ``ell``:
        nothing drives the damage in elements whose centre lies within ``grip_strip * ell`` of a
        grip (:class:`fem.phasefield.PhaseFieldProblem`), at most :data:`MAX_GRIP_STRIP` mm;
        ``None`` means none with bonded grips and :data:`GRIP_STRIP` of the mode with clamped
        ones (2 in mode I, 0 in mode II), capped at :data:`MAX_GRIP_STRIP` mm (resolved here).
        See "Grips" in :mod:`fem.fracture` for what it was measured against.
    stagger_tol, stagger_max_iter, max_nonconverged
        Stagger settings, see :class:`fem.phasefield.SolverOptions`. ``stagger_tol = 3e-3``
        gave strength and toughness within 1 % of plain staggering at 1e-3 on the designs
        measured (see :mod:`fem.phasefield`).

    Raises
    ------
    ValueError
        A value the solver cannot take; the message says what is allowed.
    """

    crack_length: float | None = None
    mode: Literal["I", "II"] = "I"
    plane: Literal["stress", "strain"] = "stress"
    ell: float = DEFAULT_ELL
    element_size: float | None = None
    elements_per_block: int | None = None
    split: Split | None = None
    materials: Mapping[str, Material] | None = None
    du_max_strain: float = 1e-2
    max_strain: float | None = None
    end_fraction: float | None = None
    through_crack: bool | None = None
    grips: Literal["bonded", "clamped"] = "bonded"
    grip_strip: float | None = None
    stagger_tol: float = 3e-3
    stagger_max_iter: int = 300
    max_nonconverged: int = 20

    def __post_init__(self) -> None:
        if self.mode not in ("I", "II"):
            raise ValueError(f"mode must be 'I' or 'II', got {self.mode!r}")
        if self.plane not in ("stress", "strain"):
            raise ValueError(f"plane must be 'stress' or 'strain', got {self.plane!r}")
        for name, default in (("crack_length", CRACK_LENGTH), ("max_strain", MAX_STRAIN), ("end_fraction", END_FRACTION)):
            if getattr(self, name) is None:
                _set(self, name, default[self.mode])
        for name, low, high in (("crack_length", 0.0, 1.0), ("end_fraction", 0.0, 1.0), ("ell", 0.0, 1.0)):
            _set(self, name, _real(name, getattr(self, name), low, high))
        if self.ell > MAX_ELL * (1 + 1e-12):
            raise ValueError(f"ell {self.ell:g} mm is too long for the 1 mm plate: at most {MAX_ELL:g} mm (1/16) is "
                             "allowed, so that a crack's damage band dies out before the grips (with a longer ell "
                             "the grips hold the damage back and the plate comes out stronger than its phases)")
        if self.grips not in GRIPS:
            raise ValueError(f"grips must be one of {list(GRIPS)}, got {self.grips!r}")
        if self.grip_strip is None:
            _set(self, "grip_strip", _default_grip_strip(self.mode, self.grips))
        for name in ("du_max_strain", "max_strain", "stagger_tol"):
            _set(self, name, _real(name, getattr(self, name), 0.0, math.inf))
        strip = self.grip_strip
        if isinstance(strip, (bool, np.bool_)) or not isinstance(strip, (int, float, np.integer, np.floating)) \
                or not (math.isfinite(strip) and strip >= 0):
            raise ValueError(f"grip_strip must be a finite number >= 0 (in units of ell; 0 for none), got {strip!r}")
        _set(self, "grip_strip", float(strip))
        if self.grip_strip * self.ell > MAX_GRIP_STRIP:
            raise ValueError(f"grip_strip {self.grip_strip:g} (in units of ell = {self.ell:g} mm) makes damage-free strips "
                             f"{self.grip_strip * self.ell:g} mm wide along the grips; at most {MAX_GRIP_STRIP:g} mm "
                             f"is allowed (grip_strip <= {MAX_GRIP_STRIP / self.ell:g} at this ell, or 0 for none)")
        for name, low in (("stagger_max_iter", 1), ("max_nonconverged", 0)):
            _set(self, name, _whole(name, getattr(self, name), low))
        _set(self, "split", ("spectral" if self.mode == "II" else "none") if self.split is None else check_split(self.split))
        if self.through_crack is None:
            _set(self, "through_crack", self.mode == "II")
        elif not isinstance(self.through_crack, (bool, np.bool_)):
            raise ValueError(f"through_crack must be True or False, got {self.through_crack!r}")
        _set(self, "through_crack", bool(self.through_crack))
        self._resolve_mesh()
        if self.materials is not None:
            _set(self, "materials", _phases(self.materials, self.ell))
            locking = {name: phase.nu for name, phase in self.materials.items() if phase.nu > MAX_PLANE_STRAIN_NU}
            if self.plane == "strain" and locking:
                named = ", ".join(f"nu = {nu:g} ({name})" for name, nu in locking.items())
                raise ValueError(f"plane strain with {named}: the plate's fully integrated "
                                 "elements lock as nu approaches 1/2 (the labels then depend on the mesh); plane "
                                 f"strain takes nu <= {MAX_PLANE_STRAIN_NU:g}, plane stress any nu < 0.5")

    def _resolve_mesh(self) -> None:
        if self.elements_per_block is not None:
            if self.element_size is not None:
                raise ValueError(f"give element_size or elements_per_block, not both (got element_size="
                                 f"{self.element_size!r}, elements_per_block={self.elements_per_block!r})")
            _set(self, "elements_per_block", _whole("elements_per_block", self.elements_per_block, 1))
            return
        half = 0.5 * self.ell
        size = half if self.element_size is None else _real("element_size", self.element_size, 0.0, math.inf)
        if size > half * (1 + 1e-12):
            raise ValueError(f"element_size {size:g} mm does not resolve the phase-field length ell = {self.ell:g} mm: "
                             f"at most ell/2 = {half:g} mm is allowed")
        n = math.ceil(1.0 / size - 1e-9)
        if n > MAX_ELEMENTS_PER_SIDE:
            raise ValueError(f"element_size {size:g} mm needs {n} elements per side of the 1 mm plate "
                             f"({plate_cost(n, n).describe()}); at most {MAX_ELEMENTS_PER_SIDE} are allowed "
                             f"(element_size >= {1.0 / MAX_ELEMENTS_PER_SIDE:g} mm, so ell >= "
                             f"{2.0 / MAX_ELEMENTS_PER_SIDE:g} mm)")
        _set(self, "element_size", size)


def _phases(materials: Any, ell: float) -> dict[str, Material]:
    """``materials`` as block type name → :class:`Material`; a phase may be given by its settings
    (:func:`fem.materials.material_from_settings`, at ``ell``)."""
    if not isinstance(materials, Mapping) or not materials:
        raise ValueError(f"materials must map block type names to phases (fem.materials.Material, or settings such "
                         f"as {{'E': 100, 'nu': 0.33, 'failure_strain': 0.4}}), got {materials!r}")
    phases = {str(name): phase if isinstance(phase, Material) else material_from_settings(str(name), phase, ell)
              for name, phase in materials.items()}
    moduli = {name: phase.E for name, phase in phases.items()}
    if max(moduli.values()) > MAX_CONTRAST * min(moduli.values()):
        raise ValueError(f"the phases' Young's moduli {moduli} (MPa) differ by more than {MAX_CONTRAST:g}×, beyond which "
                         f"the linear solves lose their accuracy; allowed: E of every phase within {MAX_CONTRAST:g}× of the others")
    return phases


def _default_grip_strip(mode: str, grips: str) -> float:
    """No strip for bonded grips; :data:`GRIP_STRIP` of ``mode`` (in units of ``ell``) for clamped ones (at most
    2 :data:`MAX_ELL`, within :data:`MAX_GRIP_STRIP`)."""
    return 0.0 if grips == "bonded" else GRIP_STRIP[mode]


def _set(setup: PlateSetup, name: str, value: Any) -> None:
    object.__setattr__(setup, name, value)


def _real(name: str, value: Any, low: float, high: float) -> float:
    """``value`` as a float in the open interval (low, high); ``ValueError`` otherwise."""
    try:
        number = float(value) if not isinstance(value, (bool, str)) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and low < number < high):
        allowed = f"> {low:g}" if math.isinf(high) else f"in ({low:g}, {high:g})"
        raise ValueError(f"{name} must be a finite number {allowed}, got {value!r}")
    return number


def _whole(name: str, value: Any, low: int) -> int:
    """``value`` as an int >= low (8 and 8.0 are accepted, 8.5, True and "8" are not)."""
    try:
        whole = operator.index(value) if not isinstance(value, bool) else None
    except TypeError:
        whole = int(value) if isinstance(value, float) and value.is_integer() else None
    if whole is None or whole < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(whole)


def updated(setup: PlateSetup, **options: Any) -> PlateSetup:
    """``setup`` with some fields changed, defaults resolved again.

    Giving ``element_size`` drops ``elements_per_block`` and the other way round; a new ``ell``
    moves an ``element_size`` that was at its default ``ell/2`` along with it; a new ``mode``
    resolves ``split``, ``crack_length``, ``max_strain``, ``end_fraction`` and ``through_crack`` again where they
    were at the old mode's default and are not given; a new ``mode``, ``ell`` or ``grips``
    resolves ``grip_strip`` again where it was at its default and is not given. Phases given by their
    settings were made at the old ``ell`` (a failure strain became a ``G_c`` there): give ``materials``
    again with a new ``ell`` to have them made at it.

    Raises
    ------
    ValueError
        Unknown field names (the message lists the allowed ones) or invalid values.
    """
    unknown = set(options) - set(PlateSetup.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)}; allowed {sorted(PlateSetup.__dataclass_fields__)}")
    given = {name: getattr(setup, name) for name in PlateSetup.__dataclass_fields__}
    if "elements_per_block" in options or ("ell" in options and setup.element_size == 0.5 * setup.ell):
        given["element_size"] = None
    if "element_size" in options:
        given["elements_per_block"] = None
    default = PlateSetup(mode=setup.mode)
    for name in ("split", "crack_length", "max_strain", "end_fraction", "through_crack"):
        if "mode" in options and name not in options and getattr(setup, name) == getattr(default, name):
            given[name] = None
    if ({"mode", "ell", "grips"} & set(options) and "grip_strip" not in options
            and setup.grip_strip == _default_grip_strip(setup.mode, setup.grips)):
        given["grip_strip"] = None
    given.update(options)
    return PlateSetup(**given)
