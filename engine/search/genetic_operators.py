"""Seeded genetic operators on block grids: mutation, 2D crossover, diversity-aware selection.

Every operator draws from the ``numpy.random.Generator`` it is given (DEAP's own operators use
the global :mod:`random` module, which a resumable campaign cannot replay) and works on integer
grids ``(rows, columns)`` of block codes (checkerboard: 0 soft, 1 stiff; hierarchical: 0 iso,
1 stiff-x, 2 stiff-y). Distances are Hamming distances in cells.

- :func:`flip_cells` — per-cell mutation: each cell takes another code with probability ``rate``;
- :func:`block_mutation` — a random rectangle of up to ``max_size × max_size`` cells becomes one
  code (moves soft or stiff regions as a whole, which single flips reach only slowly);
- :func:`patch_crossover` — the two-point crossover generalised to 2D: the parents swap one
  random axis-aligned rectangle (the rectangular case of the geographic crossover of Kahng &
  Moon 1995, "Toward more powerful recombinations", ICGA), so neighbouring blocks stay together;
- :func:`niche_counts` and :func:`shared_fitness` — fitness sharing (Goldberg & Richardson 1987,
  "Genetic algorithms with sharing for multimodal function optimization", ICGA): a design's
  fitness is divided by the number of designs within ``radius`` cells of it, weighted by the
  triangular sharing function ``sh(d) = 1 − d / radius``; applied to fitness *ranks* so that
  negative or multi-objective fitness (NSGA-II ranks) can be shared too;
- :func:`tournament` — tournament selection (with replacement) on any score.

Parents chosen by a tournament on the shared fitness are chosen by fitness *and* diversity, as
Yu, Qin & Buehler (2019) ask of their GA: a crowd of near-copies of one good design shares one
niche and loses tournaments to a slightly worse design that stands alone.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

__all__ = [
    "block_mutation",
    "flip_cells",
    "hamming_matrix",
    "niche_counts",
    "patch_crossover",
    "shared_fitness",
    "tournament",
]


def _check_grid(grid: np.ndarray, stack: bool = False) -> np.ndarray:
    grid = np.asarray(grid)
    if grid.ndim < 2 or (grid.ndim > 2 and not stack) or grid.size == 0 or grid.dtype.kind not in "iu":
        what = "2D (or a stack of 2D)" if stack else "2D"
        raise ValueError(f"a grid must be a non-empty {what} integer array, got {grid.dtype} of shape {grid.shape}")
    return grid


def _check_types(n_types: int) -> int:
    if isinstance(n_types, bool) or int(n_types) != n_types or n_types < 2:
        raise ValueError(f"n_types must be an integer >= 2 (block codes 0..n_types-1), got {n_types!r}")
    return int(n_types)


def flip_cells(grid: np.ndarray, rate: float, n_types: int, rng: np.random.Generator) -> np.ndarray:
    """Per-cell mutation: each cell changes with probability ``rate`` to another code, uniformly.

    Parameters
    ----------
    grid : ndarray of int, shape (rows, columns) or (n, rows, columns)
        Block codes in ``0..n_types-1``; a stack of grids is mutated grid by grid.
    rate : float
        Probability per cell, in [0, 1] (dimensionless).
    n_types : int
        Number of block codes (2 for soft/stiff: a change is a flip).
    rng : numpy.random.Generator

    Returns
    -------
    ndarray
        A new grid; ``grid`` is left alone.
    """
    grid = _check_grid(grid, stack=True)
    n_types = _check_types(n_types)
    if not 0.0 <= float(rate) <= 1.0:
        raise ValueError(f"a mutation rate is a probability in [0, 1], got {rate!r}")
    change = rng.random(grid.shape) < rate
    shift = rng.integers(1, n_types, size=grid.shape)  # another code: (code + 1..n_types-1) mod n_types
    return np.where(change, (grid + shift) % n_types, grid)


def block_mutation(grid: np.ndarray, max_size: int, n_types: int, rng: np.random.Generator) -> np.ndarray:
    """A random rectangle of ``h × w`` cells (each side uniform in 1..max_size, clipped to the grid) set to one code.

    The rectangle's position is uniform among those inside the grid; its code is uniform among
    the ``n_types`` codes (it may already hold it in places).

    Returns
    -------
    ndarray
        A new grid.
    """
    grid = _check_grid(grid)
    n_types = _check_types(n_types)
    if isinstance(max_size, bool) or int(max_size) != max_size or max_size < 1:
        raise ValueError(f"max_size must be an integer >= 1 (cells), got {max_size!r}")
    rows, columns = grid.shape
    h = int(rng.integers(1, min(int(max_size), rows) + 1))
    w = int(rng.integers(1, min(int(max_size), columns) + 1))
    r0 = int(rng.integers(0, rows - h + 1))
    c0 = int(rng.integers(0, columns - w + 1))
    out = grid.copy()
    out[r0:r0 + h, c0:c0 + w] = int(rng.integers(0, n_types))
    return out


def patch_crossover(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two children that swap one random rectangle of the parents (2D two-point crossover).

    Row cuts ``0 <= r0 < r1 <= rows`` and column cuts ``0 <= c0 < c1 <= columns`` are drawn
    uniformly among distinct pairs; the first child is ``a`` with ``b``'s cells in
    ``[r0:r1, c0:c1]``, the second the reverse. Every cell of a child comes from the same place
    in one parent, and the two children hold between them exactly the parents' cells.

    Returns
    -------
    (ndarray, ndarray)
        New grids; the parents are left alone.
    """
    a, b = _check_grid(a), _check_grid(b)
    if a.shape != b.shape:
        raise ValueError(f"parents of different shapes {a.shape} and {b.shape} cannot cross")
    r0, r1 = np.sort(rng.choice(a.shape[0] + 1, size=2, replace=False))
    c0, c1 = np.sort(rng.choice(a.shape[1] + 1, size=2, replace=False))
    child_a, child_b = a.copy(), b.copy()
    child_a[r0:r1, c0:c1] = b[r0:r1, c0:c1]
    child_b[r0:r1, c0:c1] = a[r0:r1, c0:c1]
    return child_a, child_b


