"""Reference problems that the fast solvers are checked against.

- :func:`miehe_sent` — the single-edge-notched tension (SENT) test of Miehe, Hofacker &
  Welschinger, "A phase field model for rate-independent crack propagation", Comput. Methods
  Appl. Mech. Engrg. 199, 2765–2778 (2010), set up as in the phasefieldx code release (AT2, no
  tension/compression split). Its digitised load–displacement curve is
  ``tests/data/fracture/miehe_solution.csv`` (see ``tests/data/fracture/PROVENANCE.md``);
  published peak about 0.70 kN at u ≈ 5.55e-3 mm.
- :func:`miehe_sens` — the single-edge-notched shear (SENS) test of the same paper: the top edge
  sheared (``u_x`` prescribed, ``u_y = 0``) and, as in the phasefieldx run of it, the left and
  right edges held at ``u_y = 0``; spectral split. Its digitised curve is
  ``tests/data/fracture/miehe_solution_shear.csv``: peak 0.531 kN at u = 9.4e-3 mm. Without
  the side rollers the plate is 30 % softer (initial slope 46 instead of 64 kN/mm at h = ℓ;
  the reference has 66–70) and its peak is 17 % low (0.44 kN, spectral split; 0.37 kN without a
  split, the solver-version-2 figure): the roller condition, not only the split, is part of the
  benchmark.
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

__all__ = ["miehe_sent", "miehe_sens", "assemble_reference", "homogenize_affine_reference"]

#: Miehe et al. (2010) material and length scale: kN/mm², kN/mm, mm.
_MIEHE_E, _MIEHE_NU, _MIEHE_GC, _MIEHE_ELL = 210.0, 0.3, 2.7e-3, 0.015


def _miehe_test(
    h_over_ell: float, y_fine: tuple[float, float], mode: str, split: str, side_rollers: bool,
    max_displacement: float, end_fraction: float,
) -> tuple[PhaseFieldProblem, SolverOptions]:
    """The Miehe plate (notch to x = 0.5 at y = 0.5, plane strain), graded to ``h_over_ell`` ℓ over
    x ≥ 0.5 - 2ℓ and ``y_fine`` (mm), with steps of at most 1e-4 mm."""
    ell = _MIEHE_ELL
    h = h_over_ell * ell
    xs = graded_axis(1.0, h, 0.05, (0.5 - 2 * ell, 1.0), (0.5,))
    ys = graded_axis(1.0, h, 0.05, y_fine, (0.5,))
    grid = QuadGrid(xs, ys, int(np.argmin(np.abs(ys - 0.5))), int(np.argmin(np.abs(xs - 0.5))))
    lam, mu = plane_lame(_MIEHE_E, _MIEHE_NU, "strain")
    ne = grid.nelem
    pb = PhaseFieldProblem(grid, np.full(ne, lam), np.full(ne, mu), np.full(ne, _MIEHE_GC), ell, mode,
                           split=split, side_rollers=side_rollers)
    return pb, SolverOptions(du_max=1e-4, du_min=1e-6, max_displacement=max_displacement, end_fraction=end_fraction)


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
    band = (0.5 - 3 * _MIEHE_ELL, 0.5 + 3 * _MIEHE_ELL)
    return _miehe_test(h_over_ell, band, "I", "none", False, max_displacement, 0.02)


def miehe_sens(
    h_over_ell: float = 0.5, split: str = "spectral", max_displacement: float = 1.6e-2, upper_band: float = 3.0
) -> tuple[PhaseFieldProblem, SolverOptions]:
    """Miehe et al. (2010) single-edge-notched shear test (phasefieldx's set-up of it).

    The plate, material and ℓ of :func:`miehe_sent`; bottom fixed, top ``u_x`` prescribed with
    ``u_y = 0``, left and right edges ``u_y = 0``. The crack runs from the notch tip down to the
    bottom edge near x ≈ 0.9 mm, so the mesh is graded to ``h = h_over_ell * ℓ`` over
    x ≥ 0.47 mm and 0 ≤ y ≤ 0.5 + ``upper_band`` ℓ (the compressed side above the notch is
    fine-meshed only that far; give a larger ``upper_band`` to watch a branch grow up there).

    Parameters
    ----------
    h_over_ell : float
        Element size in the crack region over ℓ.
    split : {"none", "spectral", "voldev"}
        Energy split (hybrid formulation, :mod:`fem.phasefield_split`); Miehe's is spectral.
    max_displacement : float
        End of the test (mm).
    upper_band : float
        Height of the fine zone above the notch plane, in ℓ.

    Returns
    -------
    (PhaseFieldProblem, SolverOptions)
        Problem and options (steps of at most 1e-4 mm, run to 5 % of the peak).
    """
    return _miehe_test(h_over_ell, (0.0, 0.5 + upper_band * _MIEHE_ELL), "II", split, True, max_displacement, 0.05)


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
