"""A synthetic trajectory with known rearrangements whose cause is structural: vacancy hopping.

A crystal (:func:`.ordering.lattices.lattice_sites`, nearest-neighbour distance 1) with
``vacancies`` empty sites; at ``hops`` random frames a particle next to a vacancy jumps into it
(by one nearest-neighbour distance, so the vacancy moves to the site it left). Every particle
vibrates about its site with a Gaussian of standard deviation ``vibration`` per axis. The
planted events are returned with the trajectory: the truth for hop detection and for softness,
since only neighbours of a vacancy ever rearrange — a particle's local structure (a missing
neighbour) tells whether it can. Species A and B are drawn at random (``fraction_b`` of B); the
box is the lattice's periodic box; positions are unwrapped; times are the frame numbers.
Works in 2D (``"hexagonal"``) and 3D (``"fcc"``, ``"sc"``, ...). For tests and for trying the app.
"""

from __future__ import annotations

import numpy as np

from ..ordering.lattices import lattice_sites
from ..ordering.systems import minimum_image
from .trajectory import GlassTrajectory

__all__ = ["vacancy_hopping"]


def vacancy_hopping(kind: str = "hexagonal", cells: int | tuple[int, ...] = (12, 7), *, vacancies: int = 8,
                    frames: int = 200, hops: int = 60, vibration: float = 0.05, fraction_b: float = 0.2,
                    margin: int = 10, seed: int | np.random.Generator = 0) -> tuple[GlassTrajectory, np.ndarray]:
    """A vacancy-hopping trajectory and its planted hops (module notes).

    Parameters
    ----------
    kind : str, default "hexagonal"
        Lattice of :func:`.ordering.lattices.lattice_sites` (hexagonal: 2D triangular).
    cells : int or tuple of int, default (12, 7)
        Unit cells per axis (hexagonal (12, 7): 168 sites in a 12 × 12.12 box).
    vacancies : int, default 8
        Empty sites (1 ≤ vacancies < sites).
    frames : int, default 200
        T.
    hops : int, default 60
        Planted hops, at frames drawn uniformly from ``margin … T − margin − 1``.
    vibration : float, default 0.05
        Standard deviation of the vibration per axis (length units).
    fraction_b : float, default 0.2
        Share of species B.
    margin : int, default 10
        Frames at either end without hops.
    seed : int or numpy.random.Generator

    Returns
    -------
    trajectory : GlassTrajectory
    planted : ndarray of int, shape (hops, 2)
        Frame and particle of each hop (the particle is at its new site from that frame on).

    Raises
    ------
    ValueError
        Counts out of range.
    """
    rng = np.random.default_rng(seed)
    sites, box = lattice_sites(kind, cells)
    n_sites, dim = sites.shape
    if not 1 <= vacancies < n_sites or frames < 2 * margin + 1 or hops < 0 or not 0 <= fraction_b <= 1:
        raise ValueError(f"need 1 <= vacancies < {n_sites} sites, frames >= 2 margin + 1, hops >= 0 and "
                         f"0 <= fraction_b <= 1; got {vacancies}, {frames}, {hops}, {fraction_b}")
    empty = set(rng.choice(n_sites, vacancies, replace=False).tolist())
    site_of = np.array([s for s in range(n_sites) if s not in empty])
    initial = sites[site_of]
    n = len(site_of)
    neighbours = [np.flatnonzero((np.linalg.norm(minimum_image(sites - sites[s], box), axis=1) < 1.01)
                                 & (np.arange(n_sites) != s)) for s in range(n_sites)]
    steps = np.zeros((frames, n, dim))
    planted = []
    for t in np.sort(rng.integers(margin, frames - margin, hops)):
        vacancy = int(rng.choice(sorted(empty)))
        occupied = [s for s in neighbours[vacancy] if s not in empty]
        if not occupied:
            continue
        source = int(rng.choice(occupied))
        particle = int(np.flatnonzero(site_of == source)[0])
        steps[t, particle] += minimum_image((sites[vacancy] - sites[source])[None], box)[0]
        site_of[particle] = vacancy
        empty.remove(vacancy)
        empty.add(source)
        planted.append((int(t), particle))
    positions = initial[None] + np.cumsum(steps, axis=0) + rng.normal(scale=vibration, size=steps.shape)
    species = np.where(rng.random(n) < fraction_b, "B", "A")
    trajectory = GlassTrajectory(positions, species, box, times=np.arange(frames, dtype=float))
    return trajectory, np.array(planted, dtype=int).reshape(-1, 2)