def hamming_matrix(grids: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances (cells that differ) of grids ``(n, rows, columns)``, shape (n, n)."""
    flat = np.asarray(grids).reshape(len(grids), -1)
    if flat.shape[1] == 0:
        raise ValueError("grids must have at least one cell")
    codes = np.unique(flat)
    same = sum((flat == c).astype(np.int32) @ (flat == c).astype(np.int32).T for c in codes)
    return flat.shape[1] - same


def niche_counts(grids: np.ndarray, radius: float) -> np.ndarray:
    """Niche count ``m_i = Σ_j sh(d_ij)`` with ``sh(d) = 1 − d / radius`` for ``d < radius``, else 0.

    ``d_ij`` is the Hamming distance in cells; every design counts itself (``m_i >= 1``).
    ``radius = 0`` switches sharing off (``m_i = 1``).

    Parameters
    ----------
    grids : ndarray, shape (n, rows, columns)
    radius : float
        Niche radius σ_share in cells (>= 0), Goldberg & Richardson (1987).
    """
    if not float(radius) >= 0.0:
        raise ValueError(f"the niche radius is a number of cells >= 0, got {radius!r}")
    if radius == 0:
        return np.ones(len(grids))
    d = hamming_matrix(grids)
    return np.clip(1.0 - d / float(radius), 0.0, None).sum(axis=1)


def shared_fitness(fitness: np.ndarray, grids: np.ndarray, radius: float) -> np.ndarray:
    """Fitness sharing on ranks: ``rank_i / m_i`` with ranks 1 (worst) .. n (best), ties averaged.

    Designs of fitness −inf (failed or invalid) get 0. Larger is better.
    """
    f = np.asarray(fitness, dtype=float)
    if f.ndim != 1 or len(f) != len(grids):
        raise ValueError(f"one fitness per grid: got {f.shape} for {len(grids)} grids")
    invalid = ~(f > -np.inf)  # -inf and NaN
    ranks = rankdata(np.where(invalid, -np.inf, f), method="average")
    ranks[invalid] = 0.0
    return ranks / niche_counts(grids, radius)


def tournament(scores: np.ndarray, k: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``k`` tournament winners: each draws ``size`` entrants with replacement, the highest score wins.

    Ties go to the entrant drawn first. With distinct scores the entrant of rank ``i`` (1 = worst
    of ``n``) wins a tournament with probability ``(i**size − (i − 1)**size) / n**size``.
    """
    scores = np.asarray(scores, dtype=float)
    if isinstance(size, bool) or int(size) != size or size < 1:
        raise ValueError(f"the tournament size must be an integer >= 1, got {size!r}")
    if scores.ndim != 1 or scores.size == 0:
        raise ValueError("tournament selection needs a non-empty 1D array of scores")
    entrants = rng.integers(0, len(scores), size=(int(k), int(size)))
    return entrants[np.arange(int(k)), np.argmax(scores[entrants], axis=1)]
