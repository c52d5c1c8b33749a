"""Glass configurations with dynamics: isoconfigurational ensembles and their propensity.

An isoconfigurational ensemble (Widmer-Cooper, Harrowell & Fynewever, Phys. Rev. Lett. 93,
135701 (2004)) runs many trajectories from one configuration with random initial momenta; a
particle's **dynamic propensity** is the ensemble mean of its displacement at a time t,

    p_i(t) = ⟨ |r_i(t) − r_i(0)| ⟩_iso,

the definition of Bapst et al., Nat. Phys. 16, 448 (2020) and of the BOTAN release (Shiba et
al., J. Chem. Phys. 158, 084503 (2023)), whose files this module reads: NumPy ``.npz`` with
``types`` (N,) integers, ``initial_positions`` (N, d) and either ``positions`` (R, N, d), the R
trajectories' unwrapped positions at time t, or ``propensity`` (N,). Without either the file is a
plain configuration (enough to predict softness; training needs the propensity). Coordinates lie in
``[0, L)^d`` (shifted here to the centred box of :class:`.ordering.systems.ParticleSystem`).
The files carry no box: give its length, or the number density (cubic box ``L = (N/ρ)^(1/d)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import freud
import numpy as np

from ..ordering.systems import ParticleSystem
from .npz import open_npz, real_array, species_of_types

__all__ = ["GlassSample", "propensity", "read_isoconfigurational"]


@dataclass(frozen=True, eq=False)
class GlassSample:
    """A configuration and, when known, each particle's propensity.

    Attributes
    ----------
    system : ParticleSystem
        Positions at time 0 with species.
    propensity : ndarray, shape (N,), or None
        Dynamic propensity (length units of the positions); None for a plain configuration.
    """

    system: ParticleSystem
    propensity: np.ndarray | None = None


def propensity(initial: np.ndarray, trajectories: np.ndarray) -> np.ndarray:
    """Mean displacement over an isoconfigurational ensemble (module notes).

    Parameters
    ----------
    initial : ndarray, shape (N, d)
        Positions at time 0.
    trajectories : ndarray, shape (R, N, d)
        Unwrapped positions of the R trajectories at time t.

    Returns
    -------
    ndarray, shape (N,)

    Raises
    ------
    ValueError
        Shapes that do not match, or NaN/infinite coordinates.
    """
    initial, trajectories = np.asarray(initial, dtype=float), np.asarray(trajectories, dtype=float)
    if initial.ndim != 2 or trajectories.ndim != 3 or trajectories.shape[1:] != initial.shape:
        raise ValueError(f"trajectories must have shape (R, N, d) = (R, {', '.join(map(str, initial.shape))}) "
                         f"to match the initial positions; got {trajectories.shape}")
    if not (np.isfinite(initial).all() and np.isfinite(trajectories).all()):
        raise ValueError("positions hold NaN or infinite values; all must be finite")
    return np.linalg.norm(trajectories - initial[None], axis=2).mean(axis=0)


def read_isoconfigurational(path: str | Path, *, box_length: float | None = None,
                            density: float | None = None,
                            species: tuple[str, ...] = ("A", "B")) -> GlassSample:
    """Read one isoconfigurational-ensemble file (module notes).

    Parameters
    ----------
    path : str or Path
        ``.npz`` file.
    box_length, density : float, optional
        The cubic (square, in 2D) periodic box: its length, or the number density. One is needed.
    species : tuple of str, default ("A", "B")
        Name of each integer type (type k ↦ ``species[k]``).

    Returns
    -------
    GlassSample

    Raises
    ------
    ValueError
        A missing field (``types`` or ``initial_positions``), no particles, no (or both) box
        length and density, types outside ``species``, positions or trajectories of the wrong
        shape, NaN coordinates, or particles outside [0, L).
    """
    path = Path(path)
    if box_length is not None and density is not None:
        raise ValueError(f"{path.name}: give the box length or the number density, not both")
    with open_npz(path) as data:
        missing = [k for k in ("types", "initial_positions") if k not in data.files]
        if missing:
            raise ValueError(f"{path.name}: needs fields types (N,) and initial_positions (N, d), optionally positions "
                             f"(R, N, d) or propensity (N,); it has {', '.join(data.files) or 'none'}")
        types = np.asarray(data["types"])
        initial = real_array(data, "initial_positions", path)
        if initial.ndim != 2 or initial.shape[1] not in (2, 3):
            raise ValueError(f"{path.name}: initial_positions must have shape (N, 2) or (N, 3), got {initial.shape}")
        if len(initial) == 0:
            raise ValueError(f"{path.name}: the file holds no particles (initial_positions has shape "
                             f"{initial.shape}); it needs at least one particle")
        values = None
        if "propensity" in data.files:
            values = real_array(data, "propensity", path)
            if values.shape != (len(initial),) or not np.isfinite(values).all():
                raise ValueError(f"{path.name}: propensity must hold {len(initial)} finite values, got shape "
                                 f"{values.shape}")
        elif "positions" in data.files:
            values = propensity(initial, real_array(data, "positions", path))
    n, dim = initial.shape
    names = species_of_types(types, n, species, path.name)
    if box_length is None and density is None:
        raise ValueError(f"{path.name}: the file has no box; give its length or the number density")
    if density is not None and not (np.isfinite(density) and density > 0):
        raise ValueError(f"the number density must be a finite number > 0, got {density!r}")
    length = float(box_length) if box_length is not None else (n / float(density)) ** (1 / dim)
    if not (np.isfinite(length) and length > 0):
        raise ValueError(f"the box length must be a finite number > 0, got {length!r}")
    if not np.isfinite(initial).all():
        raise ValueError(f"{path.name}: initial positions hold NaN or infinite values")
    if initial.min() < -1e-6 * length or initial.max() > length * (1 + 1e-6):
        raise ValueError(f"{path.name}: initial positions must lie in [0, L) = [0, {length:g}); they span "
                         f"{initial.min():g} … {initial.max():g} (wrong box length or density?)")
    box = freud.box.Box.cube(length) if dim == 3 else freud.box.Box.square(length)
    system = ParticleSystem(initial - length / 2, box, species=names)
    return GlassSample(system, values)
