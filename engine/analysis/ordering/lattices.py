"""Seeded crystal generators: sc, bcc, fcc, hcp, diamond (3D) and hexagonal (2D).

Every lattice is built from ``n × n × n`` (2D: ``n × n``) conventional unit cells in a periodic
box centred on the origin, scaled so that the nearest-neighbour distance is ``nn_distance``
(length units of the caller; 1 by default, i.e. LJ σ-like units).

Unit cells (lattice constant ``a``; fractional coordinates):

========== =========================== ================= ===================== ==========
lattice    cell (a units)              atoms per cell    nearest neighbours    d_nn
========== =========================== ================= ===================== ==========
sc         1 × 1 × 1                   1                 6                     a
bcc        1 × 1 × 1                   2                 8                     a√3/2
fcc        1 × 1 × 1                   4                 12                    a/√2
diamond    1 × 1 × 1                   8                 4                     a√3/4
hcp        1 × √3 × √(8/3) (ideal c/a) 4 (layers A, B)   12                    a
hexagonal  1 × √3 (2D)                 2                 6                     a
========== =========================== ================= ===================== ==========

Thermal noise: each particle is displaced by an isotropic Gaussian vector whose Cartesian
components have standard deviation ``lindemann * nn_distance / sqrt(d)``, so that the
root-mean-square displacement from the lattice site is ``sqrt(<|u|²>) = lindemann *
nn_distance`` — the Lindemann ratio in its usual form (Lindemann 1910; e.g. Stillinger,
J. Chem. Phys. 103, 4813 (1995)). Melting happens near a ratio of 0.1–0.15.
"""

from __future__ import annotations

import math

import freud
import numpy as np

from .systems import ParticleSystem

__all__ = ["LATTICES", "lattice", "lattice_sites", "thermal_noise", "nn_distance_of_cell"]

_S3 = math.sqrt(3.0)

#: name → (cell lengths in units of a, fractional basis, nearest-neighbour distance / a)
_CELLS: dict[str, tuple[tuple[float, ...], np.ndarray, float]] = {
    "sc": ((1.0, 1.0, 1.0), np.array([[0.0, 0.0, 0.0]]), 1.0),
    "bcc": ((1.0, 1.0, 1.0), np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]]), _S3 / 2),
    "fcc": (
        (1.0, 1.0, 1.0),
        np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]]),
        1.0 / math.sqrt(2.0),
    ),
    "diamond": (
        (1.0, 1.0, 1.0),
        np.vstack([
            [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]],
            np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]]) + 0.25,
        ]),
        _S3 / 4,
    ),
    "hcp": (
        (1.0, _S3, math.sqrt(8.0 / 3.0)),
        np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 1.0 / 6.0, 0.5], [0.0, 2.0 / 3.0, 0.5]]),
        1.0,
    ),
    "hexagonal": ((1.0, _S3), np.array([[0.0, 0.0], [0.5, 0.5]]), 1.0),
}

#: Names accepted by :func:`lattice`.
LATTICES: tuple[str, ...] = tuple(_CELLS)


def nn_distance_of_cell(kind: str) -> float:
    """Nearest-neighbour distance of lattice ``kind`` in units of its lattice constant a."""
    return _CELLS[_check_kind(kind)][2]


def _check_kind(kind: str) -> str:
    if kind not in _CELLS:
        raise ValueError(f"unknown lattice {kind!r}; allowed: {', '.join(LATTICES)}")
    return kind


def _check_cells(n: int | tuple[int, ...], dim: int) -> tuple[int, ...]:
    cells = (n,) * dim if np.isscalar(n) else tuple(n)
    if len(cells) != dim or any(int(c) != c or c < 1 for c in cells):
        raise ValueError(
            f"n must be a positive integer or {dim} positive integers (unit cells per axis), "
            f"got {n!r}"
        )
    return tuple(int(c) for c in cells)


