"""Spinodoid metamaterials: anisotropic Gaussian random field (GRF) geometry.

Kumar, Tan, Zheng & Kochmann, "Inverse-designed spinodoid metamaterials", npj Comput. Mater.
6, 73 (2020) define the phase field

    φ(x) = sqrt(2/N) Σ_i cos(β n_i·x + γ_i),   i = 1..N,

with unit wave directions n_i drawn uniformly on the sphere but kept only inside the double
cones of half-angle θx, θy, θz around the coordinate axes (θ = 0 closes a cone), random phases
γ_i, and solid where φ exceeds the level that makes the solid fraction equal ρ. Lengths are in
units of the published unit cell (β = 10π → wavelength 0.2 cell).

Two variants:

* ``periodic=False`` (published): free directions, not periodic; the unit cube [0, 1]³.
* ``periodic=True``: wave vectors on the reciprocal lattice of a cube of side L (``cell``),
  k = 2π m / L with integer m, | |k| − β | ≤ π / L, inside the cones, so the field is exactly
  periodic with period L. With L = 1 and β = 10π only a handful of lattice directions lie
  within 15° of an axis and narrow cones degenerate into laminates; ``cell=None`` therefore
  picks the smallest L in 1..4 that offers at least :data:`MIN_LATTICE_DIRECTIONS` distinct
  directions (±k counted once) and :meth:`Spinodoid.lattice_report` states what was found.
  If even L = 4 is not enough the design is still built and the report says it is degenerate.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import ndimage

from designs.base import GenomeIdentity

__all__ = [
    "MIN_LATTICE_DIRECTIONS",
    "MIN_VOXELS_PER_WAVELENGTH",
    "Connectivity",
    "Spinodoid",
    "connectivity",
    "lattice_directions",
]

#: Minimum number of distinct lattice directions (±k counted once) for a periodic cell.
MIN_LATTICE_DIRECTIONS = 20
#: Resolution check: voxels per wavelength 2π/β must be at least this.
MIN_VOXELS_PER_WAVELENGTH = 4.0
_MAX_AUTO_CELL = 4


def _check_theta(theta: Any) -> tuple[float, float, float]:
    try:
        th = tuple(float(t) for t in theta)
    except TypeError as exc:
        raise ValueError(f"theta must be three angles in degrees, got {theta!r}") from exc
    if len(th) != 3 or not all(math.isfinite(t) for t in th):
        raise ValueError(f"theta must be three finite angles in degrees, got {theta!r}")
    if any(t < 0.0 or t > 90.0 for t in th):
        raise ValueError(f"each cone half-angle theta must lie in [0, 90] degrees, got {th}")
    if all(t == 0.0 for t in th):
        raise ValueError("all cones are closed (theta = 0, 0, 0): open at least one cone (> 0°)")
    return th  # type: ignore[return-value]


def _in_cones(n: np.ndarray, theta_deg: tuple[float, float, float]) -> np.ndarray:
    """Mask of unit vectors ``n`` (k, 3) inside the union of the open double cones."""
    ok = np.zeros(len(n), dtype=bool)
    for ax, th in enumerate(theta_deg):
        if th > 0.0:
            ok |= np.abs(n[:, ax]) >= math.cos(math.radians(th)) - 1e-12
    return ok


def lattice_directions(
    theta: tuple[float, float, float], beta: float, cell: int
) -> np.ndarray:
    """Integer lattice vectors m admissible for a periodic cell of side ``cell``.

    Parameters
    ----------
    theta : tuple of float
        Cone half-angles (θx, θy, θz) in degrees.
    beta : float
        Wave number β in 1 / (unit length).
    cell : int
        Side L of the periodic cell in unit lengths.

    Returns
    -------
    numpy.ndarray
        (k, 3) integer vectors with | 2π|m|/L − β | ≤ π/L inside the cones, one of each ±m
        pair (first non-zero component positive).
    """
    th = _check_theta(theta)
    radius = beta * cell / (2.0 * np.pi)
    r = int(np.ceil(radius + 0.5))
    g = np.arange(-r, r + 1)
    m = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    norm = np.linalg.norm(m, axis=1)
    keep = (np.abs(norm - radius) <= 0.5) & (norm > 0)
    m, norm = m[keep], norm[keep]
    m = m[_in_cones(m / norm[:, None], th)]
    first = np.where(m[:, 0] != 0, m[:, 0], np.where(m[:, 1] != 0, m[:, 1], m[:, 2]))
    return m[first > 0]


@dataclass(frozen=True)
class Connectivity:
    """Connectivity report of a voxel structure.

    Attributes
    ----------
    solid_fraction : float
        Solid voxels / all voxels (dimensionless).
    connected_fraction : float
        Voxels of the kept (largest face-connected) cluster / all voxels.
    n_clusters : int
        Number of face-connected solid clusters.
    percolates : tuple of bool
        Whether the kept cluster spans the cell along x, y, z (periodic: wraps around).
    periodic : bool
        Whether connectivity was taken with periodic wrap-around.
    """

    solid_fraction: float
    connected_fraction: float
    n_clusters: int
    percolates: tuple[bool, bool, bool]
    periodic: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary of the report."""
        return {
            "solid_fraction": self.solid_fraction,
            "connected_fraction": self.connected_fraction,
            "n_clusters": self.n_clusters,
            "percolates": list(self.percolates),
            "periodic": self.periodic,
        }


