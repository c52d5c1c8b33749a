"""Behler–Parrinello atom-centred symmetry functions G2 (radial) and G4 (angular).

Definitions (Behler, J. Chem. Phys. 134, 074106 (2011), Eqs. (4), (6), (8); used for crystal
structure recognition by Geiger & Dellago, J. Chem. Phys. 139, 164105 (2013)):

* cutoff ``f_c(r) = ½ [cos(π r / R_c) + 1]`` for ``r < R_c``, else 0;
* ``G2_i = Σ_j exp(−η (r_ij − R_s)²) f_c(r_ij)``;
* ``G4_i = 2^{1−ζ} Σ_{j<k} (1 + λ cos θ_jik)^ζ exp(−η (r_ij² + r_ik² + r_jk²))
  f_c(r_ij) f_c(r_ik) f_c(r_jk)``.

Pair-counting convention: G2 counts every neighbour j ≠ i once; G4 counts every *unordered*
pair {j, k} of distinct neighbours of i once (j < k). Behler's Eq. (8) sums over all ordered
pairs j ≠ k and is exactly twice our G4; divide by 2 when comparing with code that follows it.
θ_jik is the angle at i. The separations r_ij, r_ik are minimum-image vectors from i, and
``r_jk = |r_ik − r_ij|`` uses those same images of j and k (for ``R_c`` below a quarter of
the box this is also the minimum-image j–k distance). Triclinic boxes are supported.

Units: r, R_s and R_c in the system's length units, η in length⁻², ζ ≥ 1 and λ = ±1
dimensionless; G2 and G4 are dimensionless. Computed in double precision (:mod:`.neighbors`);
the G4 triplets are built in chunks of at most :data:`MAX_TRIPLETS` so memory stays bounded.
"""

from __future__ import annotations

import numpy as np

from .neighbors import ball_pairs, pair_geometry
from .systems import ParticleSystem

__all__ = ["cutoff_cosine", "g2", "g4", "MAX_TRIPLETS"]

#: Largest number of (i, j, k) triplets held in memory at once by :func:`g4`.
MAX_TRIPLETS = 2_000_000


def cutoff_cosine(r: np.ndarray, r_cut: float) -> np.ndarray:
    """Behler's cosine cutoff ``½ [cos(π r / R_c) + 1]`` inside ``R_c``, 0 outside.

    Parameters
    ----------
    r : ndarray
        Distances (length units).
    r_cut : float
        Cutoff radius R_c (length units).

    Returns
    -------
    ndarray
        Same shape as ``r``, values in [0, 1].
    """
    r = np.asarray(r, dtype=float)
    return np.where(r < r_cut, 0.5 * (np.cos(np.pi * r / r_cut) + 1.0), 0.0)


def _params(name: str, values: np.ndarray | float, size: int | None = None) -> np.ndarray:
    array = np.atleast_1d(np.asarray(values, dtype=float))
    if array.ndim != 1 or not np.isfinite(array).all():
        raise ValueError(f"{name} must be a finite number or 1D array of them, got {values!r}")
    if size is not None and array.size == 1:
        array = np.full(size, array[0])
    return array


def _broadcast(**params: np.ndarray | float) -> dict[str, np.ndarray]:
    arrays = {k: _params(k, v) for k, v in params.items()}
    size = max(a.size for a in arrays.values())
    for name, array in arrays.items():
        if array.size not in (1, size):
            raise ValueError(
                "parameter arrays must have equal lengths (or length 1), got "
                + ", ".join(f"{k}: {a.size}" for k, a in arrays.items())
            )
    return {k: np.broadcast_to(a, (size,)).copy() for k, a in arrays.items()}


def _bonds(system: ParticleSystem, r_cut: float) -> tuple[np.ndarray, ...]:
    if not (np.isfinite(r_cut) and r_cut > 0):
        raise ValueError(f"r_cut must be a finite number > 0, got {r_cut!r}")
    i, j, vectors, r = pair_geometry(system, ball_pairs(system, r_cut))
    keep = np.flatnonzero(r < r_cut)
    keep = keep[np.argsort(i[keep], kind="stable")]  # bonds grouped by particle i
    return i[keep], j[keep], vectors[keep], r[keep]


