"""Isotropic elasticity (Lamé parameters, Voigt stiffness) and the phases of the fracture solvers.

This is the one home of the isotropic-elasticity formulas: the 2D fracture solvers, the 3D
voxel homogenisation and the scikit-fem reference all take λ and μ from :func:`lame`.

Units are consistent but free: the checkerboard defaults use MPa for moduli and stresses,
mm for lengths and N/mm (= kJ/m²) for the fracture toughness ``G_c``; the Miehe benchmark
uses kN/mm² and kN/mm.

The AT2 phase-field model with length scale ``ell`` has the 1D critical (peak) stress
``sigma_c = (3*sqrt(3)/16) * sqrt(E * G_c / ell)``. A phase given by its failure strain
``eps_f`` (so ``sigma_c = E * eps_f``) therefore gets
``G_c = (16 * sigma_c / (3*sqrt(3)))**2 * ell / E``; :func:`gc_from_failure_strain`
implements this. Note that scikit-fem 12's ``plane_stress`` already returns Lamé
parameters; we never chain it and compute them here (see :func:`lame`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = [
    "Material",
    "lame",
    "plane_lame",
    "isotropic_stiffness",
    "gc_from_failure_strain",
    "critical_stress_at2",
    "default_palette",
    "material_from_settings",
    "PHASE_SETTINGS",
    "DEFAULT_PHASE_SETTINGS",
    "DEFAULT_SOFT_E",
    "DEFAULT_STIFF_E",
    "DEFAULT_NU",
    "DEFAULT_SOFT_FAILURE_STRAIN",
    "DEFAULT_STIFF_FAILURE_STRAIN",
    "DEFAULT_COMPRESSIVE_STRENGTH",
]

DEFAULT_SOFT_E = 100.0  # MPa
DEFAULT_STIFF_E = 1000.0  # MPa
DEFAULT_NU = 0.33
DEFAULT_SOFT_FAILURE_STRAIN = 0.4
DEFAULT_STIFF_FAILURE_STRAIN = 0.04
#: Uniaxial compressive strength of both default phases (MPa): 10× their AT2 tensile strength of 40 MPa
#: (``E * failure_strain``), the ratio of brittle solids (Griffith's criterion gives 8); measured
#: against 8× and 5× in :mod:`fem.fracture` ("Compressive failure").
DEFAULT_COMPRESSIVE_STRENGTH = 400.0
#: What a phase can be given by (:func:`material_from_settings`), with units.
PHASE_SETTINGS: dict[str, str] = {"E": "MPa", "nu": "1", "failure_strain": "1", "Gc": "N/mm", "compressive_strength": "MPa"}
#: The default phases (:func:`default_palette`) by their settings.
DEFAULT_PHASE_SETTINGS: dict[str, dict[str, float]] = {
    "soft": {"E": DEFAULT_SOFT_E, "nu": DEFAULT_NU, "failure_strain": DEFAULT_SOFT_FAILURE_STRAIN,
             "compressive_strength": DEFAULT_COMPRESSIVE_STRENGTH},
    "stiff": {"E": DEFAULT_STIFF_E, "nu": DEFAULT_NU, "failure_strain": DEFAULT_STIFF_FAILURE_STRAIN,
              "compressive_strength": DEFAULT_COMPRESSIVE_STRENGTH},
}

_AT2_FACTOR = 3.0 * math.sqrt(3.0) / 16.0


def _check_positive(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def lame(E: float, nu: float) -> tuple[float, float]:
    """3D Lamé parameters from Young's modulus and Poisson's ratio.

    Parameters
    ----------
    E : float
        Young's modulus (e.g. MPa), finite and > 0.
    nu : float
        Poisson's ratio, in (-1, 0.5).

    Returns
    -------
    tuple of float
        ``(lambda, mu)`` in the units of ``E``:
        ``lambda = E nu / ((1 + nu)(1 - 2 nu))``, ``mu = E / (2 (1 + nu))``.
    """
    E = _check_positive("Young's modulus E", E)
    nu = float(nu)
    if not math.isfinite(nu) or not -1.0 < nu < 0.5:
        raise ValueError(f"Poisson's ratio nu must lie in (-1, 0.5), got {nu!r}")
    return E * nu / ((1.0 + nu) * (1.0 - 2.0 * nu)), E / (2.0 * (1.0 + nu))


def isotropic_stiffness(E: float, nu: float) -> np.ndarray:
    """Isotropic 6×6 Voigt stiffness from Young's modulus and Poisson's ratio.

    Parameters
    ----------
    E : float
        Young's modulus (any stress unit), finite and > 0.
    nu : float
        Poisson's ratio, in (-1, 0.5).

    Returns
    -------
    numpy.ndarray
        (6, 6) stiffness in the unit of ``E``, Voigt order 11, 22, 33, 23, 13, 12 with
        engineering shear strains: ``C_ij = lambda + 2 mu delta_ij`` for i, j < 3 and
        ``C_44 = C_55 = C_66 = mu`` (:func:`lame`), zero elsewhere.
    """
    lam, mu = lame(E, nu)
    C = np.zeros((6, 6))
    C[:3, :3] = lam
    C[np.arange(3), np.arange(3)] = lam + 2 * mu
    C[np.arange(3, 6), np.arange(3, 6)] = mu
    return C


def plane_lame(E: float, nu: float, plane: Literal["stress", "strain"] = "stress") -> tuple[float, float]:
    """Lamé parameters of the 2D (in-plane) constitutive law.

    Parameters
    ----------
    E : float
        Young's modulus (e.g. MPa).
    nu : float
        Poisson's ratio in (-1, 0.5).
    plane : {"stress", "strain"}
        Plane stress uses ``lambda* = 2 lambda mu / (lambda + 2 mu) = E nu / (1 - nu**2)``;
        plane strain uses the 3D ``lambda``. ``mu`` is the same in both.

    Returns
    -------
    tuple of float
        ``(lambda_2d, mu)`` such that ``sigma = lambda_2d tr(eps) I + 2 mu eps`` in-plane.
    """
    lam, mu = lame(E, nu)
    if plane == "strain":
        return lam, mu
    if plane == "stress":
        return 2.0 * lam * mu / (lam + 2.0 * mu), mu
    raise ValueError(f"plane must be 'stress' or 'strain', got {plane!r}")


def critical_stress_at2(E: float, Gc: float, ell: float) -> float:
    """1D critical stress of the AT2 model, ``(3 sqrt(3)/16) sqrt(E G_c / ell)``.

    Parameters
    ----------
    E : float
        Young's modulus (MPa).
    Gc : float
        Fracture toughness (N/mm).
    ell : float
        Phase-field length scale (mm).

    Returns
    -------
    float
        Peak stress of a homogeneous 1D bar (MPa).
    """
    E = _check_positive("Young's modulus E", E)
    Gc = _check_positive("fracture toughness Gc", Gc)
    ell = _check_positive("length scale ell", ell)
    return _AT2_FACTOR * math.sqrt(E * Gc / ell)


def gc_from_failure_strain(E: float, failure_strain: float, ell: float) -> float:
    """``G_c`` that makes an AT2 bar fail at ``sigma_c = E * failure_strain``.

    Parameters
    ----------
    E : float
        Young's modulus (MPa).
    failure_strain : float
        Uniaxial failure strain (dimensionless, > 0).
    ell : float
        Phase-field length scale (mm).

    Returns
    -------
    float
        ``G_c = (sigma_c / (3 sqrt(3)/16))**2 * ell / E`` (N/mm).
    """
    E = _check_positive("Young's modulus E", E)
    failure_strain = _check_positive("failure strain", failure_strain)
    ell = _check_positive("length scale ell", ell)
    sigma_c = E * failure_strain
    return (sigma_c / _AT2_FACTOR) ** 2 * ell / E


@dataclass(frozen=True)
class Material:
    """One isotropic, linear elastic, brittle phase.

    Parameters
    ----------
    name : str
        Block type name (e.g. ``"soft"``).
    E : float
        Young's modulus (MPa), finite and > 0.
    nu : float
        Poisson's ratio in (-1, 0.5).
    Gc : float
        Critical energy release rate (N/mm), finite and > 0.
    compressive_strength : float or None
        Uniaxial compressive strength (MPa, > 0): where the smallest principal stress of the
        undamaged phase falls below ``-compressive_strength`` the phase crushes (the whole strain
        energy drives its damage, :mod:`fem.phasefield_split`). None: it never fails in
        compression (the split alone decides).
    """

    name: str
    E: float
    nu: float
    Gc: float
    compressive_strength: float | None = None

    def __post_init__(self) -> None:
        lame(self.E, self.nu)  # validates E and nu
        _check_positive(f"fracture toughness Gc of {self.name!r}", self.Gc)
        if self.compressive_strength is not None:
            value = self.compressive_strength
            number = not isinstance(value, (bool, str)) and isinstance(value, (int, float, np.floating, np.integer))
            if not number or not math.isfinite(value) or value <= 0:
                raise ValueError(f"compressive strength of {self.name!r} must be a finite number > 0 (MPa), or None "
                                 f"for a phase that never crushes, got {value!r}")
            object.__setattr__(self, "compressive_strength", float(value))

    def lame(self, plane: Literal["stress", "strain"] = "stress") -> tuple[float, float]:
        """In-plane Lamé parameters ``(lambda_2d, mu)`` in MPa; see :func:`plane_lame`."""
        return plane_lame(self.E, self.nu, plane)

    def plane_modulus(self, plane: Literal["stress", "strain"] = "stress") -> float:
        """``E' = E`` (plane stress) or ``E / (1 - nu**2)`` (plane strain), MPa."""
        if plane == "stress":
            return self.E
        if plane == "strain":
            return self.E / (1.0 - self.nu**2)
        raise ValueError(f"plane must be 'stress' or 'strain', got {plane!r}")


