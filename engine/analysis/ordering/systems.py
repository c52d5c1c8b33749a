"""A particle configuration: positions in a (possibly periodic) box, with optional labels.

Conventions (those of freud): the box is centred on the origin, so a periodic coordinate lies in
``[-L/2, L/2)``; 2D systems have ``d = 2`` columns here and a 2D :class:`freud.box.Box`
(freud itself gets ``z = 0``). Lengths are in the units of the data (LJ σ for simulations,
µm or pixels for microscopy); the analyses never assume a unit.

A box may be non-periodic along some axes (a microscopy field of view, a cluster). freud
cannot query pairs in a non-periodic box, so :meth:`ParticleSystem.freud_system` hands freud a
periodic box three times longer along those axes: every image then lies farther (≥ 2L) than
any real particle (≤ √3 L), and no neighbour search sees one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import freud
import numpy as np

__all__ = ["ParticleSystem", "minimum_image"]


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class ParticleSystem:
    """Particle positions in a box, with optional true labels and species.

    Parameters
    ----------
    positions : ndarray, shape (N, d)
        Coordinates, ``d = 3`` (3D box) or ``d = 2`` (2D box); length units of the data.
        Periodic coordinates are wrapped into the box; along a non-periodic axis every particle
        must lie inside ``[-L/2, L/2]``.
    box : freud.box.Box
        Simulation box, centred on the origin; ``box.periodic`` says which axes wrap.
    labels : ndarray of str, shape (N,), optional
        True structure of each particle (``"fcc"``, ``"liquid"``, ...), known for generated
        systems; ``None`` for measured data.
    species : ndarray of str, shape (N,), optional
        Particle type (element, colloid kind), e.g. the first column of an XYZ file.

    Raises
    ------
    ValueError
        Wrong shape, NaN or infinite coordinates, a dimension that does not match the box,
        particles outside a non-periodic box, or labels/species of the wrong length.
    """

    positions: np.ndarray
    box: freud.box.Box
    labels: np.ndarray | None = None
    species: np.ndarray | None = None
    _freud_box: freud.box.Box = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.box, freud.box.Box):
            raise ValueError(f"box must be a freud.box.Box, got {type(self.box).__name__}")
        tilts = (self.box.xy,) if self.box.is2D else (self.box.xy, self.box.xz, self.box.yz)
        lengths = self.box.L[: 2 if self.box.is2D else 3]
        if not (np.isfinite(lengths).all() and (lengths > 0).all() and np.isfinite(tilts).all()):
            raise ValueError(f"box lengths must be finite numbers > 0 and tilts finite, got "
                             f"L = {[float(v) for v in lengths]}, tilts {[float(t) for t in tilts]}")
        box = freud.box.Box.from_box(self.box)  # a private copy: freud boxes are mutable
        box.periodic = [bool(flag) for flag in self.box.periodic]
        object.__setattr__(self, "box", box)
        pos = np.asarray(self.positions, dtype=float)
        dim = 2 if self.box.is2D else 3
        if pos.ndim != 2 or pos.shape[1] != dim:
            raise ValueError(
                f"positions must have shape (N, {dim}) for a {dim}D box, got shape {pos.shape}"
            )
        if pos.shape[0] == 0:
            raise ValueError("the system has no particles; at least one is needed")
        bad = ~np.isfinite(pos).all(axis=1)
        if bad.any():
            rows = np.flatnonzero(bad)
            raise ValueError(
                f"{rows.size} particle(s) have NaN or infinite coordinates (first at index "
                f"{rows[0]}); all coordinates must be finite numbers"
            )
        periodic = np.asarray(self.box.periodic[:dim], dtype=bool)
        lengths = np.asarray(self.box.L[:dim], dtype=float)
        matrix = np.asarray(self.box.to_matrix(), dtype=float)[:dim, :dim]
        frac = np.linalg.solve(matrix, pos.T).T  # = pos / L in an orthorhombic box
        outside = (~periodic) & (np.abs(frac) > 0.5 * (1 + 1e-9))
        if outside.any():
            row, axis = np.argwhere(outside)[0]
            n_out = int(outside.any(axis=1).sum())
            raise ValueError(
                f"{n_out} particle(s) lie outside the non-periodic box (first: index {row}, "
                f"{'xyz'[axis]} = {pos[row, axis]:g}); along a non-periodic axis coordinates "
                f"must lie in [-L/2, L/2] = [{-lengths[axis] / 2:g}, {lengths[axis] / 2:g}] "
                "(the box is centred on the origin; in a tilted box, along the box vector)"
            )
        if periodic.any():
            pos = minimum_image(pos, self.box)
        object.__setattr__(self, "positions", _readonly(pos))
        for name in ("labels", "species"):
            value = getattr(self, name)
            if value is None:
                continue
            value = np.asarray(value).astype(str)
            if value.shape != (pos.shape[0],):
                raise ValueError(
                    f"{name} must have one entry per particle, shape ({pos.shape[0]},), "
                    f"got shape {value.shape}"
                )
            object.__setattr__(self, name, _readonly(value))
        if periodic.all():
            fbox = self.box
        else:
            big = np.where(periodic, lengths, 3.0 * lengths)
            if dim == 2:
                fbox = freud.box.Box(Lx=big[0], Ly=big[1], xy=self.box.xy, is2D=True)
            else:
                fbox = freud.box.Box(Lx=big[0], Ly=big[1], Lz=big[2], xy=self.box.xy,
                                     xz=self.box.xz, yz=self.box.yz)
        object.__setattr__(self, "_freud_box", fbox)

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
        """Number density N / V (length⁻³ in 3D, length⁻² in 2D)."""
        return self.n_particles / float(self.box.volume)

    def freud_system(self) -> tuple[freud.box.Box, np.ndarray]:
        """The ``(box, points)`` pair that freud's ``compute`` methods take.

        Returns
        -------
        box : freud.box.Box
            The box, periodic along every axis (non-periodic axes enlarged threefold, see the
            module notes).
        points : ndarray, shape (N, 3), float32
            Positions with ``z = 0`` for 2D systems (freud computes in single precision).
        """
        points = np.zeros((self.n_particles, 3), dtype=np.float32)
        points[:, : self.dim] = self.positions
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
