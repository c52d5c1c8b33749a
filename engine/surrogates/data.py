"""Spinodoid data: the Kumar et al. (2020) CSV, parameter validation and scaling.

Parameters of a spinodoid are ``(rho, theta_x, theta_y, theta_z)``: solid volume fraction ρ
(dimensionless) and the cone half-angles in degrees (0 = cone closed, else 15–90). Targets are
the nine orthotropic stiffnesses C11, C12, C13, C22, C23, C33, C44, C55, C66 normalised by the
base material's Young's modulus (dimensionless).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.surrogates.base import check_matrix

__all__ = [
    "KUMAR_PARAM_COLUMNS",
    "KUMAR_STIFFNESS_COLUMNS",
    "RHO_RANGE",
    "SPINODOID_PARAMS",
    "STIFFNESS_COMPONENTS",
    "NORMAL_STIFFNESS",
    "OFF_DIAGONAL_STIFFNESS",
    "SHEAR_STIFFNESS",
    "THETA_MAX",
    "THETA_MIN_OPEN",
    "check_spinodoid_params",
    "check_stiffness",
    "load_kumar2020",
    "snap_angles",
    "train_test_split_indices",
]

#: Names of the four design parameters (ρ dimensionless, angles in degrees).
SPINODOID_PARAMS = ("rho", "theta_x", "theta_y", "theta_z")
#: Names of the nine stiffness components, in the column order of the data set.
STIFFNESS_COMPONENTS = ("C11", "C12", "C13", "C22", "C23", "C33", "C44", "C55", "C66")
#: Columns of the normal (C11, C22, C33), off-diagonal (C23, C13, C12) and shear (C44, C55, C66) stiffnesses,
#: each in the order of the axes they couple (1, 2, 3 / 23, 13, 12 / 23, 13, 12).
NORMAL_STIFFNESS = tuple(STIFFNESS_COMPONENTS.index(c) for c in ("C11", "C22", "C33"))
OFF_DIAGONAL_STIFFNESS = tuple(STIFFNESS_COMPONENTS.index(c) for c in ("C23", "C13", "C12"))
SHEAR_STIFFNESS = tuple(STIFFNESS_COMPONENTS.index(c) for c in ("C44", "C55", "C66"))
KUMAR_PARAM_COLUMNS = ("volFrac", "thetaX", "thetaY", "thetaZ")
KUMAR_STIFFNESS_COLUMNS = tuple(f"stiffness{i}" for i in (0, 1, 2, 7, 8, 14, 21, 28, 35))
#: Physically allowed volume fractions (the published data cover 0.30–0.90).
RHO_RANGE = (0.0, 1.0)
#: Smallest open cone half-angle (degrees) and largest angle (degrees).
THETA_MIN_OPEN = 15.0
THETA_MAX = 90.0


def load_kumar2020(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read the Kumar et al. (2020) spinodoid data set.

    Parameters
    ----------
    path : str or Path
        CSV with columns ``volFrac, thetaX, thetaY, thetaZ, stiffness0, 1, 2, 7, 8, 14, 21, 28, 35``.

    Returns
    -------
    X : ndarray, shape (n, 4)
        ``(rho, theta_x, theta_y, theta_z)``; angles in degrees.
    y : ndarray, shape (n, 9)
        ``C11, C12, C13, C22, C23, C33, C44, C55, C66`` / E_base (dimensionless).

    Raises
    ------
    ValueError
        If the file is missing, columns are missing, or values are not finite.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"spinodoid data file {str(path)!r} does not exist")
    frame = pd.read_csv(path)
    missing = [c for c in KUMAR_PARAM_COLUMNS + KUMAR_STIFFNESS_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{str(path)!r} lacks columns {missing}; expected {list(KUMAR_PARAM_COLUMNS + KUMAR_STIFFNESS_COLUMNS)}")
    X = check_matrix(frame[list(KUMAR_PARAM_COLUMNS)].to_numpy(), 4, "spinodoid parameters")
    y = check_matrix(frame[list(KUMAR_STIFFNESS_COLUMNS)].to_numpy(), 9, "stiffness")
    return X, y


def check_spinodoid_params(X: Any, allow_gap: bool = False) -> np.ndarray:
    """Validate spinodoid parameters ``(rho, theta_x, theta_y, theta_z)``.

    Parameters
    ----------
    X : array-like, shape (n, 4) or (4,)
    allow_gap : bool
        Accept angles in the gap (0, 15) degrees (used only inside the inverse solver).

    Returns
    -------
    ndarray of float64, shape (n, 4)

    Raises
    ------
    ValueError
        On wrong shape, NaN, ρ outside [0, 1], angles outside [0, 90] degrees, angles between 0
        and 15 degrees (not a valid cone), or all three cones closed.
    """
    arr = check_matrix(X, 4, "spinodoid parameters (rho, theta_x, theta_y, theta_z)")
    rho, theta = arr[:, 0], arr[:, 1:]
    if ((rho < RHO_RANGE[0]) | (rho > RHO_RANGE[1])).any():
        i = int(np.flatnonzero((rho < RHO_RANGE[0]) | (rho > RHO_RANGE[1]))[0])
        raise ValueError(f"volume fraction rho must be in [0, 1] (data cover 0.30-0.90); row {i} has {rho[i]}")
    if ((theta < 0) | (theta > THETA_MAX)).any():
        i = int(np.argwhere((theta < 0) | (theta > THETA_MAX))[0, 0])
        raise ValueError(f"cone angles must be in [0, 90] degrees; row {i} has {theta[i].tolist()}")
    if not allow_gap:
        gap = (theta > 0) & (theta < THETA_MIN_OPEN)
        if gap.any():
            i = int(np.argwhere(gap)[0, 0])
            raise ValueError(
                f"cone angles must be 0 (closed) or in [15, 90] degrees; row {i} has {theta[i].tolist()}"
            )
        closed = (theta == 0).all(axis=1)
        if closed.any():
            raise ValueError(f"at least one cone must be open (angle >= 15 degrees); row {int(np.flatnonzero(closed)[0])} has all three at 0")
    return arr


def check_stiffness(Y: Any) -> np.ndarray:
    """Validate target stiffness rows (n, 9) in the order of :data:`STIFFNESS_COMPONENTS`."""
    return check_matrix(Y, 9, "stiffness (C11, C12, C13, C22, C23, C33, C44, C55, C66)")


def snap_angles(theta: np.ndarray) -> np.ndarray:
    """Published angle snapping: θ < 7.5° → 0, 7.5° ≤ θ < 15° → 15°, else unchanged (degrees)."""
    theta = np.asarray(theta, dtype=np.float64).copy()
    theta[theta < 7.5] = 0.0
    theta[(theta >= 7.5) & (theta < THETA_MIN_OPEN)] = THETA_MIN_OPEN
    return np.clip(theta, 0.0, THETA_MAX)


def train_test_split_indices(n: int, test_fraction: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split of ``range(n)`` into (train, test) index arrays."""
    if not (0.0 < test_fraction < 1.0):
        raise ValueError(f"test_fraction must be in (0, 1); got {test_fraction}")
    perm = np.random.default_rng(seed).permutation(n)
    n_test = int(round(test_fraction * n))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])