def _periodic_label(solid: np.ndarray) -> tuple[np.ndarray, int]:
    """Face-connected labels with periodic wrap-around in all three axes."""
    lab, n = ndimage.label(solid)
    if n == 0:
        return lab, 0
    parent = np.arange(n + 1)

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for ax in range(3):
        a = np.take(lab, 0, axis=ax).ravel()
        b = np.take(lab, -1, axis=ax).ravel()
        both = (a > 0) & (b > 0)
        for u, v in set(zip(a[both].tolist(), b[both].tolist())):
            ru, rv = find(u), find(v)
            if ru != rv:
                parent[max(ru, rv)] = min(ru, rv)
    roots = np.array([find(i) for i in range(n + 1)])
    uniq, new = np.unique(roots, return_inverse=True)
    return new.reshape(-1)[lab], len(uniq) - 1


def connectivity(
    solid: np.ndarray, periodic: bool
) -> tuple[np.ndarray, Connectivity]:
    """Keep the largest face-connected solid cluster and report percolation.

    Parameters
    ----------
    solid : numpy.ndarray
        Boolean (nx, ny, nz) voxel array, True = solid.
    periodic : bool
        Treat the array as one period of a periodic structure (wrap-around connectivity;
        percolation = the cluster connects a voxel to its own image one period away).
        Otherwise percolation along an axis = the cluster touches both opposite faces.

    Returns
    -------
    kept : numpy.ndarray
        Boolean array of the largest cluster.
    report : Connectivity
        Fractions, cluster count and percolation flags.
    """
    solid = np.asarray(solid, dtype=bool)
    if solid.ndim != 3:
        raise ValueError(f"solid must be a 3D boolean array, got shape {solid.shape}")
    lab, n = _periodic_label(solid) if periodic else ndimage.label(solid)
    if n == 0:
        kept = np.zeros_like(solid)
        rep = Connectivity(0.0, 0.0, 0, (False, False, False), periodic)
        return kept, rep
    counts = np.bincount(lab.ravel())
    counts[0] = 0
    big = int(np.argmax(counts))
    kept = lab == big
    perc = []
    for ax in range(3):
        if periodic:
            tiled = np.concatenate([kept, kept], axis=ax)
            tl, _ = _periodic_label(tiled)
            first = np.take(tl, np.arange(kept.shape[ax]), axis=ax)
            second = np.take(tl, np.arange(kept.shape[ax], 2 * kept.shape[ax]), axis=ax)
            perc.append(bool(np.any((first > 0) & (first == second))))
        else:
            perc.append(bool(np.take(kept, 0, axis=ax).any() and np.take(kept, -1, axis=ax).any()))
    rep = Connectivity(
        solid_fraction=float(solid.mean()),
        connected_fraction=float(kept.mean()),
        n_clusters=int(n),
        percolates=tuple(perc),  # type: ignore[arg-type]
        periodic=periodic,
    )
    return kept, rep


