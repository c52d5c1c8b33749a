"""Species-resolved structure functions of Cubuk, Schoenholz et al. (radial and angular).

Cubuk et al., Phys. Rev. Lett. 114, 108001 (2015), Eqs. (1)–(2); Schoenholz et al., Nat. Phys.
12, 469 (2016) (after Behler & Parrinello, Phys. Rev. Lett. 98, 146401 (2007)). For particle i,
distances R_ij (minimum image in a periodic box) and species X, Y of the other particles:

* radial, one per species X and shell position μ::

      G_X(i; μ) = Σ_{j ∈ X, j ≠ i, R_ij < r_R} exp(−(R_ij − μ)² / (2 L²))

* angular, one per unordered species pair {X, Y} and parameters (ξ, λ, ζ)::

      Ψ_XY(i; ξ, λ, ζ) = Σ_{{j, k}} exp(−(R_ij² + R_ik² + R_jk²) / ξ²) (1 + λ cos θ_ijk)^ζ

  over unordered pairs {j, k} of distinct neighbours of i with R_ij, R_ik < r_Ψ, one of species
  X and the other of species Y (each pair counted once; cos θ_ijk = r_ij·r_ik / (R_ij R_ik)).

The cutoffs are part of the definition (the sums stop there exactly): r_R = μ_max + 5 L by
default, where a dropped term is below exp(−12.5) ≈ 4e-6 of a full one; r_Ψ defaults to
2.5 σ_AA, the Kob–Andersen potential's cutoff. Both must be below half the shortest periodic
box length (minimum image).

Default set (:func:`default_set`, 152 functions for two species): radial μ = 0.1, 0.2, …, 4.0
with L = 0.1 (the grid and width of Cubuk et al. 2015; 40 per species), angular ξ ∈ {1.0, 1.5,
2.0, 2.5}, λ ∈ {−1, +1}, ζ ∈ {1, 2, 4} (24 per species pair). Lengths are in the units of the
positions (σ_AA for Kob–Andersen data).

Vectorised over freud neighbour lists: radial terms as one (pairs × μ) array per species,
angular terms over all neighbour pairs of a particle at once (the k-th and (k + d)-th neighbour,
d = 1, 2, …), both summed per particle by sparse matrix products.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse

from ..ordering.neighbors import pairs_within
from ..ordering.systems import ParticleSystem, minimum_image

__all__ = ["StructureFunctionSet", "default_set", "structure_functions"]


@dataclass(frozen=True)
class StructureFunctionSet:
    """Parameters of a set of structure functions (module notes).

    Parameters
    ----------
    mu : tuple of float
        Radial shell positions μ (length units), each > 0.
    width : float
        Radial Gaussian width L (> 0).
    xi : tuple of float
        Angular length scales ξ (> 0).
    lambdas : tuple of float
        Angular signs λ, each −1 or +1.
    zeta : tuple of float
        Angular exponents ζ (≥ 1).
    species : tuple of str
        Species names in column order (those of :attr:`.ParticleSystem.species`).
    radial_cutoff : float, optional
        r_R; default ``max(mu) + 5 width``.
    angular_cutoff : float
        r_Ψ (> 0); 0 with no angular parameters.

    Raises
    ------
    ValueError
        Empty or non-positive parameters, λ not ±1, ζ < 1, or fewer than one species.
    """

    mu: tuple[float, ...]
    width: float
    xi: tuple[float, ...]
    lambdas: tuple[float, ...]
    zeta: tuple[float, ...]
    species: tuple[str, ...] = ("A", "B")
    radial_cutoff: float | None = None
    angular_cutoff: float = 2.5

    def __post_init__(self) -> None:
        for name in ("mu", "xi", "lambdas", "zeta"):
            object.__setattr__(self, name, tuple(float(v) for v in getattr(self, name)))
        if not self.mu or min(self.mu) <= 0 or not np.isfinite(self.mu).all():
            raise ValueError(f"mu must be one or more finite shell positions > 0, got {self.mu!r}")
        if not (np.isfinite(self.width) and self.width > 0):
            raise ValueError(f"width must be a finite length > 0, got {self.width!r}")
        if any(v <= 0 or not np.isfinite(v) for v in self.xi):
            raise ValueError(f"xi must be finite lengths > 0, got {self.xi!r}")
        if any(v not in (-1.0, 1.0) for v in self.lambdas):
            raise ValueError(f"lambdas must each be -1 or +1, got {self.lambdas!r}")
        if any(v < 1 or not np.isfinite(v) for v in self.zeta):
            raise ValueError(f"zeta must be finite exponents >= 1, got {self.zeta!r}")
        object.__setattr__(self, "species", tuple(str(v) for v in self.species))
        if not self.species or len(set(self.species)) != len(self.species):
            raise ValueError(f"species must be one or more distinct names, got {self.species!r}")
        if self.radial_cutoff is None:
            object.__setattr__(self, "radial_cutoff", max(self.mu) + 5 * self.width)
        if not self.radial_cutoff > 0:
            raise ValueError(f"radial_cutoff must be > 0, got {self.radial_cutoff!r}")
        if self.n_angular_parameters and not self.angular_cutoff > 0:
            raise ValueError(f"angular_cutoff must be > 0, got {self.angular_cutoff!r}")

    @property
    def n_angular_parameters(self) -> int:
        """(ξ, λ, ζ) combinations per species pair."""
        return len(self.xi) * len(self.lambdas) * len(self.zeta)

    @property
    def species_pairs(self) -> list[tuple[int, int]]:
        """Unordered species pairs (X ≤ Y) in column order."""
        s = len(self.species)
        return [(a, b) for a in range(s) for b in range(a, s)]

    @property
    def n_features(self) -> int:
        """Columns of :func:`structure_functions`."""
        return len(self.species) * len(self.mu) + len(self.species_pairs) * self.n_angular_parameters

    def names(self) -> list[str]:
        """Column names, e.g. ``G_A(mu=1.00)`` and ``Psi_AB(xi=1.5,lambda=-1,zeta=2)``."""
        species = self.species
        radial = [f"G_{species[x]}(mu={m:.2f})" for x in range(len(species)) for m in self.mu]
        angular = [f"Psi_{species[a]}{species[b]}(xi={x:g},lambda={lam:+.0f},zeta={z:g})"
                   for a, b in self.species_pairs for x in self.xi for lam in self.lambdas for z in self.zeta]
        return radial + angular


def default_set(species: tuple[str, ...] = ("A", "B")) -> StructureFunctionSet:
    """The documented default set (module notes): 152 functions for two species."""
    return StructureFunctionSet(
        mu=tuple(np.round(np.arange(1, 41) * 0.1, 10)), width=0.1,
        xi=(1.0, 1.5, 2.0, 2.5), lambdas=(-1.0, 1.0), zeta=(1.0, 2.0, 4.0),
        species=species, angular_cutoff=2.5,
    )


def _species_indices(system: ParticleSystem, params: StructureFunctionSet) -> np.ndarray:
    if system.species is None:
        raise ValueError("the configuration has no species; structure functions are resolved by species "
                         f"({', '.join(params.species)}): give a species column (XYZ first column, CSV 'species')")
    unknown = sorted(set(system.species.tolist()) - set(params.species))
    if unknown:
        raise ValueError(f"species {', '.join(unknown)} not in the structure-function set; allowed: "
                         f"{', '.join(params.species)}")
    lookup = {name: k for k, name in enumerate(params.species)}
    return np.array([lookup[name] for name in system.species], dtype=np.int64)


def _check_cutoffs(system: ParticleSystem, params: StructureFunctionSet) -> None:
    lengths = np.asarray(system.box.L[: system.dim], dtype=float)[list(system.periodic)]
    needed = max(params.radial_cutoff, params.angular_cutoff if params.n_angular_parameters else 0.0)
    if len(lengths) and needed >= lengths.min() / 2:
        raise ValueError(f"the cutoff {needed:g} must be below half the shortest periodic box length "
                         f"({lengths.min():g} / 2 = {lengths.min() / 2:g}); use a larger box or shorter "
                         "cutoffs")


#: Pairs closer than this (length units) are one particle written twice.
COINCIDENT = 1e-6


def _bonds(system: ParticleSystem, r_max: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairs i → j with R_ij < r_max exactly: i, j (sorted by i), vectors r_j − r_i and lengths (float64)."""
    i, j, vec, r = pairs_within(system, r_max)
    if len(r) and r.min() < COINCIDENT:
        k = int(np.argmin(r))
        raise ValueError(f"particles {i[k]} and {j[k]} coincide (distance {r[k]:.2g}): bond angles are undefined; "
                         "remove duplicated particles")
    return i, j, vec, r


