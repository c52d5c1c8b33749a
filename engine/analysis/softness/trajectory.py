"""Trajectories of a glass: unwrapped positions over time, with species and a periodic box.

File format (NumPy ``.npz``, read with ``allow_pickle=False``):

* ``types`` (N,) integers, type k ↦ species name ``species[k]`` (default A, B);
* ``positions`` (T, N, d) **unwrapped** coordinates, d = 2 or 3, length units (σ for
  Lennard-Jones data), frames equally spaced in time;
* ``times`` (T,), optional: the time of each frame (strictly increasing, equally spaced);
* ``box`` (d,), optional: the periodic box lengths. Without it the caller gives the length of a
  cubic (square) box; a given length that disagrees with the file's box is refused.

A file holding ``initial_positions`` is an isoconfigurational ensemble (:mod:`.isoconfig`), not a
trajectory. Positions may start anywhere (for example in [0, L)); each frame is wrapped into the
centred box of :class:`.ordering.systems.ParticleSystem` by :meth:`GlassTrajectory.frame`.
Wrapped input is refused: a particle that moves by more than half a box length between two
frames cannot be told from one that crossed the box.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import freud
import numpy as np

from ..ordering.systems import ParticleSystem
from .npz import open_npz, real_array, species_of_types

__all__ = ["GlassTrajectory", "read_trajectory", "write_trajectory", "npz_fields"]


@dataclass(frozen=True, eq=False)
class GlassTrajectory:
    """Unwrapped positions of a glass over time (module notes).

    Attributes
    ----------
    positions : ndarray, shape (T, N, d)
        Unwrapped coordinates (length units).
    species : ndarray of str, shape (N,)
    box : freud.box.Box
        Periodic box (orthorhombic, all axes periodic).
    times : ndarray, shape (T,), or None
        Time of each frame (time units of the data).

    Raises
    ------
    ValueError
        Positions not (T, N, d) with d = 2 or 3, fewer than 3 frames, NaN, species of another
        length, a box of another dimension, times of another length or not equally spaced, or
        steps longer than half the box (wrapped positions).
    """

    positions: np.ndarray
    species: np.ndarray
    box: freud.box.Box
    times: np.ndarray | None = None

    def __post_init__(self) -> None:
        positions = np.asarray(self.positions, dtype=float)
        if positions.ndim != 3 or positions.shape[2] not in (2, 3) or positions.shape[1] < 1:
            raise ValueError(f"positions must have shape (T, N, d) with d = 2 or 3, got {positions.shape}")
        if len(positions) < 3:
            raise ValueError(f"a trajectory needs at least 3 frames (p_hop compares a window before and after "
                             f"each frame); this one has {len(positions)}")
        if not np.isfinite(positions).all():
            frames = np.unique(np.argwhere(~np.isfinite(positions))[:, 0])
            raise ValueError(f"positions hold NaN or infinite values (frames {frames[:5].tolist()}); all must be finite")
        species = np.asarray(self.species).astype(str)
        if species.shape != positions.shape[1:2]:
            raise ValueError(f"species must hold one name per particle ({positions.shape[1]}), got shape {species.shape}")
        dim = positions.shape[2]
        if (2 if self.box.is2D else 3) != dim:
            raise ValueError(f"the box is {'2' if self.box.is2D else '3'}D but the positions are {dim}D")
        lengths = np.asarray(self.box.L[:dim], dtype=float)
        steps = np.abs(np.diff(positions, axis=0)).max(axis=(0, 1))
        if (steps > lengths / 2).any():
            axis = int(np.argmax(steps / lengths))
            raise ValueError(f"a particle moves by {steps[axis]:.3g} along axis {'xyz'[axis]} between two frames, more "
                             f"than half the box ({lengths[axis]:.4g} / 2): positions must be unwrapped")
        times = None
        if self.times is not None:
            times = np.asarray(self.times, dtype=float)
            if times.shape != (len(positions),) or not np.isfinite(times).all():
                raise ValueError(f"times must hold {len(positions)} finite values, got shape {times.shape}")
            dt = np.diff(times)
            if (dt <= 0).any() or np.ptp(dt) > 1e-6 * abs(dt.mean()):
                raise ValueError("times must increase in equal steps (p_hop windows count frames)")
        object.__setattr__(self, "positions", positions)
        object.__setattr__(self, "species", species)
        object.__setattr__(self, "times", times)

    @property
    def n_frames(self) -> int:
        """T."""
        return len(self.positions)

    @property
    def n_particles(self) -> int:
        """N."""
        return self.positions.shape[1]

    @property
    def dim(self) -> int:
        """d."""
        return self.positions.shape[2]

    def frame(self, t: int) -> ParticleSystem:
        """The configuration at frame ``t``, wrapped into the centred box."""
        if not -self.n_frames <= t < self.n_frames:
            raise ValueError(f"frame {t} is outside the trajectory's {self.n_frames} frames")
        return ParticleSystem(self.positions[t], self.box, species=self.species)


def npz_fields(path: str | Path) -> frozenset[str]:
    """Names of the arrays in an ``.npz`` file (empty when it is not one).

    A trajectory has ``positions`` and no ``initial_positions``; an isoconfigurational file has
    ``initial_positions``.
    """
    try:
        with open_npz(Path(path)) as data:
            return frozenset(data.files)
    except ValueError:
        return frozenset()


def _box(lengths: np.ndarray) -> freud.box.Box:
    if len(lengths) == 2:
        return freud.box.Box(Lx=lengths[0], Ly=lengths[1], is2D=True)
    return freud.box.Box(Lx=lengths[0], Ly=lengths[1], Lz=lengths[2])


def read_trajectory(path: str | Path, *, box_length: float | None = None, density: float | None = None,
                    species: tuple[str, ...] = ("A", "B")) -> GlassTrajectory:
    """Read a trajectory file (module notes).

    Parameters
    ----------
    path : str or Path
        ``.npz`` file with ``types``, ``positions`` and optionally ``times`` and ``box``.
    box_length, density : float, optional
        The cubic (square) periodic box when the file has no ``box``: its length, or the number
        density (``L = (N/ρ)^(1/d)``); at most one. When the file has a box, a given one must agree
        with it (relative 1e-6).
    species : tuple of str, default ("A", "B")
        Name of each integer type.

    Returns
    -------
    GlassTrajectory

    Raises
    ------
    ValueError
        Not an ``.npz``, a missing field, no box, a box that disagrees with ``box_length``,
        types outside ``species`` or of another length than the positions, or as
        :class:`GlassTrajectory`.
    """
    path = Path(path)
    with open_npz(path) as data:
        missing = [k for k in ("types", "positions") if k not in data.files]
        if missing:
            raise ValueError(f"{path.name}: a trajectory needs fields types (N,) and positions (T, N, d); missing "
                             f"{', '.join(missing)} (it has {', '.join(data.files) or 'none'})")
        types, positions = np.asarray(data["types"]), real_array(data, "positions", path)
        times = real_array(data, "times", path) if "times" in data.files else None
        file_box = real_array(data, "box", path).ravel() if "box" in data.files else None
    if positions.ndim != 3 or positions.shape[2] not in (2, 3):
        raise ValueError(f"{path.name}: positions must have shape (T, N, d) with d = 2 or 3, got {positions.shape}")
    n, dim = positions.shape[1:]
    names = species_of_types(types, n, species, path.name)
    if box_length is not None and density is not None:
        raise ValueError("give the box length or the number density, not both")
    if density is not None:
        if not (np.isfinite(density) and density > 0):
            raise ValueError(f"the number density must be a finite number > 0, got {density!r}")
        box_length = (n / float(density)) ** (1 / dim)
    if file_box is not None:
        if file_box.shape != (dim,) or not (np.isfinite(file_box).all() and (file_box > 0).all()):
            raise ValueError(f"{path.name}: box must hold {dim} lengths > 0, got {file_box.tolist()}")
        if box_length is not None and not np.allclose(file_box, box_length, rtol=1e-6, atol=0):
            raise ValueError(f"{path.name}: the file's box is {' × '.join(f'{v:g}' for v in file_box)}; the given "
                             f"box length {box_length:g} disagrees (give none to use the file's)")
        lengths = file_box
    elif box_length is None:
        raise ValueError(f"{path.name}: the trajectory has no box field; give the box length or the number density")
    elif not (np.isfinite(box_length) and box_length > 0):
        raise ValueError(f"the box length must be a finite number > 0, got {box_length!r}")
    else:
        lengths = np.full(dim, float(box_length))
    try:
        return GlassTrajectory(positions, names, _box(lengths), times)
    except ValueError as exc:
        raise ValueError(f"{path.name}: {exc}") from None


def write_trajectory(trajectory: GlassTrajectory, path: str | Path, species: tuple[str, ...] = ("A", "B")) -> Path:
    """Write the file format of :func:`read_trajectory` (with ``box``, and ``times`` when known).

    Raises
    ------
    ValueError
        A species not in ``species`` (its index is the stored type).
    """
    unknown = sorted(set(trajectory.species.tolist()) - set(species))
    if unknown:
        raise ValueError(f"species {unknown} are not in {species}; give their order")
    index = {name: k for k, name in enumerate(species)}
    fields = {"types": np.array([index[s] for s in trajectory.species.tolist()], dtype=np.int32),
              "positions": trajectory.positions, "box": np.asarray(trajectory.box.L[: trajectory.dim], dtype=float)}
    if trajectory.times is not None:
        fields["times"] = trajectory.times
    path = Path(path)
    with path.open("wb") as handle:
        np.savez_compressed(handle, **fields)
    return path
