"""Spinodoid metamaterials: anisotropic Gaussian random field (GRF) geometry.

Kumar, Tan, Zheng & Kochmann, "Inverse-designed spinodoid metamaterials", npj Comput. Mater.
6, 73 (2020) define the phase field

    φ(x) = sqrt(2/N) Σ_i cos(β n_i·x + γ_i),   i = 1..N,

with unit wave directions n_i uniform on the union of the double cones of half-angle θx, θy, θz
around the coordinate axes (θ = 0 closes a cone), random phases γ_i, and solid where φ exceeds
the level that makes the solid fraction equal ρ. Lengths are in units of the published unit
cell (β = 10π → wavelength 0.2 cell). The paper draws directions on the whole sphere and keeps
those inside the cones, which takes ~1/(1 − cos θ) draws per direction (θ = 0.01°: 6.6e7);
:func:`cone_directions` samples the caps directly instead (same distribution, constant time).

Two variants:

* ``periodic=False`` (published): free directions, not periodic; the unit cube [0, 1]³.
* ``periodic=True``: wave vectors on the reciprocal lattice of a cube of side L (``cell``),
  k = 2π m / L with integer m, | |k| − β | ≤ π / L, inside the cones, so the field is exactly
  periodic with period L. With L = 1 and β = 10π only a handful of lattice directions lie
  within 15° of an axis and narrow cones degenerate into laminates; ``cell=None`` therefore
  picks the smallest L in 1..4 that offers at least :data:`MIN_LATTICE_DIRECTIONS` distinct
  directions (±k counted once) and :meth:`Spinodoid.lattice_report` states what was found.
  If even L = 4 is not enough, the smallest L in 1..4 with the most directions is used, the
  design is still built and the report says it is degenerate (θ = 0.01°: one direction, a
  laminate, on the unit cell).

Which solid counts (:func:`connectivity`): the mechanics keeps every face-connected cluster that
can carry load and drops only floating islands — published variant (affine boundary
conditions): every cluster touching a face of the cell; periodic variant: every cluster that
percolates (joins its own periodic image).
"""

from __future__ import annotations

import itertools
import json
import math
import numbers
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from scipy import ndimage

from designs.base import GenomeIdentity

__all__ = [
    "MIN_LATTICE_DIRECTIONS",
    "MIN_WAVELENGTHS_PER_CELL",
    "MIN_VOXELS_PER_WAVELENGTH",
    "TIE_TOLERANCE",
    "Clusters",
    "Connectivity",
    "Spinodoid",
    "cone_directions",
    "connectivity",
    "find_clusters",
    "lattice_directions",
    "threshold_level",
]

#: Minimum number of distinct lattice directions (±k counted once) for a periodic cell.
MIN_LATTICE_DIRECTIONS = 20
#: Published variant: a unit cell fewer wavelengths 2π/β wide than this is warned of (:meth:`Spinodoid.structure_warning`);
#: Kumar et al. (2020) use β = 10π, five wavelengths.
MIN_WAVELENGTHS_PER_CELL = 2.0
#: Resolution check: voxels per wavelength 2π/β must be at least this.
MIN_VOXELS_PER_WAVELENGTH = 4.0
#: Most voxels per cell side (:meth:`Spinodoid.field`).
MAX_RESOLUTION = 512
#: Largest wave number: a wavelength 2π/β spans MIN_VOXELS_PER_WAVELENGTH of MAX_RESOLUTION voxels on a unit cell.
MAX_BETA = 2.0 * math.pi * MAX_RESOLUTION / MIN_VOXELS_PER_WAVELENGTH
_MAX_AUTO_CELL = 4


