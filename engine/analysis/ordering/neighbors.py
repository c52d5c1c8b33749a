"""Neighbour lists from freud, checked, and pair geometry in double precision.

Who counts as a neighbour (``neighbors`` argument of the descriptors):

* an ``int`` k — the k nearest particles (freud ``num_neighbors`` query);
* ``"voronoi"`` — particles sharing a Voronoi face (3D) or edge (2D) with the particle; the
  list's weights are the face areas (edge lengths), freud's :class:`freud.locality.Voronoi`;
* ``"sann"`` — solid-angle based nearest neighbours, van Meel, Filion, Valeriani & Frenkel,
  J. Chem. Phys. 136, 234107 (2012), freud's :class:`freud.locality.FilterSANN` applied to the
  40 nearest particles. Perfect lattices get 12 (fcc, hcp), 14 (bcc) and 18 (sc: SANN takes the
  first two shells there, as the paper shows).

freud works in single precision; :func:`pair_geometry` recomputes separation vectors in double
precision from the stored positions with the minimum-image convention, for descriptors that
are compared with an independent implementation to 1e-10.
"""

from __future__ import annotations

import freud
import numpy as np

from .systems import ParticleSystem, minimum_image

__all__ = ["NeighborSpec", "neighbor_list", "ball_pairs", "pair_geometry", "SANN_CANDIDATES"]

NeighborSpec = int | str

#: Candidate neighbours handed to the SANN filter.
SANN_CANDIDATES = 40


def _max_cutoff(system: ParticleSystem) -> float:
    """Largest ball radius freud accepts: just under half the shortest periodic box length."""
    box, _ = system.freud_system()
    lengths = np.asarray(box.L[: system.dim], dtype=float)
    return float(lengths.min()) / 2


def _knn(system: ParticleSystem, k: int) -> freud.locality.NeighborList:
    box, points = system.freud_system()
    query = freud.locality.AABBQuery(box, points)
    return query.query(points, {"num_neighbors": int(k), "exclude_ii": True}).toNeighborList()


def neighbor_list(system: ParticleSystem, neighbors: NeighborSpec = 12) -> freud.locality.NeighborList:
    """The freud neighbour list of every particle.

    Parameters
    ----------
    system : ParticleSystem
        Particles.
    neighbors : int or {"voronoi", "sann"}
        Neighbour definition (module notes).

    Returns
    -------
    freud.locality.NeighborList
        Bonds ``(query_point_indices[b], point_indices[b])`` = (particle i, neighbour j), sorted
        by i; ``weights`` are 1, or face areas (length²) / edge lengths for ``"voronoi"``.

    Raises
    ------
    ValueError
        Unknown definition, a count < 1 or ≥ N, or too few particles for SANN.
    """
    n = system.n_particles
    if isinstance(neighbors, (int, np.integer)) and not isinstance(neighbors, bool):
        if neighbors < 1 or neighbors > n - 1:
            raise ValueError(
                f"asked for {neighbors} neighbours per particle but the system has {n} "
                f"particle(s); the count must lie between 1 and N - 1 = {n - 1}"
            )
        return _knn(system, int(neighbors))
    if neighbors == "voronoi":
        if n < 2:
            raise ValueError("Voronoi neighbours need at least 2 particles")
        voronoi = freud.locality.Voronoi()
        voronoi.compute(system.freud_system())
        return voronoi.nlist
    if neighbors == "sann":
        if n - 1 < 4:
            raise ValueError(f"SANN neighbours need at least 5 particles, the system has {n}")
        sann = freud.locality.FilterSANN(allow_incomplete_shell=False)
        try:
            sann.compute(system.freud_system(),
                         neighbors={"num_neighbors": min(SANN_CANDIDATES, n - 1), "exclude_ii": True})
        except RuntimeError as error:
            raise ValueError(
                f"SANN found no complete neighbour shell within the {min(SANN_CANDIDATES, n - 1)} "
                f"nearest particles of some particle ({error}); the system is too small or too "
                "sparse for SANN, use a fixed neighbour count instead"
            ) from None
        return sann.filtered_nlist
    raise ValueError(
        f"unknown neighbour definition {neighbors!r}; allowed: a positive integer count, "
        "'voronoi' or 'sann'"
    )


def ball_pairs(system: ParticleSystem, r_max: float) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs (i, j), i ≠ j, closer than ``r_max`` (a superset from freud).

    Parameters
    ----------
    system : ParticleSystem
        Particles.
    r_max : float
        Cutoff (length units), below half the shortest periodic box length.

    Returns
    -------
    i, j : ndarray of int, shape (B,)
        Bonds sorted by i; freud's single-precision search uses ``r_max (1 + 1e-5)``, so
        callers filter by their own double-precision distances.
    """
    limit = _max_cutoff(system)
    if not (np.isfinite(r_max) and 0 < r_max < limit):
        raise ValueError(
            f"cutoff {r_max!r} is not allowed: it must be > 0 and below half the shortest "
            f"periodic box length ({limit:g}); use a larger box or a shorter cutoff"
        )
    box, points = system.freud_system()
    query = freud.locality.AABBQuery(box, points)
    nlist = query.query(
        points, {"r_max": min(r_max * (1 + 1e-5), limit * (1 - 1e-7)), "exclude_ii": True}
    ).toNeighborList()
    return (np.asarray(nlist.query_point_indices, dtype=np.int64),
            np.asarray(nlist.point_indices, dtype=np.int64))


def pair_geometry(
    system: ParticleSystem, i: np.ndarray, j: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Separation vectors ``r_j − r_i`` (minimum image) and their lengths, float64.

    Parameters
    ----------
    system : ParticleSystem
        Particles.
    i, j : ndarray of int, shape (B,)
        Particle and neighbour indices.

    Returns
    -------
    vectors : ndarray, shape (B, d)
        Minimum-image separations (length units).
    distances : ndarray, shape (B,)
        Their Euclidean lengths.
    """
    vectors = minimum_image(system.positions[j] - system.positions[i], system.box)
    return vectors, np.linalg.norm(vectors, axis=1)
