"""A particle configuration: positions in a (possibly periodic) box, with optional labels.

Conventions (those of freud): the box is centred on the origin, so a periodic coordinate lies in
``[-L/2, L/2)``; 2D systems have ``d = 2`` columns here and a 2D :class:`freud.box.Box`
(freud itself gets ``z = 0``). Lengths are in the units of the data (LJ σ for simulations,
µm or pixels for microscopy); the analyses never assume a unit.

A box may be non-periodic along some axes (a microscopy field of view, a cluster). freud
cannot query pairs in a non-periodic box, so :meth:`ParticleSystem.freud_system` hands freud a
periodic box three times longer along those axes: every image then lies farther (≥ 2L) than
any real particle (≤ √3 L), and no neighbour search sees one.

Rules for positions (each broken rule is a ``ValueError`` naming the particle and the rule):

* every coordinate is a finite number;
* along a non-periodic axis a particle lies inside the box, ``[-L/2, L/2]``;
* along a periodic axis it lies at most :data:`MAX_BOX_IMAGES` (1000) box lengths outside the
  box; it is then wrapped in. Unwrapped coordinates of long simulations stay far within this
  (a liquid diffusing for 10⁶ τ moves ~10³ σ), and wrapping them costs at most ~10⁻¹³ of a
  box length in double precision; coordinates farther out (10¹⁷ in a box of 10) are corrupt
  data or mismatched units, and wrapping them would give arbitrary positions;
* no two particles are closer than :data:`CLOSE_FRACTION` (10⁻⁶) of the mean spacing
  ``(V/N)^(1/d)``: such a pair (a duplicated row, a frame written twice) has no defined bond
  direction.

Units and precision: freud computes in single precision, whose squared distances overflow
beyond ~10¹⁹ and lose their precision below ~10⁻¹⁹ length units. When the mean spacing lies
outside ``[2⁻⁴⁰, 2⁴⁰]`` (~10⁻¹² to 10¹²), :meth:`ParticleSystem.freud_system` hands freud the
configuration divided by a power of two near the spacing (:attr:`ParticleSystem.freud_scale`;
exact in binary, so nothing is rounded), and :mod:`.neighbors` converts back: the analyses give
the same result in any unit. Box lengths must lie in ``[1e-30, 1e30]`` (freud stores them in
single precision).
"""

from __future__ import annotations

import math
from dataclasses import InitVar, dataclass, field

import freud
import numpy as np
from scipy.spatial import cKDTree

__all__ = ["CLOSE_FRACTION", "MAX_BOX_IMAGES", "ParticleSystem", "Source", "minimum_image"]

#: Periodic coordinates may lie at most this many box lengths outside the box (then wrapped in).
MAX_BOX_IMAGES = 1000

#: Particles closer than this fraction of the mean spacing (V/N)^(1/d) are refused as duplicates.
CLOSE_FRACTION = 1e-6

#: Box lengths allowed (length units): freud stores boxes in single precision.
LENGTH_RANGE = (1e-30, 1e30)

#: Mean spacings freud gets unscaled; outside, it gets lengths in units of a power of two.
_FREUD_SAFE = (2.0**-40, 2.0**40)


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Source:
    """Where positions come from, so that refusals quote the data as the user wrote it.

    Parameters
    ----------
    name : str
        File name; every message starts with it.
    lines : ndarray of int, shape (N,), optional
        Line of the file that holds each particle (messages say ``line 12``; without it,
        ``particle 3``, counted from 0).
    coordinates : ndarray, shape (N, d), optional
        The coordinates as the file gives them (before centring).
    centre : ndarray, shape (d,), optional
        Where the box centre lies in the file's coordinates (``file = centred + centre``),
        so that allowed ranges are quoted in the file's frame. Default the origin.
    """

    name: str
    lines: np.ndarray | None = None
    coordinates: np.ndarray | None = None
    centre: np.ndarray | None = None

    def who(self, k: int, other: int | None = None) -> str:
        """Particle ``k`` (and ``other``) as the file names it: ``line 12``, ``lines 12 and 40``,
        or ``particle 3``, ``particles 3 and 7`` (indices from 0) without line numbers."""
        if other is None:
            return f"particle {k}" if self.lines is None else f"line {int(self.lines[k])}"
        if self.lines is None:
            return f"particles {k} and {other}"
        return f"lines {int(self.lines[k])} and {int(self.lines[other])}"

    def written(self, k: int, positions: np.ndarray, axis: int | None = None) -> str:
        """Particle ``k``'s coordinates (one axis, or all) as the file gives them."""
        values = positions[k] if self.coordinates is None else self.coordinates[k]
        dim = len(values)
        if axis is not None:
            return f"{'xyz'[axis]} = {float(values[axis])!r}"
        return f"{' '.join('xyz'[:dim])} = {' '.join(repr(float(v)) for v in values)}"