def default_palette(ell: float) -> dict[str, Material]:
    """The literature soft/stiff pair at length scale ``ell`` (mm).

    Soft: E = 100 MPa, failure strain 0.4; stiff: E = 1000 MPa, failure strain 0.04;
    both ν = 0.33, so both reach 40 MPa in uniaxial AT2 tension; both crush at 400 MPa in
    compression (:data:`DEFAULT_COMPRESSIVE_STRENGTH`; see "Compressive failure" in :mod:`fem.fracture`).

    Parameters
    ----------
    ell : float
        Phase-field length scale (mm), > 0.

    Returns
    -------
    dict
        ``{"soft": Material, "stiff": Material}``.
    """
    return {name: material_from_settings(name, settings, ell) for name, settings in DEFAULT_PHASE_SETTINGS.items()}


def material_from_settings(name: str, settings: Mapping[str, Any], ell: float) -> Material:
    """A phase from its settings (the JSON form of a phase: files, forms, the command line).

    Parameters
    ----------
    name : str
        Block type name.
    settings : mapping
        ``E`` (MPa) and ``nu``; the toughness as ``Gc`` (N/mm) or as ``failure_strain`` (the
        uniaxial AT2 failure strain at ``ell``, :func:`gc_from_failure_strain`), not both;
        optionally ``compressive_strength`` (MPa; absent or None: the phase never crushes).
    ell : float
        Phase-field length scale (mm), > 0.

    Raises
    ------
    ValueError
        Unknown or missing settings, or values out of range; the message names the phase and
        what is allowed.
    """
    if not isinstance(settings, Mapping):
        raise ValueError(f"phase {name!r} must be given as a mapping of {', '.join(PHASE_SETTINGS)}, got {settings!r}")
    unknown = sorted(set(settings) - set(PHASE_SETTINGS))
    if unknown:
        raise ValueError(f"phase {name!r}: unknown setting(s) {unknown}; allowed: "
                         + ", ".join(f"{key} ({unit})" for key, unit in PHASE_SETTINGS.items()))
    if "Gc" in settings and "failure_strain" in settings:
        raise ValueError(f"phase {name!r}: give its toughness as Gc or as failure_strain, not both")
    if not {"E", "nu"} <= set(settings) or not {"Gc", "failure_strain"} & set(settings):
        raise ValueError(f"phase {name!r} needs E, nu and Gc or failure_strain, got {sorted(settings)}")
    values = {}
    for key, value in settings.items():
        if key == "compressive_strength" and (value is None or str(value).lower() == "none"):
            values[key] = None
        elif isinstance(value, (bool, str)) or not isinstance(value, (int, float, np.integer, np.floating)):
            never = ", or None (JSON null, 'none') for a phase that never crushes" if key == "compressive_strength" else ""
            raise ValueError(f"phase {name!r}: {key} must be a number ({PHASE_SETTINGS[key]}){never}, got {value!r}")
        else:
            values[key] = float(value)
    strength = values.get("compressive_strength")
    try:
        if "Gc" in values:
            return Material(name, values["E"], values["nu"], values["Gc"], strength)
        gc = gc_from_failure_strain(values["E"], values["failure_strain"], ell)
        if not (math.isfinite(gc) and gc > 0):
            raise ValueError(f"E = {values['E']:g} MPa with failure_strain = {values['failure_strain']:g} gives G_c = "
                             f"{gc:g} N/mm at ell = {ell:g} mm, out of floating-point range; give moduli in MPa")
        return Material(name, values["E"], values["nu"], gc, strength)
    except (ValueError, ArithmeticError) as exc:
        text = str(exc) if isinstance(exc, ValueError) else f"E = {values['E']:g} MPa is out of floating-point range"
        raise ValueError(text if repr(name) in text else f"phase {name!r}: {text}") from None
