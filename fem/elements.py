"""Q1 element matrices at Gauss points for elasticity and the phase-field equation.

Element matrices depend only on ``(dx, dy, lambda, mu)``; they are computed for the distinct
element types of a :class:`fem.mesh_quad.QuadGrid` and gathered, never by generic quadrature.
"""

from __future__ import annotations

import numpy as np

from fem.mesh_quad import GAUSS_N, QuadGrid

__all__ = ["constitutive", "elastic_gauss_matrices", "damage_matrices", "strain_energy_density"]


def constitutive(lam: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """In-plane Voigt stiffness ``D`` (shape (n, 3, 3)) from 2D Lamé parameters (MPa)."""
    lam = np.asarray(lam, float)
    mu = np.asarray(mu, float)
    D = np.zeros(lam.shape + (3, 3))
    D[..., 0, 0] = D[..., 1, 1] = lam + 2 * mu
    D[..., 0, 1] = D[..., 1, 0] = lam
    D[..., 2, 2] = mu
    return D


def elastic_gauss_matrices(grid: QuadGrid, lam: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Undegraded elastic stiffness per Gauss point, ``w |J| B^T D B``.

    Parameters
    ----------
    grid : QuadGrid
        The mesh.
    lam, mu : numpy.ndarray
        2D Lamé parameters per element (MPa), shape (nelem,).

    Returns
    -------
    numpy.ndarray
        Shape (nelem, 4, 8, 8) (N/mm per unit thickness); summing over axis 1 gives ``Ke``.
    """
    key = np.stack([grid.dx, grid.dy, lam, mu], axis=1)
    uniq, inv = np.unique(np.round(key, 14), axis=0, return_inverse=True)
    inv = inv.ravel()
    first = np.zeros(uniq.shape[0], dtype=np.int64)
    first[inv[::-1]] = np.arange(inv.size)[::-1]
    B = grid.bmatrix()[first]  # (nt, 4, 3, 8)
    D = constitutive(lam[first], mu[first])  # (nt, 3, 3)
    w = grid.detj()[first]
    Kq = np.einsum("tqai,tab,tqbj->tqij", B, D, B) * w[:, None, None, None]
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


def strain_energy_density(B: np.ndarray, D: np.ndarray, ue: np.ndarray) -> np.ndarray:
    """``psi = 0.5 eps : D : eps`` at Gauss points (MPa = mJ/mm³).

    Parameters
    ----------
    B : numpy.ndarray
        (nelem, 4, 3, 8) strain–displacement matrices.
    D : numpy.ndarray
        (nelem, 3, 3) constitutive matrices.
    ue : numpy.ndarray
        (nelem, 8) element displacements (mm).
    """
    eps = np.einsum("eqaj,ej->eqa", B, ue)
    return 0.5 * np.einsum("eqa,eab,eqb->eq", eps, D, eps)