_NO_SOURCE = Source("")


def _axis_range(matrix: np.ndarray, source: Source, axis: int, half: float) -> str:
    """The allowed range ``half`` box lengths either side of the centre along ``axis``, in the
    file's frame (Cartesian for an orthorhombic box, along the box vector for a tilted one)."""
    dim = len(matrix)
    centre = np.zeros(dim) if source.centre is None else np.asarray(source.centre, dtype=float)
    if np.any(matrix - np.diag(np.diag(matrix))):
        return (f"along the box vector a{axis + 1} within ±{half:g} a{axis + 1} of the box centre "
                f"({' '.join(f'{c:.6g}' for c in centre)}; a tilted box)")
    length = matrix[axis, axis]
    low, high = centre[axis] - half * length, centre[axis] + half * length
    return f"{'xyz'[axis]} in [{low:.6g}, {high:.6g}]"


def _check_positions(pos: np.ndarray, box: freud.box.Box, source: Source) -> np.ndarray:
    """Validated positions wrapped into the periodic axes (module notes for the rules)."""
    prefix = f"{source.name}: " if source.name else ""
    dim = pos.shape[1]
    bad = ~np.isfinite(pos).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise ValueError(
            f"{prefix}{rows.size} particle(s) have NaN or infinite coordinates (first: {source.who(rows[0])}, "
            f"{source.written(rows[0], pos)}); all coordinates must be finite numbers"
        )
    periodic = np.asarray(box.periodic[:dim], dtype=bool)
    matrix = np.asarray(box.to_matrix(), dtype=float)[:dim, :dim]
    frac = np.linalg.solve(matrix, pos.T).T  # = pos / L in an orthorhombic box
    outside = (~periodic) & (np.abs(frac) > 0.5 * (1 + 1e-9))
    if outside.any():
        row, axis = np.argwhere(outside)[0]
        n_out = int(outside.any(axis=1).sum())
        frame = ("the box is centred on the origin" if source.centre is None
                 else "the box as the file places it")
        raise ValueError(
            f"{prefix}{n_out} particle(s) lie outside the non-periodic box (first: {source.who(row)}, "
            f"{source.written(row, pos, axis)}); along a non-periodic axis every particle must lie inside "
            f"the box, here {_axis_range(matrix, source, axis, 0.5)} ({frame})"
        )
    far = periodic & (np.abs(frac) > MAX_BOX_IMAGES + 0.5)
    if far.any():
        row, axis = np.argwhere(far)[0]
        n_far = int(far.any(axis=1).sum())
        raise ValueError(
            f"{prefix}{n_far} particle(s) lie more than {MAX_BOX_IMAGES} box lengths outside the periodic "
            f"box (first: {source.who(row)}, {source.written(row, pos, axis)}, {abs(frac[row, axis]):.3g} box "
            f"lengths from the centre); periodic coordinates may lie at most {MAX_BOX_IMAGES} box lengths "
            f"outside the box, here {_axis_range(matrix, source, axis, MAX_BOX_IMAGES + 0.5)}: farther "
            "ones point to corrupt data or to coordinates and box in different units"
        )
    if periodic.any():
        pos = minimum_image(pos, box)
    pairs, distances, limit, spacing = _close_pairs(pos, box)
    if len(pairs):
        i, j = pairs[0]
        d = distances[0]
        apart = "sit on the same position" if d == 0 else f"are {d:.3g} apart"
        count = len(np.unique(pairs[:, 1]))  # particles with an earlier one next to them
        what = (f"{count} particle(s) sit exactly on another one" if distances.max() == 0
                else f"{count} particle(s) lie closer than {limit:.3g} length units to another one")
        first, second = source.written(i, pos), source.written(j, pos)
        at = f"both at {first}" if first == second else f"at {first} and {second}"
        raise ValueError(
            f"{prefix}{what} (first: {source.who(i, j)} {apart}, {at}); every particle needs its own "
            f"position: particles closer than {CLOSE_FRACTION:g} of the mean spacing (V/N)^(1/{dim}) = "
            f"{spacing:.4g} are taken for duplicates (remove duplicated rows)"
        )
    return pos


