"""AMG-preconditioned block CG for several right-hand sides sharing one hierarchy.

The smoothed-aggregation hierarchy (interpolation operators and coarse matrices) comes from
pyamg with the rigid-body modes as near-nullspace; the cycle itself is a V-cycle with
Chebyshev smoothing written with sparse-matrix × multi-vector products, so the six load
cases of a homogenisation run through every level together (one pass over each matrix per
smoothing step for all six vectors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyamg
import scipy.linalg as sla
import scipy.sparse as sp

__all__ = ["AMGHierarchy", "SolveInfo", "build_hierarchy", "block_pcg"]


@dataclass
class _Level:
    A: sp.csr_matrix
    dinv: np.ndarray
    lmax: float
    P: sp.csr_matrix | None = None
    R: sp.csr_matrix | None = None


@dataclass
class AMGHierarchy:
    """Levels of a smoothed-aggregation hierarchy plus a dense coarse factorisation."""

    levels: list[_Level]
    coarse: tuple
    degree: int

    def _smooth(self, lvl: _Level, x: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Chebyshev smoothing of D⁻¹A on [λmax/30, 1.1 λmax], ``degree`` steps."""
        hi, lo = 1.1 * lvl.lmax, lvl.lmax / 30.0
        theta, delta = 0.5 * (hi + lo), 0.5 * (hi - lo)
        sigma = theta / delta
        rho = 1.0 / sigma
        r = b - lvl.A @ x
        d = lvl.dinv[:, None] * r / theta
        for _ in range(self.degree):
            x = x + d
            r = r - lvl.A @ d
            rho_new = 1.0 / (2.0 * sigma - rho)
            d = rho_new * rho * d + (2.0 * rho_new / delta) * (lvl.dinv[:, None] * r)
            rho = rho_new
        return x

    def vcycle(self, b: np.ndarray, k: int = 0) -> np.ndarray:
        """Apply one V-cycle (zero initial guess) to the block of vectors ``b`` (n, m)."""
        if k == len(self.levels) - 1:
            return sla.cho_solve(self.coarse, b)
        lvl = self.levels[k]
        x = self._smooth(lvl, np.zeros_like(b), b)
        rc = lvl.R @ (b - lvl.A @ x)
        x = x + lvl.P @ self.vcycle(rc, k + 1)
        return self._smooth(lvl, x, b)


def _lmax(A: sp.csr_matrix, dinv: np.ndarray, rng: np.random.Generator, iters: int = 12) -> float:
    """Power-iteration estimate of the largest eigenvalue of D⁻¹A."""
    v = rng.standard_normal(A.shape[0])
    lam = 1.0
    for _ in range(iters):
        w = dinv * (A @ v)
        lam = float(np.linalg.norm(w) / np.linalg.norm(v))
        v = w / np.linalg.norm(w)
    return lam


def build_hierarchy(
    A: sp.spmatrix, B: np.ndarray, max_coarse: int = 600, degree: int = 2, seed: int = 0
) -> AMGHierarchy:
    """Smoothed-aggregation hierarchy of an SPD matrix with near-nullspace ``B``.

    Parameters
    ----------
    A : scipy.sparse matrix
        SPD matrix, BSR with 3×3 blocks for elasticity (aggregation by node).
    B : numpy.ndarray
        (n, k) near-nullspace (rigid-body modes).
    max_coarse : int
        Size below which the coarse problem is factorised densely.
    degree : int
        Chebyshev smoothing steps before and after the coarse correction.
    seed : int
        Seed of the power iterations estimating λmax(D⁻¹A).
    """
    ml = pyamg.smoothed_aggregation_solver(
        A, B=B, symmetry="hermitian",
        smooth=("jacobi", {"omega": 4.0 / 3.0, "weighting": "local"}),
        presmoother=None, postsmoother=None, max_coarse=max_coarse, max_levels=10,
        keep=False, coarse_solver="pinv", improve_candidates=None,
    )
    rng = np.random.default_rng(seed)
    levels = []
    for i, l in enumerate(ml.levels):
        Ai = l.A.tocsr()
        d = Ai.diagonal()
        dinv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 0.0)
        lvl = _Level(A=Ai, dinv=dinv, lmax=_lmax(Ai, dinv, rng) if i < len(ml.levels) - 1 else 1.0)
        if i < len(ml.levels) - 1:
            lvl.P = l.P.tocsr()
            lvl.R = l.R.tocsr() if l.R is not None else lvl.P.T.tocsr()
        levels.append(lvl)
    Ac = levels[-1].A.toarray()
    Ac = 0.5 * (Ac + Ac.T)
    # tiny shift keeps the factorisation alive if the coarsest operator is singular
    shift = 1e-12 * np.abs(np.diag(Ac)).max()
    coarse = sla.cho_factor(Ac + shift * np.eye(len(Ac)))
    return AMGHierarchy(levels=levels, coarse=coarse, degree=degree)


@dataclass(frozen=True)
class SolveInfo:
    """Block CG outcome: iterations, final relative residual per column, convergence flag."""

    iterations: int
    residuals: tuple[float, ...]
    converged: bool


def block_pcg(
    A: sp.spmatrix, b: np.ndarray, M: AMGHierarchy, rtol: float = 1e-8, maxiter: int = 500
) -> tuple[np.ndarray, SolveInfo]:
    """Preconditioned CG run independently on each column of ``b`` (n, m), vectorised.

    Parameters
    ----------
    A : scipy.sparse matrix
        SPD matrix (n, n).
    b : numpy.ndarray
        Right-hand sides (n, m).
    M : AMGHierarchy
        Preconditioner (one V-cycle per iteration).
    rtol : float
        Relative residual ‖b − A x‖ / ‖b‖ at which a column is converged.
    maxiter : int
        Iteration cap.

    Returns
    -------
    x : numpy.ndarray
        Solutions (n, m).
    info : SolveInfo
    """
    A = A if getattr(A, "format", None) == "csr" else sp.csr_matrix(A)
    b = np.asarray(b, dtype=float)
    x = np.zeros_like(b)
    bn = np.linalg.norm(b, axis=0)
    bn_safe = np.where(bn > 0, bn, 1.0)
    r = b.copy()
    active = bn > 0
    if not active.any():
        return x, SolveInfo(0, tuple(0.0 for _ in bn), True)
    z = M.vcycle(r)
    p = z.copy()
    rz = np.einsum("ij,ij->j", r, z)
    it = 0
    res = np.linalg.norm(r, axis=0) / bn_safe
    while it < maxiter:
        it += 1
        q = A @ p
        pq = np.einsum("ij,ij->j", p, q)
        alpha = np.where(active & (pq > 0), rz / np.where(pq > 0, pq, 1.0), 0.0)
        x += alpha * p
        r -= alpha * q
        res = np.linalg.norm(r, axis=0) / bn_safe
        active = active & (res > rtol)
        if not active.any():
            break
        z = M.vcycle(r)
        rz_new = np.einsum("ij,ij->j", r, z)
        beta = np.where(active, rz_new / np.where(rz != 0, rz, 1.0), 0.0)
        p = z + beta * p
        rz = rz_new
    conv = bool(np.all(res <= rtol))
    return x, SolveInfo(it, tuple(float(v) for v in res), conv)
