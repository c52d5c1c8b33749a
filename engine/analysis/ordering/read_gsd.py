"""Read HOOMD-blue GSD trajectories (one frame) as a :class:`~.systems.ParticleSystem`.

GSD (General Simulation Data, https://gsd.readthedocs.io) is the binary trajectory format of
HOOMD-blue; the ``gsd`` package reads it. A HOOMD frame keeps ``configuration.box`` as
``[Lx, Ly, Lz, xy, xz, yz]`` (tilt factors), periodic along every axis, with positions
centred on the origin; ``configuration.dimensions`` is 2 or 3 (a 2D box has ``Lz = 0`` and
``z = 0``). Particle types (``particles.types`` and ``particles.typeid``) become the species.
"""

from __future__ import annotations

from pathlib import Path

import freud
import numpy as np

from .readers import checked_system
from .systems import ParticleSystem

__all__ = ["read_gsd"]


def read_gsd(path: str | Path, frame: int = 0) -> ParticleSystem:
    """Read frame ``frame`` of a HOOMD GSD file.

    Parameters
    ----------
    path : str or Path
        A ``.gsd`` file written by HOOMD-blue (``gsd.hoomd`` schema).
    frame : int, default 0
        Frame index; negative counts from the end (−1: the last frame).

    Returns
    -------
    ParticleSystem
        Positions (N, d) in the file's length units, the periodic box, species from the types.

    Raises
    ------
    ValueError
        Not a readable GSD file, not the HOOMD schema, a frame index out of range, or positions
        the system refuses (NaN, …); the message names the file.
    """
    import gsd.hoomd

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        trajectory = gsd.hoomd.open(str(path), "r")
    except Exception as error:  # the gsd package raises RuntimeError, OSError or its own types
        raise ValueError(f"{path}: not a readable HOOMD GSD file ({type(error).__name__}: {error})") from None
    with trajectory:
        count = len(trajectory)
        if count == 0:
            raise ValueError(f"{path}: the file holds no frames")
        if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)) or not -count <= frame < count:
            raise ValueError(f"{path}: frame must be an integer in {-count}..{count - 1} (the file holds {count} "
                             f"frame{'s' * (count != 1)}), got {frame!r}")
        snapshot = trajectory[int(frame)]
    dim = int(snapshot.configuration.dimensions)
    lx, ly, lz, xy, xz, yz = (float(v) for v in snapshot.configuration.box)
    positions = np.asarray(snapshot.particles.position, dtype=float).reshape(-1, 3)
    lengths = (lx, ly) if dim == 2 else (lx, ly, lz)
    if not all(np.isfinite(v) and v > 0 for v in lengths):
        raise ValueError(f"{path}, frame {frame}: the {dim}D box lengths must be finite numbers > 0, "
                         f"got {', '.join(f'{v:g}' for v in lengths)}")
    if dim == 2 and len(positions) and np.any(positions[:, 2] != 0):
        raise ValueError(f"{path}, frame {frame}: a 2D frame with particles off the plane z = 0 "
                         f"(|z| up to {np.abs(positions[:, 2]).max():g}); write them at z = 0 or as a 3D frame")
    if dim == 2:
        box = freud.box.Box(lx, ly, 0.0, xy, 0.0, 0.0, is2D=True)
        positions = positions[:, :2]
    else:
        box = freud.box.Box(lx, ly, lz, xy, xz, yz)
    types = list(snapshot.particles.types or ["A"])
    typeid = np.asarray(snapshot.particles.typeid if snapshot.particles.typeid is not None
                        else np.zeros(len(positions), int), dtype=int)
    if len(typeid) and (typeid.min() < 0 or typeid.max() >= len(types)):
        raise ValueError(f"{path}: particle type ids must lie in 0..{len(types) - 1} (the file's {len(types)} "
                         f"types {types}), got {int(typeid.min())}..{int(typeid.max())}")
    species = np.array(types, dtype=str)[typeid] if len(positions) else np.array([], dtype=str)
    return checked_system(f"{path}, frame {frame}", positions, box, species=species)
