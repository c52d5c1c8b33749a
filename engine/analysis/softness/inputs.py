"""One reader for every glass file the page and the command line accept, by content.

* ``.npz`` with ``initial_positions``: an isoconfigurational ensemble (:mod:`.isoconfig`);
* ``.npz`` with ``positions`` (T, N, d) and no ``initial_positions``: a trajectory (:mod:`.trajectory`);
* ``.xyz``, ``.csv``, ``.gsd``: one configuration with its box (:mod:`.ordering.configurations`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

from ..ordering.configurations import READ_FORMATS, read_configuration
from .isoconfig import GlassSample, read_isoconfigurational
from .trajectory import GlassTrajectory, npz_fields, read_trajectory

__all__ = ["GlassData", "FORMATS", "is_trajectory", "read_glass_file"]

#: What a glass file holds: one configuration (with propensity when known) or a trajectory.
GlassData = Union[GlassSample, GlassTrajectory]
#: Suffixes read (without the dot).
FORMATS = ("npz",) + tuple(READ_FORMATS)


def is_trajectory(path: str | Path) -> bool:
    """Whether ``path`` is an ``.npz`` trajectory (``positions`` without ``initial_positions``)."""
    fields = npz_fields(path) if Path(path).suffix.lower() == ".npz" else frozenset()
    return "positions" in fields and "initial_positions" not in fields


def read_glass_file(path: str | Path, *, box_length: float | None = None,
                    density: float | None = None) -> GlassData:
    """Read an isoconfigurational file, a trajectory or a configuration (module notes).

    Parameters
    ----------
    path : str or Path
    box_length, density : float, optional
        Box of ``.npz`` files (cubic or square, periodic): its length or the number density.
        Isoconfigurational files need one; trajectories need one unless they hold ``box``.
        XYZ/CSV/GSD files carry their own box and take neither.

    Raises
    ------
    ValueError
        What the chosen reader refuses, or a box given for an XYZ/CSV/GSD file.
    """
    path = Path(path)
    if path.suffix.lower() != ".npz":
        if box_length is not None or density is not None:
            raise ValueError(f"{path.name}: a box length or density applies to .npz files only; XYZ, CSV and GSD "
                             "files carry their box")
        return GlassSample(read_configuration(path))
    if is_trajectory(path):
        return read_trajectory(path, box_length=box_length, density=density)
    return read_isoconfigurational(path, box_length=box_length, density=density)
