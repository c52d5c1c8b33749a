"""Neighbour-shell counts: how many particles lie in each distance shell around a particle.

The descriptor of Phillips & Voth, Soft Matter 9, 8552 (2013) ("neighbour-shell sizes"),
and the radial part of Dietz, Kretz & Thoma, Phys. Rev. E 96, 011301 (2017), who scale
distances by the mean neighbour distance so that one trained model serves every density. Perfect
lattices give the textbook coordination shells: fcc 12, 6, 24, 12; bcc 8, 6, 12, 24; sc 6, 12,
8, 6 (at r/d_nn = 1, √2, √3, 2 for fcc; 1, 2/√3, √(8/3), √(11/3) for bcc).
"""

from __future__ import annotations

import numpy as np

from .neighbors import ball_pairs, neighbor_list, pair_geometry
from .systems import ParticleSystem

__all__ = ["mean_nn_distance", "shell_counts"]


def mean_nn_distance(system: ParticleSystem) -> float:
    """Mean over particles of the distance to the nearest other particle (length units)."""
    _, _, _, r = pair_geometry(system, neighbor_list(system, 1))
    return float(r.mean())


def shell_counts(
    system: ParticleSystem, edges: np.ndarray, *, relative: bool = False
) -> np.ndarray:
    """Neighbours of each particle in the shells ``edges[k] <= r < edges[k+1]``.

    Parameters
    ----------
    system : ParticleSystem
        Particles (2D or 3D).
    edges : ndarray, shape (K + 1,)
        Increasing shell boundaries ≥ 0: length units, or multiples of
        :func:`mean_nn_distance` when ``relative``.
    relative : bool, default False
        Scale ``edges`` by the system's mean nearest-neighbour distance.

    Returns
    -------
    ndarray of int, shape (N, K)
        Counts per particle and shell.
    """
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or not np.isfinite(edges).all() \
            or (np.diff(edges) <= 0).any() or edges[0] < 0:
        raise ValueError(
            f"edges must be at least two increasing finite numbers >= 0, got {edges!r}"
        )
    if relative:
        edges = edges * mean_nn_distance(system)
    i, _, _, r = pair_geometry(system, ball_pairs(system, float(edges[-1])))
    shell = np.searchsorted(edges, r, side="right") - 1
    keep = (shell >= 0) & (shell < edges.size - 1)
    k = edges.size - 1
    flat = np.bincount(i[keep] * k + shell[keep], minlength=system.n_particles * k)
    return flat.reshape(system.n_particles, k)
