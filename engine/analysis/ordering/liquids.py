"""Seeded liquid-like configurations: random packings relaxed by overlap removal.

How the liquid is made (no molecular dynamics, so it is fast and exactly reproducible): N
points are placed uniformly at random in the periodic box, then overlaps between soft spheres
of diameter σ are removed by steepest descent on the harmonic energy
``U = Σ_{pairs, r<σ} (σ − r)² / 2``: each step moves every particle by half the sum of its
overlaps, along the pair directions, until no pair is closer than ``σ (1 − tol)``. σ is set by a
packing fraction below freezing, ``φ = ρ π σ³ / 6 = 0.45`` in 3D (hard spheres freeze at
0.494; Hoover & Ree 1968) and ``φ = ρ π σ² / 4 = 0.60`` in 2D (hard disks order near 0.70),
at the number density ρ of the crystal it is compared with. The result has no overlaps and no
order; it is not an equilibrium liquid of any particular potential, but its local
environments are disordered like a dense liquid's (measured here at fcc density: Steinhardt
q6 with 12 neighbours 0.30 ± 0.06 per particle, against 0.575 for perfect fcc).
"""

from __future__ import annotations

import math

import freud
import numpy as np
from scipy.spatial import cKDTree

from .systems import ParticleSystem

__all__ = ["LIQUID_PACKING_FRACTION", "sphere_diameter", "remove_overlaps", "liquid"]

#: Packing fraction of the soft spheres whose overlaps are removed, by dimension.
LIQUID_PACKING_FRACTION: dict[int, float] = {3: 0.45, 2: 0.60}


def sphere_diameter(density: float, dim: int, packing_fraction: float | None = None) -> float:
    """Diameter σ at which ``density`` spheres (disks) fill ``packing_fraction`` of space.

    Parameters
    ----------
    density : float
        Number density (length⁻ᵈ).
    dim : {2, 3}
        Dimension.
    packing_fraction : float, optional
        Default :data:`LIQUID_PACKING_FRACTION` for ``dim``.

    Returns
    -------
    float
        σ = (6φ / (πρ))^(1/3) in 3D, (4φ / (πρ))^(1/2) in 2D (length units).
    """
    phi = LIQUID_PACKING_FRACTION[dim] if packing_fraction is None else packing_fraction
    if not 0 < phi < 1:
        raise ValueError(f"packing_fraction must lie in (0, 1), got {phi!r}")
    if dim == 3:
        return (6.0 * phi / (math.pi * density)) ** (1.0 / 3.0)
    return math.sqrt(4.0 * phi / (math.pi * density))