def lattice_sites(
    kind: str, n: int | tuple[int, ...], *, nn_distance: float = 1.0
) -> tuple[np.ndarray, freud.box.Box]:
    """Perfect lattice sites and their periodic box.

    Parameters
    ----------
    kind : {"sc", "bcc", "fcc", "hcp", "diamond", "hexagonal"}
        Lattice (``"hexagonal"`` is the 2D triangular lattice).
    n : int or tuple of int
        Conventional unit cells along each axis.
    nn_distance : float, default 1
        Nearest-neighbour distance (length units).

    Returns
    -------
    sites : ndarray, shape (N, d)
        Site coordinates in ``[-L/2, L/2)``, cell by cell, basis atom fastest.
    box : freud.box.Box
        Orthorhombic periodic box of lengths ``n_i × cell_i × a``.
    """
    lengths, basis, nn_over_a = _CELLS[_check_kind(kind)]
    dim = len(lengths)
    cells = _check_cells(n, dim)
    if not (math.isfinite(nn_distance) and nn_distance > 0):
        raise ValueError(f"nn_distance must be a finite number > 0, got {nn_distance!r}")
    a = nn_distance / nn_over_a
    grid = np.stack(np.meshgrid(*[np.arange(c) for c in cells], indexing="ij"), -1).reshape(-1, dim)
    frac = (grid[:, None, :] + basis[None, :, :]).reshape(-1, dim)
    cell = a * np.asarray(lengths)
    box_lengths = cell * np.asarray(cells)
    sites = frac * cell - box_lengths / 2
    if dim == 2:
        box = freud.box.Box(Lx=box_lengths[0], Ly=box_lengths[1], is2D=True)
    else:
        box = freud.box.Box(*box_lengths)
    return sites, box


def thermal_noise(
    n_particles: int, dim: int, lindemann: float, nn_distance: float,
    seed: int | np.random.Generator | None,
) -> np.ndarray:
    """Gaussian displacements with rms length ``lindemann * nn_distance``.

    Parameters
    ----------
    n_particles, dim : int
        Shape of the result.
    lindemann : float
        Lindemann ratio ≥ 0 (rms displacement over nearest-neighbour distance).
    nn_distance : float
        Nearest-neighbour distance (length units).
    seed : int or numpy.random.Generator or None
        Randomness.

    Returns
    -------
    ndarray, shape (n_particles, dim)
        Displacements; each component ~ N(0, (lindemann · nn_distance)² / dim).
    """
    if not (math.isfinite(lindemann) and lindemann >= 0):
        raise ValueError(f"lindemann must be a finite number >= 0, got {lindemann!r}")
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, lindemann * nn_distance / math.sqrt(dim), size=(n_particles, dim))


def lattice(
    kind: str,
    n: int | tuple[int, ...],
    *,
    nn_distance: float = 1.0,
    lindemann: float = 0.0,
    seed: int | np.random.Generator | None = None,
) -> ParticleSystem:
    """A crystal with thermal noise, labelled with its lattice name.

    Parameters
    ----------
    kind : {"sc", "bcc", "fcc", "hcp", "diamond", "hexagonal"}
        Lattice.
    n : int or tuple of int
        Conventional unit cells per axis (see the module table for atoms per cell).
    nn_distance : float, default 1
        Nearest-neighbour distance of the perfect lattice (length units).
    lindemann : float, default 0
        Lindemann ratio: rms displacement from the site over ``nn_distance`` (module notes).
    seed : int or numpy.random.Generator or None
        Randomness of the noise; the same seed gives the same system.

    Returns
    -------
    ParticleSystem
        ``N = n^d × atoms per cell`` particles in the same order as :func:`lattice_sites`,
        ``labels`` all equal to ``kind``.
    """
    sites, box = lattice_sites(kind, n, nn_distance=nn_distance)
    noise = thermal_noise(len(sites), sites.shape[1], lindemann, nn_distance, seed)
    return ParticleSystem(sites + noise, box, labels=np.full(len(sites), kind))