def _volume(box: freud.box.Box, dim: int) -> float:
    """Box volume (area in 2D) in double precision (freud's own is single precision and under- or
    overflows for lengths beyond ~10^±13)."""
    return float(abs(np.linalg.det(np.asarray(box.to_matrix(), dtype=float)[:dim, :dim])))


def _mean_spacing(box: freud.box.Box, n: int, dim: int) -> float:
    """(V/N)^(1/d), double precision."""
    return (_volume(box, dim) / n) ** (1.0 / dim)


def _close_pairs(pos: np.ndarray, box: freud.box.Box) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Pairs (i < j) closer than CLOSE_FRACTION of the mean spacing, their distances (sorted by
    i, j), the limit and the spacing. Double precision; periodic images through ghost copies of
    the particles within the limit of a periodic face (any box shape)."""
    n, dim = pos.shape
    matrix = np.asarray(box.to_matrix(), dtype=float)[:dim, :dim]
    spacing = _mean_spacing(box, n, dim)
    widths = 1.0 / np.linalg.norm(np.linalg.inv(matrix), axis=1)
    limit = min(CLOSE_FRACTION * spacing, 0.25 * float(widths.min()))
    if n < 2:
        return np.empty((0, 2), int), np.empty(0), limit, spacing
    periodic = np.asarray(box.periodic[:dim], dtype=bool)
    frac = np.linalg.solve(matrix, pos.T).T
    margin = 0.5 - 2 * limit / widths
    low, high = periodic & (frac < -margin), periodic & (frac > margin)
    points, owner = [pos], [np.arange(n)]
    if (low | high).any():
        for shift in np.stack(np.meshgrid(*[[-1, 0, 1]] * dim, indexing="ij"), -1).reshape(-1, dim):
            if not shift.any() or np.any(shift[~periodic]):
                continue
            # a particle near the high face (+1/2) has its image at -1 box vector, and vice versa
            take = np.all(np.where(shift < 0, high, True) & np.where(shift > 0, low, True), axis=1)
            if take.any():
                points.append(pos[take] + shift @ matrix.T)
                owner.append(np.flatnonzero(take))
    owner = np.concatenate(owner)
    found = cKDTree(np.vstack(points)).query_pairs(limit, output_type="ndarray")
    if len(found) == 0:
        return np.empty((0, 2), int), np.empty(0), limit, spacing
    pairs = np.sort(owner[found], axis=1)
    pairs = np.unique(pairs[pairs[:, 0] != pairs[:, 1]], axis=0)
    if len(pairs) == 0:
        return np.empty((0, 2), int), np.empty(0), limit, spacing
    delta = pos[pairs[:, 1]] - pos[pairs[:, 0]]
    distances = np.linalg.norm(minimum_image(delta, box) if periodic.any() else delta, axis=1)
    return pairs, distances, limit, spacing


@dataclass(frozen=True, eq=False)
class ParticleSystem:
    """Particle positions in a box, with optional true labels and species.

    Parameters
    ----------
    positions : ndarray, shape (N, d)
        Coordinates, ``d = 3`` (3D box) or ``d = 2`` (2D box); length units of the data.
        Periodic coordinates are wrapped into the box (at most :data:`MAX_BOX_IMAGES` box
        lengths outside it); along a non-periodic axis every particle must lie inside
        ``[-L/2, L/2]``; no two particles may be closer than :data:`CLOSE_FRACTION` of the mean
        spacing (module notes).
    box : freud.box.Box
        Simulation box, centred on the origin; ``box.periodic`` says which axes wrap. Lengths
        in ``[1e-30, 1e30]``.
    labels : ndarray of str, shape (N,), optional
        True structure of each particle (``"fcc"``, ``"liquid"``, ...), known for generated
        systems; ``None`` for measured data.
    species : ndarray of str, shape (N,), optional
        Particle type (element, colloid kind), e.g. the first column of an XYZ file.
    source : Source, optional
        Where the positions come from (a file): refusals then name the file, its lines and its
        own coordinates. Not stored.

    Raises
    ------
    ValueError
        Wrong shape, NaN or infinite coordinates, a dimension that does not match the box,
        particles outside a non-periodic box or far outside a periodic one, particles on (or
        within a millionth of the mean spacing of) another one, box lengths outside
        ``[1e-30, 1e30]``, or labels/species of the wrong length.
    """

    positions: np.ndarray
    box: freud.box.Box
    labels: np.ndarray | None = None
    species: np.ndarray | None = None
    source: InitVar[Source | None] = None
    _freud_box: freud.box.Box = field(init=False, repr=False)
    _freud_scale: float = field(init=False, repr=False)

    def __post_init__(self, source: Source | None) -> None:
        source = _NO_SOURCE if source is None else source
        prefix = f"{source.name}: " if source.name else ""
        if not isinstance(self.box, freud.box.Box):
            raise ValueError(f"{prefix}box must be a freud.box.Box, got {type(self.box).__name__}")
        tilts = (self.box.xy,) if self.box.is2D else (self.box.xy, self.box.xz, self.box.yz)
        lengths = self.box.L[: 2 if self.box.is2D else 3]
        if not (np.isfinite(lengths).all() and (lengths > 0).all() and np.isfinite(tilts).all()):
            raise ValueError(f"{prefix}box lengths must be finite numbers > 0 and tilts finite, got "
                             f"L = {[float(v) for v in lengths]}, tilts {[float(t) for t in tilts]}")
        if not ((lengths >= LENGTH_RANGE[0]) & (lengths <= LENGTH_RANGE[1])).all():
            raise ValueError(f"{prefix}box lengths must lie between {LENGTH_RANGE[0]:g} and {LENGTH_RANGE[1]:g} "
                             f"length units (freud keeps boxes in single precision), got L = "
                             f"{[float(v) for v in lengths]}; give the configuration in other units")
        box = freud.box.Box.from_box(self.box)  # a private copy: freud boxes are mutable
        box.periodic = [bool(flag) for flag in self.box.periodic]
        object.__setattr__(self, "box", box)
        pos = np.asarray(self.positions, dtype=float)
        dim = 2 if self.box.is2D else 3
        if pos.ndim != 2 or pos.shape[1] != dim:
            raise ValueError(
                f"{prefix}positions must have shape (N, {dim}) for a {dim}D box, got shape {pos.shape}"
            )
        if pos.shape[0] == 0:
            raise ValueError(f"{prefix}the system has no particles; at least one is needed")
        pos = _check_positions(pos, self.box, source)
        object.__setattr__(self, "positions", _readonly(pos))
        for name in ("labels", "species"):
            value = getattr(self, name)
            if value is None:
                continue
            value = np.asarray(value).astype(str)
            if value.shape != (pos.shape[0],):
                raise ValueError(
                    f"{prefix}{name} must have one entry per particle, shape ({pos.shape[0]},), "
                    f"got shape {value.shape}"
                )
            object.__setattr__(self, name, _readonly(value))
        spacing = _mean_spacing(self.box, pos.shape[0], dim)
        scale = 1.0 if _FREUD_SAFE[0] <= spacing <= _FREUD_SAFE[1] else 2.0 ** round(math.log2(spacing))
        periodic = np.asarray(self.box.periodic[:dim], dtype=bool)
        lengths = np.asarray(self.box.L[:dim], dtype=float)
        big = np.where(periodic, lengths, 3.0 * lengths) / scale
        if dim == 2:
            fbox = freud.box.Box(Lx=big[0], Ly=big[1], xy=self.box.xy, is2D=True)
        else:
            fbox = freud.box.Box(Lx=big[0], Ly=big[1], Lz=big[2], xy=self.box.xy,
                                 xz=self.box.xz, yz=self.box.yz)
        if periodic.all() and scale == 1.0:
            fbox = self.box
        object.__setattr__(self, "_freud_box", fbox)
        object.__setattr__(self, "_freud_scale", scale)

    @property
    def n_particles(self) -> int:
        """Number of particles N."""
        return int(self.positions.shape[0])

    @property
    def dim(self) -> int:
        """Spatial dimension d (2 or 3)."""
        return int(self.positions.shape[1])

    @property
    def periodic(self) -> tuple[bool, ...]:
        """Whether each of the d axes wraps."""
        return tuple(bool(p) for p in self.box.periodic[: self.dim])

    @property
    def density(self) -> float:
        """Number density N / V (length⁻³ in 3D, length⁻² in 2D), in double precision."""
        return self.n_particles / _volume(self.box, self.dim)

    @property
    def freud_scale(self) -> float:
        """Length unit of :meth:`freud_system`: 1, or a power of two near the mean spacing when
        that lies outside ``[2⁻⁴⁰, 2⁴⁰]`` (module notes). freud's distances, vectors and
        Voronoi areas are in this unit; multiply by it (by its square for areas) for the data's."""
        return self._freud_scale

    def freud_system(self) -> tuple[freud.box.Box, np.ndarray]:
        """The ``(box, points)`` pair that freud's ``compute`` methods take.

        Returns
        -------
        box : freud.box.Box
            The box, periodic along every axis (non-periodic axes enlarged threefold, see the
            module notes), in units of :attr:`freud_scale`.
        points : ndarray, shape (N, 3), float32
            Positions over :attr:`freud_scale`, with ``z = 0`` for 2D systems (freud computes in
            single precision).
        """
        points = np.zeros((self.n_particles, 3), dtype=np.float32)
        points[:, : self.dim] = self.positions / self._freud_scale
        return self._freud_box, points

    def subset(self, mask: np.ndarray) -> ParticleSystem:
        """The particles selected by a boolean mask or index array, in the same box."""
        return ParticleSystem(
            self.positions[mask], self.box,
            None if self.labels is None else self.labels[mask],
            None if self.species is None else self.species[mask],
        )