def _real(value: Any) -> float | None:
    """``value`` as a float if it is a real number (not a bool, a string or None), else None."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def _whole(value: Any) -> int | None:
    """``value`` as an int if it is a finite real number with an integer value (not a bool), else None."""
    x = _real(value)
    return int(x) if x is not None and math.isfinite(x) and x.is_integer() else None


def _check_theta(theta: Any) -> tuple[float, float, float]:
    if isinstance(theta, (str, bytes)) or not hasattr(theta, "__len__") or len(theta) != 3:
        raise ValueError(f"theta must be three angles in degrees, got {theta!r}")
    th = tuple(_real(t) for t in theta)
    if any(t is None or not math.isfinite(t) for t in th):
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


def cone_directions(
    theta: tuple[float, float, float], n: int, rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    """Unit vectors uniform on the union of the open double cones, drawn inside the caps.

    Each open axis a has a double cap |n_a| ≥ cos θ_a of area 4π (1 − cos θ_a). A proposal
    picks a cap with probability ∝ 1 − cos θ_a, then a point uniform on it (cosine of the polar
    angle uniform in [cos θ_a, 1], azimuth uniform in [0, 2π), random sign for the double
    cone). Where m caps overlap the proposal density is m times the density elsewhere, so a
    proposal is kept with probability 1/m: the result is uniform on the union (the
    distribution of the published rejection sampler on the whole sphere), and since m ≤ 3 at
    least a third of the proposals are kept, whatever the angles.

    Parameters
    ----------
    theta : tuple of float
        Cone half-angles (θx, θy, θz) in degrees; 0 closes a cone, at least one must be open.
    n : int
        Number of directions.
    rng : numpy.random.Generator
        Random source (consumed in batches, so the output depends only on its state and n).

    Returns
    -------
    directions : numpy.ndarray
        (n, 3) unit vectors.
    proposals : int
        Proposals up to the n-th kept one (n ≤ proposals; exactly n for one open cone, about
        3 n for three 90° cones, which each cover the sphere).
    """
    th = _check_theta(theta)
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n (number of directions) must be a positive integer, got {n!r}")
    n = int(n)
    axes = [ax for ax in range(3) if th[ax] > 0.0]
    cos_t = np.array([math.cos(math.radians(th[ax])) for ax in axes])
    # 1 - cos θ loses all digits at θ ~ 1e-8 rad; 2 sin²(θ/2) does not
    area = np.array([2.0 * math.sin(math.radians(th[ax]) / 2.0) ** 2 for ax in axes])
    prob = area / area.sum()
    out: list[np.ndarray] = []
    got = proposals = 0
    while got < n:
        m = max(16, int(1.1 * (n - got) * len(axes)))
        cap = rng.choice(len(axes), size=m, p=prob)
        # cos of the polar angle uniform in [cos θ, 1]: 1 - u (1 - cos θ), with 1 - cos θ = area
        c = 1.0 - rng.uniform(0.0, 1.0, size=m) * area[cap]
        s = np.sqrt(np.clip((1.0 - c) * (1.0 + c), 0.0, None))
        phi = rng.uniform(0.0, 2.0 * np.pi, size=m)
        sign = np.where(rng.uniform(size=m) < 0.5, -1.0, 1.0)
        local = np.stack([sign * c, s * np.cos(phi), s * np.sin(phi)], axis=1)
        v = np.empty_like(local)
        pole = np.array(axes)[cap]
        for k in range(3):  # rotate the cap's pole (local x) onto its axis, cyclically
            v[:, k] = local[np.arange(m), (k - pole) % 3]
        inside = np.zeros(m, dtype=int)
        for j, ax in enumerate(axes):
            inside += (np.abs(v[:, ax]) >= cos_t[j]) | (cap == j)
        kept = np.flatnonzero(rng.uniform(size=m) * inside < 1.0)[: n - got]
        # proposals up to the last one needed (the rest of the batch is discarded)
        proposals += int(kept[-1]) + 1 if got + len(kept) == n else m
        out.append(v[kept])
        got += len(kept)
    return np.concatenate(out), proposals


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
    yz = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)
    out = []
    for mx in range(r + 1):  # one slice of the cube at a time (memory r², not r³); m_x < 0 is never first > 0
        m = np.column_stack([np.full(len(yz), mx), yz])
        norm = np.linalg.norm(m, axis=1)
        keep = (np.abs(norm - radius) <= 0.5) & (norm > 0)
        m, norm = m[keep], norm[keep]
        m = m[_in_cones(m / norm[:, None], th)]
        first = np.where(m[:, 0] != 0, m[:, 0], np.where(m[:, 1] != 0, m[:, 1], m[:, 2]))
        out.append(m[first > 0])
    return np.concatenate(out)


@dataclass(frozen=True)
class Clusters:
    """Connected solid clusters of a voxel array and how each one meets the cell.

    Attributes
    ----------
    labels : numpy.ndarray
        (nx, ny, nz) int: 0 = void, 1..n = cluster.
    faces : numpy.ndarray
        (n, 6) bool: cluster i has a voxel in the layer x = 0, x = end, y = 0, y = end,
        z = 0, z = end (in that order).
    wraps : tuple of numpy.ndarray
        Periodic clustering only (empty tuple otherwise): per cluster, the integer lattice
        vectors T (k, 3), in periods, such that the cluster joins its own image shifted by T
        (the lattice they span is what the cluster spans of the infinite tiling; none = a
        finite island).
    periodic : bool
        Whether the clustering wraps around the cell faces.
    """

    labels: np.ndarray
    faces: np.ndarray
    wraps: tuple[np.ndarray, ...]
    periodic: bool

    @property
    def n(self) -> int:
        """Number of clusters."""
        return len(self.faces)

    def spans(self, i: int) -> tuple[bool, bool, bool]:
        """Whether cluster ``i`` (0-based) connects the cell along x, y, z.

        Non-periodic: it touches both opposite faces. Periodic: one of its wrap vectors has a
        non-zero component along the axis (it reaches its image one or more periods away).
        """
        if self.periodic:
            w = self.wraps[i]
            return tuple(bool(np.any(w[:, ax] != 0)) for ax in range(3))  # type: ignore[return-value]
        f = self.faces[i]
        return (bool(f[0] and f[1]), bool(f[2] and f[3]), bool(f[4] and f[5]))

    def wrap_rank(self, i: int) -> int:
        """Dimension (0..3) of the lattice of periodic images cluster ``i`` joins (periodic only)."""
        w = self.wraps[i]
        return int(np.linalg.matrix_rank(w)) if len(w) else 0

    def load_bearing(self, i: int) -> bool:
        """Whether cluster ``i`` can carry load: it touches a face (non-periodic: held by the
        affine boundary) or percolates (periodic); otherwise it is a floating island."""
        return bool(self.faces[i].any()) if not self.periodic else self.wrap_rank(i) > 0


def _half_offsets(corners: bool) -> np.ndarray:
    """Neighbour offsets, one of each ± pair: 3 (shared faces) or 13 (faces, edges, corners)."""
    if not corners:
        return np.eye(3, dtype=int)
    return np.array([o for o in itertools.product((-1, 0, 1), repeat=3) if o > (0, 0, 0)])


def _find(parent: list[int], pot: list[np.ndarray], a: int) -> tuple[int, np.ndarray]:
    """Root of ``a`` and the offset of a's frame from the root's (path-compressed)."""
    path = []
    while parent[a] != a:
        path.append(a)
        a = parent[a]
    root, acc = a, np.zeros(3, dtype=np.int64)
    for b in reversed(path):       # from the root down: accumulate offsets
        acc = acc + pot[b]
        pot[b] = acc.copy()
        parent[b] = root
    return root, (pot[path[0]] if path else acc)


def find_clusters(solid: np.ndarray, periodic: bool, corners: bool = False) -> Clusters:
    """Label connected solid clusters; with periodic wrap-around, also their wrap vectors.

    Parameters
    ----------
    solid : numpy.ndarray
        Boolean (nx, ny, nz) voxel array, True = solid.
    periodic : bool
        Treat the array as one period of a periodic structure: voxels on opposite faces are
        neighbours. Each piece of the non-periodic labelling gets an integer lattice offset
        (union–find with offsets over the face-crossing contacts); a contact that closes a
        loop with a non-zero net offset T means the cluster joins its image shifted by T.
    corners : bool
        False: voxels sharing a face are connected (the clusters that carry load as solids);
        True: also voxels sharing only an edge or a corner (they share finite-element nodes).

    Returns
    -------
    Clusters
    """
    solid = np.asarray(solid, dtype=bool)
    if solid.ndim != 3:
        raise ValueError(f"solid must be a 3D boolean array, got shape {solid.shape}")
    structure = ndimage.generate_binary_structure(3, 3 if corners else 1)
    lab, n = ndimage.label(solid, structure=structure)
    wraps: tuple[np.ndarray, ...] = ()
    if periodic and n:
        parent = list(range(n + 1))
        pot = [np.zeros(3, dtype=np.int64) for _ in range(n + 1)]
        cycles: list[tuple[int, np.ndarray]] = []
        shape = np.array(lab.shape)
        idx = np.indices(lab.shape)
        for o in _half_offsets(corners):
            nb = np.roll(lab, shift=tuple(int(-t) for t in o), axis=(0, 1, 2))   # label at p + o
            w = np.stack([np.where(idx[ax] + o[ax] >= shape[ax], 1, np.where(idx[ax] + o[ax] < 0, -1, 0))
                          for ax in range(3)], axis=-1)
            mask = (lab > 0) & (nb > 0) & np.any(w != 0, axis=-1)
            if not mask.any():
                continue
            rows = np.unique(np.column_stack([lab[mask], nb[mask], w[mask]]), axis=0)
            for u, v, *wv in rows.tolist():
                # the piece v reached from u across the boundary is v's image shifted by wv
                ru, pu = _find(parent, pot, u)
                rv, pv = _find(parent, pot, v)
                t = pu + np.array(wv) - pv
                if ru == rv:
                    if np.any(t != 0):
                        cycles.append((ru, t))
                else:
                    parent[rv], pot[rv] = ru, t
        roots = np.array([_find(parent, pot, i)[0] for i in range(n + 1)])
        uniq, new = np.unique(roots, return_inverse=True)   # root 0 (void) maps to 0
        lab = new.reshape(-1)[lab]
        n = len(uniq) - 1
        per: list[list[np.ndarray]] = [[] for _ in range(n)]
        for r, t in cycles:
            per[int(new[r]) - 1].append(t)
        wraps = tuple(np.array(c, dtype=np.int64).reshape(-1, 3) for c in per)
    faces = np.zeros((n, 6), dtype=bool)
    for ax in range(3):
        for side, i in enumerate((0, -1)):
            f = np.unique(np.take(lab, i, axis=ax))
            faces[f[f > 0] - 1, 2 * ax + side] = True
    return Clusters(labels=lab, faces=faces, wraps=wraps, periodic=periodic)


@dataclass(frozen=True)
class Connectivity:
    """Connectivity report of a voxel structure.

    Attributes
    ----------
    solid_fraction : float
        Solid voxels / all voxels (dimensionless).
    connected_fraction : float
        Voxels of the kept (load-bearing) clusters / all voxels.
    n_clusters : int
        Number of face-connected solid clusters.
    percolates : tuple of bool
        Whether one kept cluster connects the cell along x, y, z: touches both opposite faces
        (non-periodic) or joins its periodic image along that axis (periodic). Along an axis
        where none does the structure has no load path: zero stiffness along it.
    periodic : bool
        Whether connectivity was taken with periodic wrap-around.
    n_kept : int
        Number of kept (load-bearing) clusters.
    """

    solid_fraction: float
    connected_fraction: float
    n_clusters: int
    percolates: tuple[bool, bool, bool]
    periodic: bool
    n_kept: int = 0

    @property
    def missing_axes(self) -> tuple[str, ...]:
        """Axes ("x", "y", "z") along which no kept cluster connects the cell."""
        return tuple(a for a, p in zip("xyz", self.percolates) if not p)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary of the report."""
        return {
            "solid_fraction": self.solid_fraction,
            "connected_fraction": self.connected_fraction,
            "n_clusters": self.n_clusters,
            "n_kept": self.n_kept,
            "percolates": list(self.percolates),
            "periodic": self.periodic,
        }


