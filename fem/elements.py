"""Q1 element matrices at Gauss points for elasticity and the phase-field equation.

Element matrices depend only on ``(dx, dy, lambda, mu)``; they are computed for the distinct
element types of a :class:`fem.mesh_quad.QuadGrid` and gathered, never by generic quadrature.
"""

from __future__ import annotations

import numpy as np

from fem.mesh_quad import GAUSS_N, QuadGrid

__all__ = [
    "constitutive",
    "damage_matrices",
    "elastic_gauss_matrices",
    "elastic_type_matrices",
    "element_types",
]


def constitutive(lam: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """In-plane Voigt stiffness ``D`` (shape (n, 3, 3)) from 2D Lamé parameters (MPa)."""
    lam = np.asarray(lam, float)
    mu = np.asarray(mu, float)
    D = np.zeros(lam.shape + (3, 3))
    D[..., 0, 0] = D[..., 1, 1] = lam + 2 * mu
    D[..., 0, 1] = D[..., 1, 0] = lam
    D[..., 2, 2] = mu
    return D


def element_types(grid: QuadGrid, lam: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct element types (size and Lamé parameters) of a mesh.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``first``: index of one element of each type, shape (ntypes,); ``inv``: type of each
        element, shape (nelem,).
    """
    key = np.round(np.stack([grid.dx, grid.dy, lam, mu], axis=1), 14)
    _, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return first, inv.ravel()


def elastic_type_matrices(grid: QuadGrid, lam: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undegraded elastic stiffness per Gauss point, ``w |J| B^T D B``, once per element type.

    Parameters
    ----------
    grid : QuadGrid
        The mesh.
    lam, mu : numpy.ndarray
        2D Lamé parameters per element (MPa), shape (nelem,).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Matrices of shape (ntypes, 4, 8, 8) (N/mm per unit thickness; summing over axis 1
        gives ``Ke``), and ``first``, ``inv`` of :func:`element_types`.
    """
    first, inv = element_types(grid, lam, mu)
    B = grid.bmatrix()[first]  # (nt, 4, 3, 8)
    D = constitutive(lam[first], mu[first])  # (nt, 3, 3)
    w = grid.detj()[first]
    Kq = np.einsum("tqai,tab,tqbj->tqij", B, D, B) * w[:, None, None, None]
    return Kq, first, inv


def elastic_gauss_matrices(grid: QuadGrid, lam: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """:func:`elastic_type_matrices` gathered per element, shape (nelem, 4, 8, 8)."""
    Kq, _, inv = elastic_type_matrices(grid, lam, mu)
    return Kq[inv]


def damage_matrices(grid: QuadGrid) -> tuple[np.ndarray, np.ndarray]:
    """Scalar Laplacian per element and mass per Gauss point.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``L`` of shape (nelem, 4, 4): ``int grad N_i . grad N_j`` (dimensionless), and
        ``Mq`` of shape (nelem, 4, 4, 4): ``w |J| N_i N_j`` at each Gauss point (mm²).
    """
    gx, gy = grid.grads()
    J = grid.detj()
    L = (np.einsum("eqi,eqj->eij", gx, gx) + np.einsum("eqi,eqj->eij", gy, gy)) * J[:, None, None]
    Mq = np.einsum("qi,qj->qij", GAUSS_N, GAUSS_N)[None] * J[:, None, None, None]
    return L, Mq
