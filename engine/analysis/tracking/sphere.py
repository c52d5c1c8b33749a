"""Parameters of a spherical particle in a hologram, and tables of them.

Units follow the detection and tracking tables (trackpy's columns): the in-plane centre ``x``
(image column) and ``y`` (image row) in pixels, the axial distance ``z`` of the centre from the
focal plane in µm (upstream: the light reaches the particle ``z`` µm before the focal plane), the
radius ``a_p`` in µm and the complex refractive index ``n_p`` (``Im(n_p) ≥ 0`` absorbs, with the
``exp(−iωt)`` convention of Bohren & Huffman).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Sphere", "COLUMNS", "spheres_from_table", "spheres_to_table"]

#: Columns of a particle table: x, y in px; z, a_p in µm; n_p (complex or real).
COLUMNS = ("x", "y", "z", "a_p", "n_p")


@dataclass(frozen=True)
class Sphere:
    """A homogeneous sphere seen by the microscope.

    Parameters
    ----------
    x, y : float
        Centre in the image plane, px (column and row; pixel ``(i, j)`` is centred at
        ``x = j, y = i``). Any finite value: a centre outside the image is allowed.
    z : float
        Distance of the centre from the focal plane along the optical axis, µm; ``z > a_p``
        (the focal plane lies downstream of the whole sphere).
    a_p : float
        Radius, µm (> 0).
    n_p : complex
        Refractive index; ``Re(n_p) > 0``, ``Im(n_p) ≥ 0``.

    Raises
    ------
    ValueError
        A non-finite value, ``a_p ≤ 0``, ``z ≤ a_p``, ``Re(n_p) ≤ 0`` or ``Im(n_p) < 0``.
    """

    x: float
    y: float
    z: float
    a_p: float
    n_p: complex

    def __post_init__(self) -> None:
        for name in ("x", "y", "z", "a_p"):
            value = getattr(self, name)
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a real number; got {getattr(self, name)!r}") from None
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite; got {value!r}")
            object.__setattr__(self, name, value)
        if self.a_p <= 0:
            raise ValueError(f"radius a_p must be positive (µm); got {self.a_p!r}")
        if self.z <= self.a_p:
            raise ValueError(f"z (µm from the focal plane) must exceed the radius a_p = {self.a_p} µm "
                             f"so that the focal plane lies outside the sphere, downstream; got {self.z!r}")
        try:
            n_p = complex(self.n_p)
        except (TypeError, ValueError):
            raise ValueError(f"n_p must be a number (real or complex); got {self.n_p!r}") from None
        if not (math.isfinite(n_p.real) and math.isfinite(n_p.imag)) or n_p.real <= 0 or n_p.imag < 0:
            raise ValueError(f"n_p must be finite with Re(n_p) > 0 and Im(n_p) >= 0 (absorbing); got {n_p!r}")
        object.__setattr__(self, "n_p", n_p)


def spheres_from_table(table: pd.DataFrame | Sphere | Iterable[Sphere]) -> list[Sphere]:
    """Spheres from a particle table (columns :data:`COLUMNS`), one sphere, or several.

    Parameters
    ----------
    table : pandas.DataFrame, Sphere or iterable of Sphere
        A table needs the columns ``x, y`` (px), ``z, a_p`` (µm) and ``n_p``; others are ignored.

    Returns
    -------
    list of Sphere

    Raises
    ------
    ValueError
        Missing columns, or a row that is not a valid :class:`Sphere`.
    """
    if isinstance(table, Sphere):
        return [table]
    if isinstance(table, pd.DataFrame):
        missing = [c for c in COLUMNS if c not in table.columns]
        if missing:
            raise ValueError(f"particle table needs columns {list(COLUMNS)}; missing {missing}")
        return [Sphere(*row) for row in table.loc[:, list(COLUMNS)].itertuples(index=False, name=None)]
    spheres = list(table)
    bad = [s for s in spheres if not isinstance(s, Sphere)]
    if bad:
        raise ValueError(f"expected Sphere objects or a DataFrame with columns {list(COLUMNS)}; got {bad[0]!r}")
    return spheres


def spheres_to_table(spheres: Iterable[Sphere]) -> pd.DataFrame:
    """Particle table (columns :data:`COLUMNS`; ``n_p`` real when no sphere absorbs)."""
    rows = [(s.x, s.y, s.z, s.a_p, s.n_p) for s in spheres]
    table = pd.DataFrame(rows, columns=list(COLUMNS)).astype({c: float for c in COLUMNS[:4]})
    n_p = np.array([r[4] for r in rows], dtype=complex)
    table["n_p"] = n_p.real if not np.any(n_p.imag) else n_p
    return table