def remove_overlaps(
    positions: np.ndarray,
    lengths: np.ndarray,
    diameter: float,
    *,
    mobile: np.ndarray | None = None,
    tol: float = 1e-3,
    max_steps: int = 5000,
    max_move: float | None = None,
) -> np.ndarray:
    """Push overlapping spheres apart in an orthorhombic periodic box (steepest descent).

    Parameters
    ----------
    positions : ndarray, shape (N, d)
        Start coordinates, centred box convention (any values; they are wrapped).
    lengths : ndarray, shape (d,)
        Box lengths.
    diameter : float
        Sphere diameter σ (length units).
    mobile : ndarray of bool, shape (N,), optional
        Particles allowed to move (default all); pairs of two fixed particles are ignored.
    tol : float, default 1e-3
        Stop once every pair with a mobile member is at least ``σ (1 − tol)`` apart.
    max_steps : int, default 5000
        Give up (``RuntimeError``) after this many steps: the packing fraction is too high.
    max_move : float, optional
        Longest move of one particle in one step, in units of σ (default: no limit). Next to
        fixed particles (a crystal slab) an unlimited first step, driven by the large overlaps of
        the random start, can throw a particle through a crystal layer into an interstitial
        hole, where its fixed neighbours' pushes cancel and it stays overlapping for ever.

    Returns
    -------
    ndarray, shape (N, d)
        Relaxed coordinates wrapped into ``[-L/2, L/2)``.
    """
    lengths = np.asarray(lengths, dtype=float)
    n, dim = positions.shape
    mobile = np.ones(n, dtype=bool) if mobile is None else np.asarray(mobile, dtype=bool)
    pos = np.mod(np.asarray(positions, dtype=float) + lengths / 2, lengths)
    for _ in range(max_steps):
        pos[pos >= lengths] = 0.0  # np.mod can round a tiny negative up to L
        pairs = cKDTree(pos, boxsize=lengths).query_pairs(diameter, output_type="ndarray")
        if len(pairs):
            pairs = pairs[mobile[pairs[:, 0]] | mobile[pairs[:, 1]]]
        if len(pairs) == 0:
            break
        i, j = pairs[:, 0], pairs[:, 1]
        d = pos[j] - pos[i]
        d -= lengths * np.round(d / lengths)
        r = np.maximum(np.linalg.norm(d, axis=1), 1e-12 * diameter)
        overlap = diameter - r
        if overlap.max() <= tol * diameter:
            break
        push = (0.5 * overlap / r)[:, None] * d
        disp = np.stack(
            [np.bincount(j, push[:, k], n) - np.bincount(i, push[:, k], n) for k in range(dim)], 1
        )
        disp[~mobile] = 0.0
        if max_move is not None:
            length = np.linalg.norm(disp, axis=1)
            disp *= np.minimum(1.0, max_move * diameter / np.maximum(length, 1e-300))[:, None]
        pos = np.mod(pos + disp, lengths)
    else:
        raise RuntimeError(
            f"overlaps remain after {max_steps} steps; lower the packing fraction"
        )
    return pos - lengths / 2


def liquid(
    n_particles: int,
    density: float,
    *,
    dim: int = 3,
    aspect: tuple[float, ...] | None = None,
    packing_fraction: float | None = None,
    seed: int | np.random.Generator | None = None,
) -> ParticleSystem:
    """A liquid-like configuration at a given number density (see the module notes).

    Parameters
    ----------
    n_particles : int
        N ≥ 2.
    density : float
        Number density ρ (length⁻ᵈ); e.g. that of fcc with unit nearest-neighbour
        distance is √2.
    dim : {3, 2}
        Dimension.
    aspect : tuple of float, optional
        Relative box lengths (default a cube or square).
    packing_fraction : float, optional
        Soft-sphere packing fraction (default 0.45 in 3D, 0.60 in 2D).
    seed : int or numpy.random.Generator or None
        Randomness; the same seed gives the same configuration.

    Returns
    -------
    ParticleSystem
        Periodic orthorhombic box of volume N / ρ, ``labels`` all ``"liquid"``.
    """
    if dim not in (2, 3):
        raise ValueError(f"dim must be 2 or 3, got {dim!r}")
    if int(n_particles) != n_particles or n_particles < 2:
        raise ValueError(f"n_particles must be an integer >= 2, got {n_particles!r}")
    if not (math.isfinite(density) and density > 0):
        raise ValueError(f"density must be a finite number > 0, got {density!r}")
    shape = np.ones(dim) if aspect is None else np.asarray(aspect, dtype=float)
    if shape.shape != (dim,) or not np.all(shape > 0):
        raise ValueError(f"aspect must hold {dim} positive numbers, got {aspect!r}")
    lengths = shape * (n_particles / density / np.prod(shape)) ** (1.0 / dim)
    rng = np.random.default_rng(seed)
    start = rng.uniform(-0.5, 0.5, size=(int(n_particles), dim)) * lengths
    pos = remove_overlaps(start, lengths, sphere_diameter(density, dim, packing_fraction))
    box = (freud.box.Box(Lx=lengths[0], Ly=lengths[1], is2D=True) if dim == 2
           else freud.box.Box(*lengths))
    return ParticleSystem(pos, box, labels=np.full(int(n_particles), "liquid"))
