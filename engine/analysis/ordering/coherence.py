"""Bond coherence: how well the bond order of a particle matches that of its neighbours.

For a particle i with neighbours j (``neighbors`` of :mod:`.neighbors`), the normalised
complex vectors ``q̂_l(i) = q_lm(i) / |q_l(i)|`` (m = −l…l, ``q_lm`` of Steinhardt, Nelson &
Ronchetti, Phys. Rev. B 28, 784 (1983), Eq. (1.2), averaged over i's neighbours) give the bond
coherence

    d_l(i, j) = Re Σ_m q̂_lm(i) q̂*_lm(j)  ∈ [−1, 1],

ten Wolde, Ruiz-Montero & Frenkel, J. Chem. Phys. 104, 9932 (1996), Eq. (6): a bond with
d_6 > 0.7 is a "connection", and a particle with at least 7 connections (of 12) is
solid-like — whatever its other bonds do. :func:`bond_coherence` returns the continuous
version: the mean ``d̄_l(i)`` over i's ``strongest`` most coherent bonds (all bonds by default).

Why the strongest bonds: a crystal particle in a surface keeps coherent bonds to the crystal
and adds incoherent ones to the liquid. Measured on
``slab_in_liquid("fcc", 8, slab_fraction=0.55, lindemann=0.05)`` with 12 neighbours (a (100)
surface particle has 8 crystal neighbours), d̄_6 is

=================== ============== =============== ========
particles           all 12 bonds   strongest 8     q6
=================== ============== =============== ========
bulk crystal        0.99           0.99            0.56
surface layer       0.69           0.89            0.42
liquid              0.14           0.29            0.31
=================== ============== =============== ========

so over the strongest 8 bonds the surface layer joins the crystal, where q6 and the plain mean
put it between the two phases. Computed by :class:`freud.order.SolidLiquid` (``ql_ij``),
single precision.
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
    strongest: int | None = None,
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
    strongest : int, optional
        Average only each particle's ``strongest`` largest d_l(i, j) (all its bonds when it
        has fewer); default: all bonds.

    Returns
    -------
    ndarray, shape (N, len(ls)), float64
        Dimensionless, in [−1, 1]; 1 when every neighbour has the same bond order; NaN for a
        particle without neighbours.

    Examples
    --------
    Every particle of a perfect lattice has d̄_l = 1 (all q̂_l equal).
    """
    degrees = _check_ls(ls)
    if min(degrees) < 1:
        raise ValueError(f"bond coherence needs l >= 1 (q_00 is the same for all), got {ls!r}")
    if strongest is not None and (int(strongest) != strongest or strongest < 1):
        raise ValueError(f"strongest must be a positive integer or None, got {strongest!r}")
    nlist = neighbor_list(system, neighbors)
    n = system.n_particles
    out = np.empty((n, len(degrees)))
    for k, l in enumerate(degrees):
        order = freud.order.SolidLiquid(l, q_threshold=0.7, solid_threshold=7, normalize_q=True)
        order.compute(system.freud_system(), neighbors=nlist)
        bonds = np.asarray(order.ql_ij, dtype=float)
        owner = np.asarray(order.nlist.query_point_indices, dtype=np.int64)
        if strongest is not None:
            rank_order = np.lexsort((-bonds, owner))  # by particle, most coherent first
            owner, bonds = owner[rank_order], bonds[rank_order]
            start = np.searchsorted(owner, np.arange(n))
            keep = np.arange(owner.size) - start[owner] < strongest
            owner, bonds = owner[keep], bonds[keep]
        counts = np.bincount(owner, minlength=n).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, k] = np.bincount(owner, bonds, n) / counts
    return out
