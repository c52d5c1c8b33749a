"""Plain scikit-fem reference homogenisation (generic assembly, default direct solver).

Used as an independent check of :mod:`fem.homogenize` on small grids and as the baseline of
``tests/benchmarks/bench_homogenize.py``. Affine (kinematic uniform) boundary conditions only.
Too slow beyond ~16³ (SuperLU fill-in); that is the point of the baseline.
"""

from __future__ import annotations

import numpy as np

from fem.voxel_elasticity import voigt_unit_strain

__all__ = ["assemble_reference", "homogenize_affine_reference"]


def assemble_reference(phase: np.ndarray, materials: list[tuple[float, float]]):
    """Generic scikit-fem assembly of a voxel structure (void removed).

    Returns
    -------
    K : scipy.sparse.csr_matrix
        Global stiffness on the nodes of the solid voxels.
    basis : skfem.Basis
        Vector trilinear basis on the solid-voxel mesh (unit voxels).
    """
    from skfem import Basis, BilinearForm, ElementHex1, ElementVector, MeshHex, asm
    from skfem.helpers import ddot, sym_grad, trace

    from fem.voxel_elasticity import lame

    phase = np.asarray(phase).astype(int)
    nx, ny, nz = phase.shape
    mesh = MeshHex.init_tensor(np.arange(nx + 1.0), np.arange(ny + 1.0), np.arange(nz + 1.0))
    mids = mesh.p[:, mesh.t].mean(axis=1)
    ijk = np.floor(mids).astype(int)
    ph = phase[ijk[0], ijk[1], ijk[2]]
    keep = np.flatnonzero(ph > 0)
    mesh = mesh.restrict(keep) if len(keep) < mesh.t.shape[1] else mesh
    ph = ph[keep]
    lam = np.array([lame(E, nu)[0] for E, nu in materials])[ph - 1]
    mu = np.array([lame(E, nu)[1] for E, nu in materials])[ph - 1]
    basis = Basis(mesh, ElementVector(ElementHex1()))
    lam_q = np.repeat(lam[:, None], basis.X.shape[-1], axis=1)
    mu_q = np.repeat(mu[:, None], basis.X.shape[-1], axis=1)

    @BilinearForm
    def form(u, v, w):
        eu, ev = sym_grad(u), sym_grad(v)
        return 2.0 * w["mu"] * ddot(eu, ev) + w["lam"] * trace(eu) * trace(ev)

    K = asm(form, basis, lam=lam_q, mu=mu_q)
    return K, basis


def homogenize_affine_reference(
    phase: np.ndarray, materials: list[tuple[float, float]] | None = None
) -> np.ndarray:
    """Effective 6×6 stiffness under affine boundary conditions, plain scikit-fem.

    Parameters
    ----------
    phase : numpy.ndarray
        (nx, ny, nz) 0 = void, p = material p (all solid voxels kept, no cluster filter).
    materials : list of (float, float), optional
        (E, ν) per material; default [(1.0, 0.3)].

    Returns
    -------
    numpy.ndarray
        (6, 6) C = uᵀ K u / V in the unit of E, V = nx·ny·nz voxels.
    """
    from skfem import condense, solve

    materials = [(1.0, 0.3)] if materials is None else materials
    phase = np.asarray(phase)
    K, basis = assemble_reference(phase, materials)
    m = basis.mesh
    lo, hi = np.zeros(3), np.array(phase.shape, dtype=float)
    bnodes = np.flatnonzero(np.any((m.p <= lo[:, None] + 1e-9) | (m.p >= hi[:, None] - 1e-9), axis=0))
    D = basis.nodal_dofs[:, bnodes].ravel()
    U = []
    for I in range(6):
        eps = voigt_unit_strain(I)
        u0 = np.zeros(basis.N)
        disp = eps @ m.p
        for c in range(3):
            u0[basis.nodal_dofs[c]] = disp[c]
        u = solve(*condense(K, np.zeros(basis.N), x=u0, D=D))
        U.append(u)
    U = np.array(U).T
    return U.T @ (K @ U) / float(np.prod(phase.shape))
