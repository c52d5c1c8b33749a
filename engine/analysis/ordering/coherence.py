"""Bond coherence: how well the bond order of a particle matches that of its neighbours.

For a particle i with neighbours j (``neighbors`` of :mod:`.neighbors`), the normalised
complex vectors ``q̂_l(i) = q_lm(i) / |q_l(i)|`` (m = −l…l, ``q_lm`` of Steinhardt, Nelson &
Ronchetti, Phys. Rev. B 28, 784 (1983), Eq. (1.2), averaged over i's neighbours) give the bond
coherence

    d_l(i, j) = Re Σ_m q̂_lm(i) q̂*_lm(j)  ∈ [−1, 1],

ten Wolde, Ruiz-Montero & Frenkel, J. Chem. Phys. 104, 9932 (1996), Eq. (6) (their
"connection" is a bond with d_6 > 0.7; a particle with more than 7 connections is solid-like).
:func:`bond_coherence` returns the mean ``d̄_l(i)`` over the neighbours of i, the continuous
version of their count. Unlike q_l, it stays high for a crystal particle whose environment is
cut by a surface: the bonds it keeps to crystal neighbours are coherent, whatever the liquid
beside it adds. Measured on ``slab_in_liquid("fcc", 8, slab_fraction=0.55, lindemann=0.05)``
(12 neighbours): d̄_6 = 0.99 in the bulk crystal, 0.69 in its surface layers, 0.14 in the
liquid — where q6 gives 0.56, 0.42 and 0.31, putting the surface layer between the two
phases. Computed by :class:`freud.order.SolidLiquid` (``ql_ij``), single precision.
"""

from __future__ import annotations

from collections.abc import Sequence

import freud
import numpy as np

from .neighbors import NeighborSpec, neighbor_list
from .steinhardt import _check_ls
from .systems import ParticleSystem

__all__ = ["bond_coherence"]


def bond_coherence(
    system: ParticleSystem,
    ls: int | Sequence[int] = (6,),
    *,
    neighbors: NeighborSpec = 12,
) -> np.ndarray:
    """Mean bond coherence d̄_l of every particle with its neighbours (module notes).

    Parameters
    ----------
    system : ParticleSystem
        Particles (2D or 3D).
    ls : int or sequence of int, default (6,)
        Degrees l ≥ 1.
    neighbors : int or {"voronoi", "sann"}, default 12
        Neighbour definition, used both for q_lm and for the bonds averaged over.

    Returns
    -------
    ndarray, shape (N, len(ls)), float64
        Dimensionless, in [−1, 1]; 1 when every neighbour has the same bond order; NaN for a
        particle without neighbours.
    """
    degrees = _check_ls(ls)
    if min(degrees) < 1:
        raise ValueError(f"bond coherence needs l >= 1 (q_00 is the same for all), got {ls!r}")
    nlist = neighbor_list(system, neighbors)
    n = system.n_particles
    owner = np.asarray(nlist.query_point_indices, dtype=np.int64)
    counts = np.bincount(owner, minlength=n).astype(float)
    out = np.empty((n, len(degrees)))
    with np.errstate(invalid="ignore", divide="ignore"):
        for k, l in enumerate(degrees):
            order = freud.order.SolidLiquid(l, q_threshold=0.7, solid_threshold=7, normalize_q=True)
            order.compute(system.freud_system(), neighbors=nlist)
            bonds = np.asarray(order.ql_ij, dtype=float)
            i = np.asarray(order.nlist.query_point_indices, dtype=np.int64)
            out[:, k] = np.bincount(i, bonds, n) / counts
    return out