def g2(
    system: ParticleSystem,
    eta: np.ndarray | float,
    r_s: np.ndarray | float,
    r_cut: float,
) -> np.ndarray:
    """Radial symmetry functions G2 for P parameter sets.

    Parameters
    ----------
    system : ParticleSystem
        Particles (2D or 3D).
    eta : float or ndarray, shape (P,)
        Gaussian widths η (length⁻²), ≥ 0.
    r_s : float or ndarray, shape (P,)
        Gaussian centres R_s (length units).
    r_cut : float
        Cutoff R_c (length units), below half the shortest periodic box length.

    Returns
    -------
    ndarray, shape (N, P), float64
        ``G2_i`` for each parameter set (module notes), dimensionless.
    """
    p = _broadcast(eta=eta, r_s=r_s)
    if (p["eta"] < 0).any():
        raise ValueError(f"eta must be >= 0, got {eta!r}")
    i, _, _, r = _bonds(system, r_cut)
    fc = cutoff_cosine(r, r_cut)
    n = system.n_particles
    out = np.empty((n, p["eta"].size))
    for k, (e, rs) in enumerate(zip(p["eta"], p["r_s"])):
        out[:, k] = np.bincount(i, np.exp(-e * (r - rs) ** 2) * fc, n)
    return out


def _triplet_chunks(i: np.ndarray, n: int, limit: int):
    """Yield (first, second) bond-index arrays of all pairs j<k of bonds sharing particle i."""
    counts = np.bincount(i, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)])
    triplets = counts * (counts - 1) // 2
    cum = np.cumsum(triplets)
    a = 0
    while a < n:
        # particles a..b-1 in this chunk: at least one, at most `limit` triplets unless one
        # particle alone has more
        base = cum[a - 1] if a else 0
        b = max(int(np.searchsorted(cum, base + limit, side="right")), a + 1)
        b0, b1 = starts[a], starts[b]
        bonds = np.arange(b0, b1)
        local = bonds - starts[i[b0:b1]]
        partners = counts[i[b0:b1]] - 1 - local
        first = np.repeat(bonds, partners)
        offset = np.arange(first.size) - np.repeat(np.cumsum(partners) - partners, partners)
        yield first, first + 1 + offset
        a = b


def g4(
    system: ParticleSystem,
    eta: np.ndarray | float,
    zeta: np.ndarray | float,
    lam: np.ndarray | float,
    r_cut: float,
) -> np.ndarray:
    """Angular symmetry functions G4 for P parameter sets (unordered pairs j < k).

    Parameters
    ----------
    system : ParticleSystem
        Particles (2D or 3D).
    eta : float or ndarray, shape (P,)
        Gaussian width η (length⁻²), ≥ 0.
    zeta : float or ndarray, shape (P,)
        Angular resolution ζ ≥ 1.
    lam : float or ndarray, shape (P,)
        λ = +1 or −1 (maximum of the angular term at θ = 0 or π).
    r_cut : float
        Cutoff R_c (length units), below half the shortest periodic box length.

    Returns
    -------
    ndarray, shape (N, P), float64
        ``G4_i`` for each parameter set (module notes), dimensionless.
    """
    p = _broadcast(eta=eta, zeta=zeta, lam=lam)
    if (p["eta"] < 0).any():
        raise ValueError(f"eta must be >= 0, got {eta!r}")
    if (p["zeta"] < 1).any():
        raise ValueError(f"zeta must be >= 1, got {zeta!r}")
    if not np.isin(p["lam"], (-1.0, 1.0)).all():
        raise ValueError(f"lam must be +1 or -1, got {lam!r}")
    i, _, vectors, r = _bonds(system, r_cut)
    fc = cutoff_cosine(r, r_cut)
    n = system.n_particles
    out = np.zeros((n, p["eta"].size))
    for first, second in _triplet_chunks(i, n, MAX_TRIPLETS):
        if first.size == 0:
            continue
        v1, v2 = vectors[first], vectors[second]
        r1, r2 = r[first], r[second]
        cos = np.einsum("ij,ij->i", v1, v2) / (r1 * r2)
        r3 = np.linalg.norm(v2 - v1, axis=1)
        radial = fc[first] * fc[second] * cutoff_cosine(r3, r_cut)
        sq = r1 ** 2 + r2 ** 2 + r3 ** 2
        owner = i[first]
        for k, (e, z, lm) in enumerate(zip(p["eta"], p["zeta"], p["lam"])):
            angular = np.clip(1.0 + lm * cos, 0.0, None) ** z
            out[:, k] += np.bincount(owner, 2.0 ** (1.0 - z) * angular * np.exp(-e * sq) * radial, n)
    return out