def connectivity(
    solid: np.ndarray, periodic: bool
) -> tuple[np.ndarray, Connectivity]:
    """Keep every load-bearing solid cluster, drop floating islands, report percolation.

    Parameters
    ----------
    solid : numpy.ndarray
        Boolean (nx, ny, nz) voxel array, True = solid.
    periodic : bool
        True: one period of a periodic structure; a cluster is kept if it percolates (joins
        its own periodic image along some lattice vector), since a finite island of a
        periodic structure carries no load. False: a cluster is kept if it touches a face of
        the cell, since affine (kinematic) boundary conditions hold every such cluster.

    Returns
    -------
    kept : numpy.ndarray
        Boolean array of the kept clusters (face-connected voxels).
    report : Connectivity
        Fractions, cluster counts and percolation flags of the kept clusters.
    """
    cl = find_clusters(solid, periodic)
    solid = np.asarray(solid, dtype=bool)
    keep = np.zeros(cl.n + 1, dtype=bool)
    perc = [False, False, False]
    for i in range(cl.n):
        if cl.load_bearing(i):
            keep[i + 1] = True
            perc = [p or s for p, s in zip(perc, cl.spans(i))]
    kept = keep[cl.labels]
    rep = Connectivity(
        solid_fraction=float(solid.mean()),
        connected_fraction=float(kept.mean()),
        n_clusters=cl.n,
        percolates=tuple(perc),  # type: ignore[arg-type]
        periodic=periodic,
        n_kept=int(keep.sum()),
    )
    return kept, rep


