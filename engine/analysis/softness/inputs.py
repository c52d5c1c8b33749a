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

__all__ = ["GlassData", "FORMATS", "check_format", "is_trajectory", "read_glass_file"]

#: What a glass file holds: one configuration (with propensity when known) or a trajectory.
GlassData = Union[GlassSample, GlassTrajectory]
#: Suffixes read (without the dot).
FORMATS = ("npz",) + tuple(READ_FORMATS)


def check_format(path: str | Path) -> str:
    """The format of ``path`` by its suffix (one of :data:`FORMATS`, without the dot).

    Raises
    ------
    ValueError
        A suffix that is not one of :data:`FORMATS`; the message lists what is read.
    """
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        found = f"a .{suffix} file" if suffix else "a file without a suffix"
        raise ValueError(f"{path.name}: {found} is not read here; glass files are .npz (isoconfigurational "
                         "ensemble or trajectory) or one configuration with species as "
                         f"{', '.join('.' + f for f in FORMATS if f != 'npz')}, recognised by the suffix")
    return suffix


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
        A file that is none of :data:`FORMATS` (:func:`check_format`), what the chosen reader
        refuses, or a box given for an XYZ/CSV/GSD file.
    """
    path = Path(path)
    if check_format(path) != "npz":
        if box_length is not None or density is not None:
            raise ValueError(f"{path.name}: a box length or density applies to .npz files only; XYZ, CSV and GSD "
                             "files carry their box")
        return GlassSample(read_configuration(path))
    if is_trajectory(path):
        return read_trajectory(path, box_length=box_length, density=density)
    return read_isoconfigurational(path, box_length=box_length, density=density)
