"""Reference problems that the fast solvers are checked against.

- :func:`miehe_sent` — the single-edge-notched tension (SENT) test of Miehe, Hofacker &
  Welschinger, "A phase field model for rate-independent crack propagation", Comput. Methods
  Appl. Mech. Engrg. 199, 2765–2778 (2010), set up as in the phasefieldx code release (AT2, no
  tension/compression split). Its digitised load–displacement curve is
  ``tests/data/fracture/miehe_solution.csv`` (see ``tests/data/fracture/PROVENANCE.md``);
  published peak about 0.70 kN at u ≈ 5.55e-3 mm.
- :func:`homogenize_affine_reference` (and :func:`assemble_reference`) — the effective
  stiffness of a voxel structure under affine (kinematic uniform) boundary conditions by
  plain scikit-fem: generic quadrature assembly (``skfem.asm``) and its default direct solver
  (``skfem.solve``, SuperLU). An independent check of :mod:`fem.homogenize` on small grids
  and the baseline of ``tests/benchmarks/bench_homogenize.py``. Too slow beyond ~16³
  (SuperLU fill-in); that is the point of the baseline.
"""

from __future__ import annotations

import numpy as np

from fem.materials import lame, plane_lame
from fem.mesh_quad import QuadGrid, graded_axis
from fem.phasefield import PhaseFieldProblem, SolverOptions
from fem.voxel_elasticity import voigt_unit_strain

__all__ = ["miehe_sent", "assemble_reference", "homogenize_affine_reference"]


def miehe_sent(h_over_ell: float = 0.5, max_displacement: float = 7e-3) -> tuple[PhaseFieldProblem, SolverOptions]:
    """Miehe et al. (2010) single-edge-notched tension test, as in the phasefieldx reference.

    1 × 1 mm plate, slit from the left edge to the centre at mid-height, plane strain,
    E = 210 kN/mm², ν = 0.3, G_c = 2.7e-3 kN/mm, ℓ = 0.015 mm, AT2 without split. The mesh is
    graded to ``h = h_over_ell * ℓ`` in the band the crack runs through (x ≥ 0.47 mm,
    |y - 0.5| ≤ 3ℓ). Forces come out in kN/mm of thickness (kN for the 1 mm thick plate).

    Parameters
    ----------
    h_over_ell : float
        Element size in the crack band over ℓ.
    max_displacement : float
        End of the test (mm).

    Returns
    -------
    (PhaseFieldProblem, SolverOptions)
        Problem and options (steps of at most 1e-4 mm, run to 2 % of the peak).
    """
    ell = 0.015
    h = h_over_ell * ell
    xs = graded_axis(1.0, h, 0.05, (0.5 - 2 * ell, 1.0), (0.5,))
    ys = graded_axis(1.0, h, 0.05, (0.5 - 3 * ell, 0.5 + 3 * ell), (0.5,))
    grid = QuadGrid(xs, ys, int(np.argmin(np.abs(ys - 0.5))), int(np.argmin(np.abs(xs - 0.5))))
    lam, mu = plane_lame(210.0, 0.3, "strain")
    ne = grid.nelem
    pb = PhaseFieldProblem(grid, np.full(ne, lam), np.full(ne, mu), np.full(ne, 2.7e-3), ell, "I")
    opts = SolverOptions(du_max=1e-4, du_min=1e-6, max_displacement=max_displacement, end_fraction=0.02)
    return pb, opts


def assemble_reference(phase: np.ndarray, materials: list[tuple[float, float]]):
    """Generic scikit-fem assembly of a voxel structure (void removed).

    Parameters
    ----------
    phase : numpy.ndarray
        (nx, ny, nz) integers: 0 = void, p = material p.
    materials : list of (float, float)
        (E, ν) per material (E in any stress unit).

    Returns
    -------
    K : scipy.sparse.csr_matrix
        Global stiffness on the nodes of the solid voxels (unit of E times voxel length).
    basis : skfem.Basis
        Vector trilinear basis on the solid-voxel mesh (unit voxels).
    """
    from skfem import Basis, BilinearForm, ElementHex1, ElementVector, MeshHex, asm
    from skfem.helpers import ddot, sym_grad, trace

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