def _images_are_direct(system: ParticleSystem, length: float) -> bool:
    """Whether a difference of two minimum-image bonds (|r_k − r_j| ≤ ``length``) is itself the
    minimum image: in an orthorhombic box, when ``length`` is below half of every periodic length
    (any other image is then at least L − length > length away)."""
    tilts = (system.box.xy,) if system.box.is2D else (system.box.xy, system.box.xz, system.box.yz)
    lengths = np.asarray(system.box.L[: system.dim], dtype=float)[list(system.periodic)]
    return not np.any(tilts) and (not len(lengths) or length < lengths.min() / 2)


def _sum_by_row(rows: np.ndarray, n_rows: int, values: np.ndarray) -> np.ndarray:
    """Σ of ``values`` rows (T, F) grouped by ``rows`` (T,), shape (n_rows, F)."""
    select = scipy.sparse.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))),
                                     shape=(n_rows, len(rows)))
    return np.asarray(select @ values)


def _radial(system: ParticleSystem, types: np.ndarray, params: StructureFunctionSet) -> np.ndarray:
    n, mu = system.n_particles, np.asarray(params.mu)
    i, j, _, r = _bonds(system, params.radial_cutoff)
    out = np.zeros((n, len(params.species) * len(mu)))
    for x in range(len(params.species)):
        mine = types[j] == x
        terms = np.exp(-((r[mine, None] - mu) ** 2) / (2 * params.width ** 2))
        out[:, x * len(mu):(x + 1) * len(mu)] = _sum_by_row(i[mine], n, terms)
    return out


