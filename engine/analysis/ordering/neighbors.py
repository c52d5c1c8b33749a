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
precision from the stored positions (for freud's choice of periodic image), for descriptors
that are compared with an independent implementation to 1e-10.

Units: the neighbour lists come from :meth:`.systems.ParticleSystem.freud_system`, so their
``distances``, ``vectors`` and Voronoi ``weights`` are in units of
:attr:`~.systems.ParticleSystem.freud_scale` (1 unless the mean spacing lies outside
~10⁻¹²…10¹², where freud would under- or overflow); cutoffs given here, and everything
:func:`pair_geometry` and :func:`pairs_within` return, are in the data's length units.
"""

from __future__ import annotations

import freud
import numpy as np

from .systems import ParticleSystem

__all__ = ["NeighborSpec", "neighbor_list", "ball_pairs", "max_cutoff", "pair_geometry", "pairs_within", "SANN_CANDIDATES"]

NeighborSpec = int | str

#: Candidate neighbours handed to the SANN filter.
SANN_CANDIDATES = 40


def max_cutoff(system: ParticleSystem) -> float:
    """Largest ball radius freud accepts: half the smallest distance between opposite box faces.

    For an orthorhombic box that is half the shortest box length; a tilted box is thinner
    (width k = 1 / |row k of the inverse box matrix|).
    """
    box, _ = system.freud_system()
    matrix = np.asarray(box.to_matrix(), dtype=float)[: system.dim, : system.dim] * system.freud_scale
    widths = 1.0 / np.linalg.norm(np.linalg.inv(matrix), axis=1)
    return float(widths.min()) / 2


def _knn(system: ParticleSystem, k: int) -> freud.locality.NeighborList:
    box, points = system.freud_system()
    query = freud.locality.AABBQuery(box, points)
    return query.query(points, {"num_neighbors": int(k), "exclude_ii": True}).toNeighborList()


def _voronoi(system: ParticleSystem) -> freud.locality.NeighborList:
    """freud's Voronoi neighbours, computed at unit mean spacing.

    voro++ (inside freud) drops faces below an absolute size, so thermal slivers came and went
    with the length unit (mean Voronoi q6 of fcc at Lindemann 0.02: 0.455 with unit neighbour
    distance, 0.451 with 2). The cells are computed for the configuration divided by its mean
    spacing (V/N)^(1/d) and the list is returned in :attr:`freud_scale` units, like the others.
    """
    box, points = system.freud_system()
    k = (1.0 / system.density) ** (1.0 / system.dim) / system.freud_scale
    unit_box = freud.box.Box(box.Lx / k, box.Ly / k, box.Lz / k, box.xy, box.xz, box.yz, is2D=box.is2D)
    voronoi = freud.locality.Voronoi()
    voronoi.compute((unit_box, (points / k).astype(np.float32)))
    nlist = voronoi.nlist
    return freud.locality.NeighborList.from_arrays(
        system.n_particles, system.n_particles, nlist.query_point_indices, nlist.point_indices,
        np.asarray(nlist.vectors, dtype=float) * k, np.asarray(nlist.weights, dtype=float) * k ** (system.dim - 1),
    )


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
        Distances, vectors and areas in units of ``system.freud_scale`` (module notes).

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
        return _voronoi(system)
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


def ball_pairs(system: ParticleSystem, r_max: float) -> freud.locality.NeighborList:
    """All ordered pairs (i, j), i ≠ j, closer than ``r_max`` (a small superset, from freud).

    Parameters
    ----------
    system : ParticleSystem
        Particles.
    r_max : float
        Cutoff (length units), below half the shortest periodic box length (box width if tilted).

    Returns
    -------
    freud.locality.NeighborList
        Bonds sorted by i; freud's single-precision search uses ``r_max (1 + 1e-5)``, so
        callers filter by their own double-precision distances (:func:`pair_geometry`). Its
        ``distances`` are in units of ``system.freud_scale`` (module notes).
    """
    limit = max_cutoff(system)
    if not (np.isfinite(r_max) and 0 < r_max < limit):
        raise ValueError(
            f"cutoff {r_max!r} is not allowed: it must be > 0 and below half the shortest "
            f"periodic box length ({limit:g}; for a tilted box, half its thinnest width); "
            "use a larger box or a shorter cutoff"
        )
    box, points = system.freud_system()
    query = freud.locality.AABBQuery(box, points)
    r_query = min(r_max * (1 + 1e-5), limit * (1 - 1e-7)) / system.freud_scale
    return query.query(points, {"r_max": r_query, "exclude_ii": True}).toNeighborList()


def pair_geometry(
    system: ParticleSystem, nlist: freud.locality.NeighborList
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bonds of a freud neighbour list with separation vectors in double precision.

    The periodic image of j is the one freud chose (its single-precision vector decides the
    integer image shift, which is then applied in double precision), so triclinic boxes and
    neighbours near half the box length are handled exactly as freud found them.

    Parameters
    ----------
    system : ParticleSystem
        Particles the list was built on.
    nlist : freud.locality.NeighborList
        Bonds (particle i = query point, neighbour j = point).

    Returns
    -------
    i, j : ndarray of int64, shape (B,)
        Particle and neighbour indices.
    vectors : ndarray, shape (B, d)
        ``r_j − r_i`` for freud's image of j (length units), float64.
    distances : ndarray, shape (B,)
        Their lengths, float64.
    """
    i = np.asarray(nlist.query_point_indices, dtype=np.int64)
    j = np.asarray(nlist.point_indices, dtype=np.int64)
    dim = system.dim
    direct = system.positions[j] - system.positions[i]
    scale = system.freud_scale  # a power of two: exact
    approx = np.asarray(nlist.vectors, dtype=float)[:, :dim] * scale
    box, _ = system.freud_system()  # the box freud searched (non-periodic axes enlarged)
    matrix = np.asarray(box.to_matrix(), dtype=float)[:dim, :dim] * scale
    shift = np.round(np.linalg.solve(matrix, (approx - direct).T).T)
    vectors = direct + shift @ matrix.T
    return i, j, vectors, np.linalg.norm(vectors, axis=1)


def pairs_within(system: ParticleSystem, r_max: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ordered pairs (i, j), i ≠ j, closer than ``r_max`` exactly (double precision).

    :func:`ball_pairs` filtered by :func:`pair_geometry`'s distances; same arguments and errors as
    :func:`ball_pairs`, same returns as :func:`pair_geometry` (sorted by i).
    """
    i, j, vectors, r = pair_geometry(system, ball_pairs(system, r_max))
    keep = r < r_max
    return i[keep], j[keep], vectors[keep], r[keep]