@dataclass(frozen=True)
class Spinodoid(GenomeIdentity):
    """Spinodoid design (anisotropic GRF, Kumar et al. 2020).

    Parameters
    ----------
    rho : float
        Target solid volume fraction, in (0, 1).
    theta : tuple of float
        Cone half-angles (θx, θy, θz) in degrees, each 0 (closed) or in (0, 90].
    beta : float
        Wave number β in 1 / (unit length); default 10π (wavelength 0.2).
    n_waves : int
        Number N of superposed waves.
    seed : int
        Seed of the directions and phases.
    periodic : bool
        False: published variant on the unit cube (not periodic). True: exactly periodic.
    cell : int or None
        Periodic cell side L in unit lengths (periodic only); None picks the smallest L in 1..4
        with at least :data:`MIN_LATTICE_DIRECTIONS` admissible lattice directions.
    """

    space: ClassVar[str] = "spinodoid"

    rho: float
    theta: tuple[float, float, float] = (90.0, 90.0, 90.0)
    beta: float = 10.0 * math.pi
    n_waves: int = 1000
    seed: int = 0
    periodic: bool = False
    cell: int | None = None

    def __post_init__(self) -> None:
        rho = float(self.rho)
        if not (math.isfinite(rho) and 0.0 < rho < 1.0):
            raise ValueError(f"rho (solid fraction) must lie in the open interval (0, 1), got {self.rho!r}")
        object.__setattr__(self, "rho", rho)
        object.__setattr__(self, "theta", _check_theta(self.theta))
        beta = float(self.beta)
        if not (math.isfinite(beta) and beta > 0.0):
            raise ValueError(f"beta (wave number, 1/unit length) must be positive and finite, got {self.beta!r}")
        object.__setattr__(self, "beta", beta)
        if isinstance(self.n_waves, bool) or int(self.n_waves) != self.n_waves or not 1 <= int(self.n_waves) <= 100_000:
            raise ValueError(f"n_waves must be an integer in [1, 100000], got {self.n_waves!r}")
        object.__setattr__(self, "n_waves", int(self.n_waves))
        if isinstance(self.seed, bool) or int(self.seed) != self.seed or int(self.seed) < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "periodic", bool(self.periodic))
        if self.cell is not None:
            if not self.periodic:
                raise ValueError("cell (periodic cell side) is only allowed with periodic=True")
            if isinstance(self.cell, bool) or int(self.cell) != self.cell or not 1 <= int(self.cell) <= 8:
                raise ValueError(f"cell must be an integer in [1, 8] unit lengths, got {self.cell!r}")
            object.__setattr__(self, "cell", int(self.cell))

    # ------------------------------------------------------------------ identity
    def genome(self) -> dict[str, Any]:
        """Canonical JSON-serialisable genome."""
        return {
            "rho": self.rho,
            "theta": list(self.theta),
            "beta": self.beta,
            "n_waves": self.n_waves,
            "seed": self.seed,
            "periodic": self.periodic,
            "cell": self.cell,
        }

    @classmethod
    def from_json(cls, text: str | dict[str, Any]) -> "Spinodoid":
        """Rebuild from :meth:`to_json` output (string or dict); unknown keys are rejected."""
        data = json.loads(text) if isinstance(text, str) else dict(text)
        allowed = {"rho", "theta", "beta", "n_waves", "seed", "periodic", "cell"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown spinodoid keys {sorted(unknown)}; allowed: {sorted(allowed)}")
        if "rho" not in data:
            raise ValueError("spinodoid genome needs 'rho'")
        if "theta" in data:
            data["theta"] = tuple(data["theta"])
        return cls(**data)

    # ------------------------------------------------------------------ geometry
    @property
    def cell_length(self) -> int:
        """Side of the (periodic) cell in unit lengths: 1 for the published variant."""
        if not self.periodic:
            return 1
        if self.cell is not None:
            return self.cell
        for L in range(1, _MAX_AUTO_CELL + 1):
            if len(lattice_directions(self.theta, self.beta, L)) >= MIN_LATTICE_DIRECTIONS:
                return L
        return _MAX_AUTO_CELL

    def lattice_report(self) -> dict[str, Any]:
        """Periodic variant: cell side, number of lattice directions and degeneracy flag.

        Returns
        -------
        dict
            ``cell`` (unit lengths), ``n_directions`` (distinct ±k), ``degenerate`` (fewer
            than :data:`MIN_LATTICE_DIRECTIONS`: the structure tends to a laminate / few
            waves). For the published variant ``n_directions`` is ``n_waves``.
        """
        if not self.periodic:
            return {"cell": 1, "n_directions": self.n_waves, "degenerate": False}
        L = self.cell_length
        n = len(lattice_directions(self.theta, self.beta, L))
        return {"cell": L, "n_directions": n, "degenerate": n < MIN_LATTICE_DIRECTIONS}

    def min_resolution(self) -> int:
        """Smallest voxels per cell side with ≥ 4 voxels per wavelength 2π/β."""
        return int(math.ceil(MIN_VOXELS_PER_WAVELENGTH * self.beta * self.cell_length / (2 * math.pi) - 1e-9))

    def waves(self) -> tuple[np.ndarray, np.ndarray]:
        """Wave vectors k (N, 3) in 1/unit length and phases γ (N,) in radians."""
        rng = np.random.default_rng(self.seed)
        n = self.n_waves
        if self.periodic:
            L = self.cell_length
            m = lattice_directions(self.theta, self.beta, L)
            if len(m) == 0:
                raise ValueError(
                    f"no lattice wave vector with |k| ≈ beta={self.beta:.4g} lies inside cones "
                    f"{self.theta} for cell {L}: widen the cones or use a larger cell")
            pick = rng.integers(0, len(m), size=n)
            k = 2.0 * np.pi * m[pick].astype(float) / L
        else:
            dirs: list[np.ndarray] = []
            got = 0
            while got < n:
                v = rng.normal(size=(max(4 * n, 4096), 3))
                v /= np.linalg.norm(v, axis=1, keepdims=True)
                v = v[_in_cones(v, self.theta)]
                dirs.append(v)
                got += len(v)
            k = self.beta * np.concatenate(dirs)[:n]
        gamma = rng.uniform(0.0, 2.0 * np.pi, size=n)
        return k, gamma

    def field_at(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """GRF φ on the tensor grid of coordinates ``x, y, z`` (unit lengths).

        Parameters
        ----------
        x, y, z : numpy.ndarray
            1D coordinate arrays.

        Returns
        -------
        numpy.ndarray
            φ of shape (len(x), len(y), len(z)), unit variance.
        """
        k, gamma = self.waves()
        n = len(gamma)
        amp = np.sqrt(2.0 / n) * np.exp(1j * gamma)
        x, y, z = (np.asarray(a, dtype=float) for a in (x, y, z))
        out = np.zeros((len(x) * len(y), len(z)))
        chunk = max(1, int(2e7 // max(1, len(x) * len(y))))
        for s in range(0, n, chunk):
            sl = slice(s, s + chunk)
            ex = np.exp(1j * np.outer(k[sl, 0], x)) * amp[sl, None]
            ey = np.exp(1j * np.outer(k[sl, 1], y))
            ez = np.exp(1j * np.outer(k[sl, 2], z))
            t = (ex[:, :, None] * ey[:, None, :]).reshape(len(ex), -1)
            out += (t.T @ ez).real
        return out.reshape(len(x), len(y), len(z))

    def _check_resolution(self, resolution: int) -> int:
        if isinstance(resolution, bool) or int(resolution) != resolution:
            raise ValueError(f"resolution must be an integer number of voxels, got {resolution!r}")
        r = int(resolution)
        if r < self.min_resolution():
            raise ValueError(
                f"resolution {r} is too small for beta={self.beta:.4g} on a cell of "
                f"{self.cell_length} unit(s): need at least {self.min_resolution()} voxels per side "
                f"({MIN_VOXELS_PER_WAVELENGTH:g} per wavelength)")
        if r > 512:
            raise ValueError(f"resolution must be at most 512 voxels per side, got {r}")
        return r

    def field(self, resolution: int) -> np.ndarray:
        """φ at the voxel centres of an r³ grid over the cell (shape (r, r, r))."""
        r = self._check_resolution(resolution)
        c = (np.arange(r) + 0.5) * self.cell_length / r
        return self.field_at(c, c, c)

    def level(self, field: np.ndarray) -> float:
        """Threshold of ``field`` that makes the solid fraction (φ > level) equal ρ."""
        return float(np.quantile(np.asarray(field).ravel(), 1.0 - self.rho))

    def voxels(self, resolution: int) -> np.ndarray:
        """Boolean r³ voxel array (True = solid) with solid fraction ρ (to 1/r³)."""
        phi = self.field(resolution)
        return phi > self.level(phi)

    def structure(self, resolution: int) -> tuple[np.ndarray, Connectivity]:
        """Voxels of the largest connected cluster and the connectivity report.

        Connectivity is periodic for the periodic variant, face-to-face otherwise.
        """
        return connectivity(self.voxels(resolution), periodic=self.periodic)
