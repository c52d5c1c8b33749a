"""Bond-orientational order: Steinhardt q_l, ŵ_l, Lechner–Dellago averages, Minkowski metrics.

All computed by :class:`freud.order.Steinhardt` (single precision, ~1e-7 relative):

* ``q_l(i) = sqrt(4π/(2l+1) Σ_m |q_lm(i)|²)`` with ``q_lm(i) = (1/N_b) Σ_j Y_lm(r̂_ij)``
  over the neighbours j of i — Steinhardt, Nelson & Ronchetti, Phys. Rev. B 28, 784 (1983),
  Eqs. (1.2)–(1.3), applied per particle.
* ``ŵ_l(i) = Σ_{m1+m2+m3=0} (l l l; m1 m2 m3) q_lm1 q_lm2 q_lm3 / (Σ_m |q_lm|²)^{3/2}``
  (the normalised third-order invariant, Eq. (1.4) of the same paper).
* ``average=True``: Lechner & Dellago, J. Chem. Phys. 129, 114707 (2008), Eq. (6): q_lm is
  first averaged over the particle and its neighbours (q̄_l, w̄_l).
* Minkowski structure metrics, Mickel, Kapfer, Schröder-Turk & Mecke, J. Chem. Phys. 138,
  044501 (2013), Eq. (5): Voronoi neighbours, each bond weighted by its face area over the
  cell's total face area (freud's ``weighted=True`` with a Voronoi list). Unlike a fixed
  neighbour count, the result changes continuously as particles move.

Angles are measured in the box frame; the values are rotation invariant. In 2D the bonds lie in
the z = 0 plane and the 3D harmonics are evaluated there.
"""

from __future__ import annotations

from collections.abc import Sequence

import freud
import numpy as np

from .neighbors import NeighborSpec, neighbor_list
from .systems import ParticleSystem

__all__ = ["steinhardt", "minkowski"]


def _check_ls(ls: int | Sequence[int]) -> list[int]:
    values = [ls] if np.isscalar(ls) else list(ls)
    if not values or any(int(v) != v or v < 0 for v in values):
        raise ValueError(f"l must be one or more integers >= 0, got {ls!r}")
    return [int(v) for v in values]


def steinhardt(
    system: ParticleSystem,
    ls: int | Sequence[int] = (4, 6),
    *,
    neighbors: NeighborSpec = 12,
    average: bool = False,
    wl: bool = False,
    weighted: bool = False,
) -> np.ndarray:
    """Per-particle Steinhardt order parameters.

    Parameters
    ----------
    system : ParticleSystem
        Particles (2D or 3D).
    ls : int or sequence of int, default (4, 6)
        Spherical-harmonic degrees l.
    neighbors : int or {"voronoi", "sann"}, default 12
        Neighbour definition (see :mod:`.neighbors`); 12 suits close packing, 8 or 14 bcc,
        6 sc.
    average : bool, default False
        Lechner–Dellago averaging over the first shell (q̄_l, w̄_l).
    wl : bool, default False
        Return the normalised third-order invariant ŵ_l instead of q_l.
    weighted : bool, default False
        Weight bonds by the neighbour list's weights (Voronoi face areas → Minkowski metrics).

    Returns
    -------
    ndarray, shape (N, len(ls)), float64
        Dimensionless order parameters, one column per l; NaN for a particle without
        neighbours.

    Examples
    --------
    Perfect fcc with 12 neighbours has q6 = 0.57452 and q4 = 0.19094 (Steinhardt 1983).
    """
    degrees = _check_ls(ls)
    nlist = neighbor_list(system, neighbors)
    order = freud.order.Steinhardt(
        degrees, average=average, wl=wl, weighted=weighted, wl_normalize=wl
    )
    order.compute(system.freud_system(), neighbors=nlist)
    values = np.real(np.asarray(order.particle_order, dtype=np.complex128 if wl else float))
    return values.reshape(system.n_particles, len(degrees)).astype(float)


def minkowski(
    system: ParticleSystem,
    ls: int | Sequence[int] = (4, 6),
    *,
    average: bool = False,
    wl: bool = False,
) -> np.ndarray:
    """Minkowski structure metrics q'_l (or w'_l): Voronoi-weighted Steinhardt order.

    Parameters
    ----------
    system : ParticleSystem
        Particles.
    ls : int or sequence of int, default (4, 6)
        Degrees l.
    average, wl : bool
        As in :func:`steinhardt`.

    Returns
    -------
    ndarray, shape (N, len(ls)), float64
        Dimensionless, one column per l.
    """
    return steinhardt(system, ls, neighbors="voronoi", average=average, wl=wl, weighted=True)