def minimum_image(vectors: np.ndarray, box: freud.box.Box) -> np.ndarray:
    """Wrap vectors into the box in double precision (the minimum-image convention).

    Parameters
    ----------
    vectors : ndarray, shape (M, d)
        Positions or separation vectors, d = 2 or 3 matching the box.
    box : freud.box.Box
        The box; only its periodic axes wrap. Triclinic boxes are handled through fractional
        coordinates (the box matrix of freud's ``to_matrix``).

    Returns
    -------
    ndarray, shape (M, d), float64
        Wrapped vectors; a periodic fractional coordinate lies in ``[-1/2, 1/2)``.
    """
    vectors = np.asarray(vectors, dtype=float)
    dim = vectors.shape[1]
    matrix = np.asarray(box.to_matrix(), dtype=float)[:dim, :dim]
    periodic = np.asarray(box.periodic[:dim], dtype=bool)
    if not np.any(matrix - np.diag(np.diag(matrix))):  # orthorhombic: axis by axis
        lengths = np.diag(matrix)[periodic]
        out = vectors.copy()
        out[:, periodic] -= lengths * np.floor(vectors[:, periodic] / lengths + 0.5)
        return out
    frac = np.linalg.solve(matrix, vectors.T).T
    frac[:, periodic] -= np.floor(frac[:, periodic] + 0.5)
    return frac @ matrix.T
