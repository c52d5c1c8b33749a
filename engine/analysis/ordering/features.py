"""The bond-order feature vector that the classifiers of crystal structure learn from.

Columns (all dimensionless, from :func:`.steinhardt.steinhardt`):

====== =====================================================================
0–2    q4, q6, q8 with the 12 nearest neighbours
3–5    q̄4, q̄6, q̄8 (Lechner–Dellago average) with 12 neighbours
6–8    q4, q6, q8 with 14 neighbours (the bcc shell, 8 + 6)
9–11   q̄4, q̄6, q̄8 with 14 neighbours
12–13  ŵ4, ŵ6 with 12 neighbours
====== =====================================================================

Two fixed counts rather than one adaptive definition: 12 is the close-packed shell and 14 the
bcc one, and Lechner & Dellago, J. Chem. Phys. 129, 114707 (2008), Fig. 3, show that the
averaged q̄4, q̄6 separate fcc, hcp, bcc and liquid far better than q4, q6 under thermal noise.
"""

from __future__ import annotations

import numpy as np

from .steinhardt import steinhardt
from .systems import ParticleSystem

__all__ = ["FEATURE_NAMES", "bond_order_features"]

#: Column names of :func:`bond_order_features`.
FEATURE_NAMES: tuple[str, ...] = (
    "q4_12", "q6_12", "q8_12", "qbar4_12", "qbar6_12", "qbar8_12",
    "q4_14", "q6_14", "q8_14", "qbar4_14", "qbar6_14", "qbar8_14",
    "w4_12", "w6_12",
)


def bond_order_features(system: ParticleSystem) -> np.ndarray:
    """Per-particle bond-order features (module table).

    Parameters
    ----------
    system : ParticleSystem
        At least 15 particles (14 neighbours each).

    Returns
    -------
    ndarray, shape (N, 14), float64
        One row per particle, columns :data:`FEATURE_NAMES`.
    """
    ls = (4, 6, 8)
    columns = []
    for count in (12, 14):
        columns.append(steinhardt(system, ls, neighbors=count))
        columns.append(steinhardt(system, ls, neighbors=count, average=True))
    columns.append(steinhardt(system, (4, 6), neighbors=12, wl=True))
    return np.hstack(columns)