def _power(x: np.ndarray, z: float) -> np.ndarray:
    """x**z, by repeated squaring for the small integer exponents of the default set."""
    if z in (1.0, 2.0, 4.0, 8.0, 16.0):
        out = x
        for _ in range(int(np.log2(z))):
            out = out * out
        return out
    return x ** z


def _angular(system: ParticleSystem, types: np.ndarray, params: StructureFunctionSet) -> np.ndarray:
    n = system.n_particles
    pairs = params.species_pairs
    pair_of = np.zeros((len(params.species),) * 2, dtype=np.int64)
    for p, (a, b) in enumerate(pairs):
        pair_of[a, b] = pair_of[b, a] = p
    xi = np.asarray(params.xi)
    shape = [(lam, z) for lam in params.lambdas for z in params.zeta]
    i, j, vec, r = _bonds(system, params.angular_cutoff)
    direct = _images_are_direct(system, 2 * params.angular_cutoff)
    counts = np.bincount(i, minlength=n)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    local = np.arange(len(i)) - start[i]
    k = params.n_angular_parameters
    out = np.zeros((n * len(pairs), k))
    for d in range(1, int(counts.max(initial=0))):
        first = np.flatnonzero(local + d < counts[i])
        if not len(first):
            break
        second = first + d
        v1, v2 = vec[first], vec[second]
        r1, r2 = r[first], r[second]
        v3 = v2 - v1 if direct else minimum_image(v2 - v1, system.box)
        r3sq = np.einsum("ij,ij->i", v3, v3)
        cos = np.einsum("ij,ij->i", v1, v2) / (r1 * r2)
        radial = np.exp(-(r1 ** 2 + r2 ** 2 + r3sq)[:, None] / xi ** 2)  # (T, n_xi)
        angular = np.stack([_power(1 + lam * cos, z) for lam, z in shape], axis=1)  # (T, n_lambda n_zeta)
        terms = (radial[:, :, None] * angular[:, None, :]).reshape(len(first), k)
        rows = i[first] * len(pairs) + pair_of[types[j[first]], types[j[second]]]
        out += _sum_by_row(rows, n * len(pairs), terms)
    return out.reshape(n, len(pairs) * k)


def structure_functions(system: ParticleSystem, params: StructureFunctionSet | None = None) -> np.ndarray:
    """Radial and angular structure functions of every particle (module notes).

    Parameters
    ----------
    system : ParticleSystem
        Configuration with species (2D or 3D; periodic or not along each axis).
    params : StructureFunctionSet, optional
        Default :func:`default_set` over the system's species in sorted order.

    Returns
    -------
    ndarray, shape (N, params.n_features)
        Columns in the order of ``params.names()``: radial by species then μ, angular by species
        pair then ξ, λ, ζ.

    Raises
    ------
    ValueError
        No species, a species the set does not know, a cutoff not below half the shortest
        periodic box length, or two particles at the same place.
    """
    if params is None:
        params = default_set(("A", "B") if system.species is None else tuple(sorted(set(system.species.tolist()))))
    types = _species_indices(system, params)
    _check_cutoffs(system, params)
    parts = [_radial(system, types, params)]
    if params.n_angular_parameters:
        parts.append(_angular(system, types, params))
    return np.hstack(parts)