#: Field values closer than this (φ has unit variance) count as equal at the cut: rounding in
#: the Fourier sum (~1e-15) must not split voxels whose φ is equal by symmetry.
TIE_TOLERANCE = 1e-9


def threshold_level(field: np.ndarray, rho: float) -> float:
    """Level t whose solid set {φ > t} has the fraction closest to ``rho``, ties kept whole.

    Parameters
    ----------
    field : numpy.ndarray
        Field values φ (any shape; unit variance expected).
    rho : float
        Target solid fraction in (0, 1).

    Returns
    -------
    float
        t midway between two consecutive distinct values of φ (values within
        :data:`TIE_TOLERANCE` are one value), chosen so that the count of φ > t is nearest to
        ρ · size. With distinct values at the cut the count is round(ρ · size) (error ≤ half a
        voxel); with a group of g equal values at the cut the error is at most g/2 voxels,
        since a level set takes the whole group or none of it.
    """
    phi = np.asarray(field, dtype=float).ravel()
    n = phi.size
    k = min(max(int(round(rho * n)), 0), n)
    if k == 0:
        return float(phi.max()) + 1.0
    if k == n:
        return float(phi.min()) - 1.0
    vk = float(np.partition(phi, n - k)[n - k])       # the k-th largest value
    above = phi > vk + TIE_TOLERANCE
    below = phi < vk - TIE_TOLERANCE
    group = ~above & ~below
    n_above, n_with = int(above.sum()), n - int(below.sum())
    if abs(n_above - rho * n) <= abs(n_with - rho * n):   # leave the tied group void
        top = float(phi[group].max())
        return 0.5 * (top + float(phi[above].min())) if n_above else top + 1.0
    bottom = float(phi[group].min())                        # make the tied group solid
    return 0.5 * (bottom + float(phi[below].max())) if below.any() else bottom - 1.0


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
        rho = _real(self.rho)
        if rho is None or not (math.isfinite(rho) and 0.0 < rho < 1.0):
            raise ValueError(f"rho (solid fraction) must lie in the open interval (0, 1), got {self.rho!r}")
        object.__setattr__(self, "rho", rho)
        object.__setattr__(self, "theta", _check_theta(self.theta))
        beta = _real(self.beta)
        if beta is None or not (math.isfinite(beta) and 0.0 < beta <= MAX_BETA):
            raise ValueError(f"beta (wave number, 1/unit length) must be a number in (0, {MAX_BETA:.1f}], got "
                             f"{self.beta!r}: a wavelength 2π/β spans at least {MIN_VOXELS_PER_WAVELENGTH:g} of the "
                             f"at most {MAX_RESOLUTION} voxels a side")
        object.__setattr__(self, "beta", beta)
        n_waves = _whole(self.n_waves)
        if n_waves is None or not 1 <= n_waves <= 100_000:
            raise ValueError(f"n_waves must be an integer in [1, 100000], got {self.n_waves!r}")
        object.__setattr__(self, "n_waves", n_waves)
        seed = _whole(self.seed)
        if seed is None or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        object.__setattr__(self, "seed", seed)
        if not isinstance(self.periodic, (bool, np.bool_)):
            raise ValueError(f"periodic must be true or false, got {self.periodic!r}")
        object.__setattr__(self, "periodic", bool(self.periodic))
        if self.cell is not None:
            if not self.periodic:
                raise ValueError("cell (periodic cell side) is only allowed with periodic=True")
            cell = _whole(self.cell)
            if cell is None or not 1 <= cell <= 8:
                raise ValueError(f"cell must be an integer in [1, 8] unit lengths, got {self.cell!r}")
            object.__setattr__(self, "cell", cell)
        if self.periodic and not len(self._lattice[1]):
            raise ValueError(
                f"no wave of a periodic cell of side {self.cell_length} has |k| ≈ beta = {self.beta:.4g} inside the cones "
                f"{self.theta}: the shortest lattice wave has |k| = 2π/{self.cell_length} = "
                f"{2 * math.pi / self.cell_length:.4g}; raise beta, widen the cones or give a larger cell")

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
        """Rebuild from :meth:`to_json` output (string or dict); unknown keys are rejected.

        Raises
        ------
        ValueError
            Text that is not JSON, JSON that is not an object, unknown keys, no ``rho``, or values the
            constructor refuses.
        """
        try:
            data = json.loads(text) if isinstance(text, str) else text
        except json.JSONDecodeError as exc:
            raise ValueError(f"a spinodoid genome is a JSON object; this text is not JSON ({exc.msg} at character "
                             f"{exc.pos})") from None
        if not isinstance(data, dict):
            raise ValueError("a spinodoid genome is a JSON object with keys rho, theta, ...; "
                             f"got {type(data).__name__}")
        data = dict(data)
        allowed = {"rho", "theta", "beta", "n_waves", "seed", "periodic", "cell"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown spinodoid keys {sorted(map(str, unknown))}; allowed: {sorted(allowed)}")
        if "rho" not in data:
            raise ValueError("spinodoid genome needs 'rho'")
        if "theta" in data:
            data["theta"] = _check_theta(data["theta"])
        return cls(**data)

    # ------------------------------------------------------------------ geometry
    @cached_property
    def _lattice(self) -> tuple[int, np.ndarray]:
        """Periodic variant: the cell side L (unit lengths) and its lattice directions
        (:func:`lattice_directions`, read-only), found once per design. Without a given ``cell``, L is the
        smallest in 1..:data:`_MAX_AUTO_CELL` with :data:`MIN_LATTICE_DIRECTIONS` directions; if none has
        them (degenerate), the smallest with the most."""
        sides = [self.cell] if self.cell is not None else list(range(1, _MAX_AUTO_CELL + 1))
        found = []
        for L in sides:
            m = lattice_directions(self.theta, self.beta, L)
            m.setflags(write=False)
            if len(m) >= MIN_LATTICE_DIRECTIONS:
                return L, m
            found.append(m)
        best = int(np.argmax([len(m) for m in found]))
        return sides[best], found[best]

    def __getstate__(self) -> dict[str, Any]:
        """What pickling and copying keep: the fields, not the lattice (found again where it is needed)."""
        state = dict(self.__dict__)
        state.pop("_lattice", None)
        return state

    @property
    def cell_length(self) -> int:
        """Side of the (periodic) cell in unit lengths: 1 for the published variant."""
        return self._lattice[0] if self.periodic else 1

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
        L, m = self._lattice
        return {"cell": L, "n_directions": len(m), "degenerate": len(m) < MIN_LATTICE_DIRECTIONS}

    def structure_warning(self) -> str | None:
        """A sentence for a design too degenerate to be a spinodoid, None otherwise: a periodic cell holding
        fewer than :data:`MIN_LATTICE_DIRECTIONS` wave directions (a few superposed waves, close to a
        laminate), or a published-variant cell fewer than :data:`MIN_WAVELENGTHS_PER_CELL` wavelengths 2π/β
        wide (one smooth cut surface through a slowly varying field)."""
        if not self.periodic:
            waves = self.beta / (2 * math.pi)
            if waves >= MIN_WAVELENGTHS_PER_CELL:
                return None
            shown = math.floor(waves * 100) / 100 or float(f"{waves:.2g}")  # 1.999 is not "2"
            return (f"the unit cell is only {shown:g} wavelengths 2π/β wide (β = {self.beta:.4g}): the field varies "
                    f"too slowly across it to form a spinodoid, which needs at least {MIN_WAVELENGTHS_PER_CELL:g}; raise "
                    "beta (the published 10π gives five)")
        report = self.lattice_report()
        if not report["degenerate"]:
            return None
        cell, count = report["cell"], report["n_directions"]
        # what helps this design: wider cones where some are narrowed, else a larger β (more lattice
        # points on the sphere |k| = β); a larger cell where one was given (the automatic one tried 1..4)
        remedies = ["widen the cones" if min(self.theta) < 90.0 else "raise beta"]
        if self.cell is not None and cell < 8:
            remedies.append(f"give a larger cell (cell up to 8; this one is {cell})")
        # the published variant draws its waves anywhere in the cones: a spinodoid where they are wide
        # enough to vary across the cell (β sin θ ≥ 2π) and the cell holds enough wavelengths
        published = Spinodoid(rho=self.rho, theta=self.theta, beta=self.beta)
        if published.structure_warning() is None and self.beta * math.sin(math.radians(max(self.theta))) >= 2 * math.pi:
            remedies.append("use the published (non-periodic) variant")
        return (f"this periodic cell ({cell} unit{'s' if cell > 1 else ''}) holds only {count} wave "
                f"direction{'s' if count != 1 else ''} within the cones (fewer than {MIN_LATTICE_DIRECTIONS}): a few "
                f"superposed waves, close to a laminate, not a spinodoid; "
                + (f"{', '.join(remedies[:-1])} or {remedies[-1]}" if len(remedies) > 1 else remedies[0]))

    def min_resolution(self) -> int:
        """Smallest voxels per cell side with ≥ 4 voxels per wavelength 2π/β."""
        return int(math.ceil(MIN_VOXELS_PER_WAVELENGTH * self.beta * self.cell_length / (2 * math.pi) - 1e-9))

    def waves(self) -> tuple[np.ndarray, np.ndarray]:
        """Wave vectors k (N, 3) in 1/unit length and phases γ (N,) in radians."""
        rng = np.random.default_rng(self.seed)
        n = self.n_waves
        if self.periodic:
            L, m = self._lattice
            if len(m) == 0:
                raise ValueError(
                    f"no lattice wave vector with |k| ≈ beta={self.beta:.4g} lies inside cones "
                    f"{self.theta} for cell {L}: widen the cones or use a larger cell")
            pick = rng.integers(0, len(m), size=n)
            k = 2.0 * np.pi * m[pick].astype(float) / L
        else:
            k = self.beta * cone_directions(self.theta, n, rng)[0]
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

    def check_resolution(self, resolution: int) -> int:
        """``resolution`` as an int, or ``ValueError``: not an integer, below :meth:`min_resolution`
        (:data:`MIN_VOXELS_PER_WAVELENGTH` samples per wavelength), or above 512 samples per side."""
        if isinstance(resolution, bool) or not isinstance(resolution, numbers.Real) or int(resolution) != resolution:
            raise ValueError(f"resolution must be an integer number of voxels, got {resolution!r}")
        r = int(resolution)
        if r < self.min_resolution():
            raise ValueError(
                f"resolution {r} is too coarse for this spinodoid (β = {self.beta:.4g} on a cell of "
                f"{self.cell_length} unit{'s' if self.cell_length > 1 else ''}): use at least {self.min_resolution()} "
                f"voxels per side ({MIN_VOXELS_PER_WAVELENGTH:g} per wavelength)")
        if r > MAX_RESOLUTION:
            raise ValueError(f"resolution must be at most {MAX_RESOLUTION} voxels per side, got {r}")
        return r

    def field(self, resolution: int) -> np.ndarray:
        """φ at the voxel centres of an r³ grid over the cell (shape (r, r, r))."""
        r = self.check_resolution(resolution)
        c = (np.arange(r) + 0.5) * self.cell_length / r
        return self.field_at(c, c, c)

    def level(self, field: np.ndarray) -> float:
        """Threshold of ``field`` whose solid set (φ > level) comes closest to the fraction ρ.

        See :func:`threshold_level`: never splits voxels of equal φ, so the solid set is always a
        true level set; the fraction is ρ to half a voxel unless φ repeats at the cut.
        """
        return threshold_level(field, self.rho)

    def voxels(self, resolution: int) -> np.ndarray:
        """Boolean r³ voxel array (True = solid), the level set closest to the fraction ρ.

        Solid voxels = round(ρ r³) (|fraction − ρ| ≤ 1/(2 r³)) whenever the voxels at the cut
        have distinct φ — every published-variant and non-degenerate periodic field measured.
        A degenerate periodic field (few lattice directions, :meth:`lattice_report`) repeats
        φ over whole planes or lines of voxels; the fraction is then the nearest one a level
        set can reach, within half the tied group: θ = (0.01°, 0, 0) is a single wave, a
        laminate whose φ repeats on 5 layers at 20³ and 40³, so ρ = 0.3 gives 0.25 there (1
        and 2 layers short; 0.292 at 24³, 0.3125 at 32³). Splitting tied voxels instead would
        let rounding noise in the Fourier sum pick which voxels of a layer are solid.
        """
        phi = self.field(resolution)
        return phi > self.level(phi)

    def structure(self, resolution: int) -> tuple[np.ndarray, Connectivity]:
        """Voxels of the load-bearing clusters and the connectivity report (:func:`connectivity`).

        Connectivity is periodic for the periodic variant (percolating clusters kept),
        face-to-face otherwise (clusters touching a face kept).
        """
        return connectivity(self.voxels(resolution), periodic=self.periodic)
