"""Operators of one phase-field plate: degraded stiffness, reaction, strain energy, damage system.

Elements of one type (size and material) share their Gauss-point matrices
(:func:`fem.elements.elastic_type_matrices`), so every per-iteration product runs as one small
GEMM per type instead of per-element einsums, and the results are scattered into the cached
CSR patterns of :class:`fem.mesh_quad.QuadGrid`. Units: mm, MPa, N/mm per unit thickness.

Boundary conditions (see :mod:`fem.phasefield`): bottom edge fixed, top edge moved by the load
``t`` in y (mode I) or x (mode II) with the other component held at 0, or, in mode II with
``top_free_y``, free; the damage has natural boundary conditions everywhere. With
``side_rollers`` the left and right edges are also held at ``u_y = 0`` (the Miehe shear test,
and the mode-II plates of :mod:`fem.fracture`). With bonded ends the top and bottom edges are
held by springs to grips that move as clamped ones do (:mod:`fem.grips`): the springs are added
to the diagonal of the stiffness, the load is the springs' pull, and the force is the springs'
tension. With traction ends (mode I) the top and bottom edges carry uniform normal traction
whose mean opening is the load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from fem.elements import damage_matrices, elastic_type_matrices
from fem.grips import bond_damage_sink, edge_springs, held_dofs
from fem.mesh_quad import GAUSS_N
from fem.phasefield_split import split_energy

if TYPE_CHECKING:
    from fem.linsolve import ReusedFactorSolver
    from fem.phasefield import PhaseFieldProblem

__all__ = ["PhaseFieldAssembler"]


class PhaseFieldAssembler:
    """Precomputed matrices and DOF maps of one :class:`fem.phasefield.PhaseFieldProblem`.

    Parameters
    ----------
    pb : PhaseFieldProblem
        Plate, per-element materials and loading mode.

    Attributes
    ----------
    free : numpy.ndarray
        Displacement DOFs without a Dirichlet condition.
    load_dofs : numpy.ndarray
        Top-edge DOFs moved by the load (y for mode I, x for mode II); none with bonded or
        traction ends.
    ndof : int
        Displacement DOFs (2 per node).
    """

    def __init__(self, pb: PhaseFieldProblem) -> None:
        g = pb.grid
        self.pb = pb
        Kq, first, inv = elastic_type_matrices(g, pb.lam, pb.mu)
        self.groups = [np.flatnonzero(inv == t) for t in range(first.size)]
        self.Kq_t = Kq.reshape(first.size, 4, 64)
        self.B_t = g.bmatrix()[first].reshape(first.size, 12, 8)
        self.lam = pb.lam[:, None]
        self.mu = pb.mu[:, None]
        crush = pb.compressive_strength
        self.crush_at = None if crush is None or np.all(np.isinf(crush)) else crush[:, None]
        self.edofs = g.edofs()
        L, Mq = damage_matrices(g)
        # H-independent part of the damage matrix, G_c/ell M + G_c ell L, per element (with bonded
        # ends plus the bonds' damage sink on the diagonal, fem.grips.bond_damage_sink)
        self.Kd0 = (pb.gc * pb.ell)[:, None, None] * L + (pb.gc / pb.ell)[:, None, None] * Mq.sum(1)
        if pb.ends == "bonded":
            local = np.arange(4)
            self.Kd0[:, local, local] += bond_damage_sink(g, pb.gc)
        self.Mq_t = Mq[first].reshape(first.size, 4, 16)
        self.NJ_t = (GAUSS_N[None] * g.detj()[first, None, None])  # (types, q, i)
        centre_y = g.coords[g.conn, 1].mean(axis=1)
        #: Elements where damage may be driven: all but those of the grip strips, shape (nelem, 1).
        self.drives = ((centre_y > g.ys[0] + pb.grip_strip) & (centre_y < g.ys[-1] - pb.grip_strip))[:, None]
        ndof = 2 * g.nnode
        #: Unit end forces of traction ends (1 N/mm in all, uniform, +y on top, -y at the bottom);
        #: ``f_unit @ u`` is the mean end opening. None for clamped ends.
        self.f_unit: np.ndarray | None = None
        #: Bonded ends: spring stiffness per DOF and the load of a unit grip displacement
        #: (:func:`fem.grips.edge_springs`); None otherwise.
        self.springs: tuple[np.ndarray, np.ndarray] | None = None
        if pb.ends == "bonded":
            self.load_dofs = np.zeros(0, dtype=np.int64)
            self.springs = edge_springs(g, pb.grip_layer, pb.mode, pb.top_free_y)
        elif pb.ends == "traction":
            self.load_dofs = np.zeros(0, dtype=np.int64)
            self.f_unit = np.zeros(ndof)
            for edge, sign in ((g.ys[-1], 1.0), (g.ys[0], -1.0)):
                nodes, share = g.edge_nodes(edge)
                self.f_unit[2 * nodes + 1] = sign * share / pb.width
        else:
            top = np.flatnonzero(np.isclose(g.coords[:, 1], g.ys[-1]))
            self.load_dofs = 2 * top + (1 if pb.mode == "I" else 0)
        fixed = held_dofs(g, pb.ends, pb.top_free_y, pb.side_rollers)
        self.free = np.setdiff1d(np.arange(ndof), fixed)
        A, _ = g.pattern(True)
        self.idx_ff = self._submap(A, self.free, self.free)
        self.A_ff = A[self.free][:, self.free]
        self.idx_fl = self._submap(A, self.free, self.load_dofs)
        self.A_fl = A[self.free][:, self.load_dofs]
        #: Bonded ends: positions of the diagonal in ``K_ff.data`` and the springs added there; None otherwise.
        self._diag_springs: tuple[np.ndarray, np.ndarray] | None = None
        if self.springs is not None:
            coo = self.A_ff.tocoo()
            at = np.flatnonzero(coo.row == coo.col)
            self._diag_springs = at, self.springs[0][self.free][coo.row[at]]
        self.ndof = ndof

    @staticmethod
    def _submap(A: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Positions in ``A.data`` of the entries of the block ``A[rows][:, cols]``."""
        return A[rows][:, cols].data.astype(np.int64)

    def stiffness(self, gq: np.ndarray) -> sp.csr_matrix:
        """Stiffness (N/mm) for Gauss-point degradation ``gq`` of shape (nelem, 4)."""
        Ke = np.empty((gq.shape[0], 64))
        for t, rows in enumerate(self.groups):
            Ke[rows] = gq[rows] @ self.Kq_t[t]
        return self.pb.grid.assemble(Ke.reshape(-1, 8, 8), True)

    def degraded_stiffness(self, d: np.ndarray) -> sp.csr_matrix:
        """Stiffness with ``g(d) = (1 - d)**2 + k`` at the Gauss points for nodal damage ``d``."""
        return self.stiffness((1.0 - d[self.pb.grid.conn] @ GAUSS_N.T) ** 2 + self.pb.residual_stiffness)

    def reaction(self, K: sp.csr_matrix, u: np.ndarray) -> float:
        """Total reaction on the loaded DOFs (N/mm per unit thickness) of displacement ``u`` (mm)."""
        return float((K @ u)[self.load_dofs].sum())

    def solve_displacement(self, K: sp.csr_matrix, lin: "ReusedFactorSolver", t: float,
                           x0: np.ndarray | None = None) -> tuple[np.ndarray, float, np.ndarray]:
        """Displacement and force at load ``t`` (mm) with stiffness ``K``.

        Clamped ends: the loaded DOFs are moved by ``t``, the force is their reaction. Bonded
        ends: the springs pull the plate with the top grip moved by ``t``, the force is their
        tension. Traction
        ends: the unit end forces give ``u₁``, scaled so that the mean opening is ``t``; the
        force (N/mm) is the scale (linear for a fixed damage, so one solve either way).

        Returns
        -------
        (numpy.ndarray, float, numpy.ndarray)
            Nodal displacement (mm), force (N/mm per unit thickness), and the free-DOF vector
            to start the next solve's CG from (pass it as ``x0``).
        """
        Kff, Kfl = self.reduced(K)
        u = np.zeros(self.ndof)
        if self.springs is not None:
            u[self.free] = lin.solve(Kff, t * self.springs[1][self.free], x0)
            return u, self.force(K, u, t), u[self.free]
        if self.f_unit is None:
            u[self.load_dofs] = t
            u[self.free] = lin.solve(Kff, -(Kfl @ u[self.load_dofs]), x0)
            return u, self.reaction(K, u), u[self.free]
        unit = lin.solve(Kff, self.f_unit[self.free], x0)
        u[self.free] = unit
        force = t / float(self.f_unit @ u)
        return u * force, force, unit

    def force(self, K: sp.csr_matrix, u: np.ndarray, t: float) -> float:
        """Force (N/mm) of displacement ``u`` at load ``t`` under stiffness ``K`` without a new solve:
        the reaction of the loaded DOFs (clamped ends), the tension of the top springs (bonded
        ends) or ``uᵀKu / t`` (traction ends: the work of the end forces)."""
        if self.springs is not None:
            load = self.springs[1]
            return float(t * load.sum() - load @ u)
        return self.reaction(K, u) if self.f_unit is None else float(u @ (K @ u)) / t

    def reduced(self, K: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Blocks ``K_ff`` (free × free, with the springs of bonded ends) and ``K_fl`` (free × loaded) of a
        stiffness ``K``."""
        data = K.data[self.idx_ff]
        if self._diag_springs is not None:
            at, springs = self._diag_springs
            data[at] += springs
        Kff = sp.csr_matrix((data, self.A_ff.indices, self.A_ff.indptr), shape=self.A_ff.shape)
        Kfl = sp.csr_matrix((K.data[self.idx_fl], self.A_fl.indices, self.A_fl.indptr), shape=self.A_fl.shape)
        return Kff, Kfl

    def strains(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(ε_xx, ε_yy, γ_xy)`` at the Gauss points of displacement ``u`` (mm), each (nelem, 4)."""
        ue = u[self.edofs]
        eps = np.empty((ue.shape[0], 12))
        for t, rows in enumerate(self.groups):
            eps[rows] = ue[rows] @ self.B_t[t].T
        return eps[:, 0::3], eps[:, 1::3], eps[:, 2::3]

    def psi(self, u: np.ndarray) -> np.ndarray:
        """Undegraded strain energy density at the Gauss points (MPa), shape (nelem, 4)."""
        return split_energy(*self.strains(u), self.lam, self.mu, "none")[0]

    def driving_energy(self, u: np.ndarray, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Energy density that drives the damage at the Gauss points (MPa), shape (nelem, 4).

        Parameters
        ----------
        u : numpy.ndarray
            Nodal displacement (mm).
        allowed : numpy.ndarray of int8 or None
            What drives the damage at each Gauss point: 0 nothing, 1 ``ψ⁺``, 2 the whole ``ψ``
            (crushing). ``None`` decides: 1 where ``ψ⁺ >= ψ⁻`` (the constraint of the hybrid
            formulation, :mod:`fem.phasefield_split`), 2 where the smallest principal stress of
            the undamaged material is below ``-compressive_strength``, 0 elsewhere.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            The driving energy so chosen (always 0 in the grip strips,
            ``PhaseFieldProblem.grip_strip``), and ``allowed``.
        """
        exx, eyy, gxy = self.strains(u)
        pos, neg = split_energy(exx, eyy, gxy, self.lam, self.mu, self.pb.split)
        if allowed is None:
            allowed = (pos >= neg).astype(np.int8)
            if self.crush_at is not None:
                tr = exx + eyy
                sxx, syy = self.lam * tr + 2.0 * self.mu * exx, self.lam * tr + 2.0 * self.mu * eyy
                smallest = 0.5 * (sxx + syy) - np.sqrt((0.5 * (sxx - syy)) ** 2 + (self.mu * gxy) ** 2)
                allowed[smallest < -self.crush_at] = 2
        drive = np.where(allowed == 2, pos + neg, np.where(allowed == 1, pos, 0.0))
        return np.where(self.drives, drive, 0.0), allowed

    def held_nodes(self, allowed: np.ndarray, d: np.ndarray) -> np.ndarray | None:
        """Nodes whose damage may not grow: no Gauss point of any element around them drives it
        (compression dominates, ``allowed == 0`` of :meth:`driving_energy`, or a grip strip), and
        their damage is below ``hold_below`` (the diffuse tail of a crack, not a band itself).

        Parameters
        ----------
        allowed : numpy.ndarray of int8
            What drives the damage at each Gauss point, shape (nelem, 4).
        d : numpy.ndarray
            Nodal damage at the start of the step, shape (nnode,).

        Returns
        -------
        numpy.ndarray of bool or None
            Shape (nnode,); None without a split (the whole energy drives), with ``hold_below``
            0, or where no node is held, so that the damage solve stays the plain one.
        """
        if self.pb.split == "none" or self.pb.hold_below == 0.0:
            return None
        g = self.pb.grid
        drives = np.repeat((allowed > 0).any(axis=1) & self.drives[:, 0], 4)
        held = (np.bincount(g.conn.ravel(), weights=drives, minlength=g.nnode) == 0) & (d < self.pb.hold_below)
        return held if held.any() else None

    def damage_system(self, H: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
        """Matrix and right-hand side of the damage equation for history ``H`` (MPa, (nelem, 4)); with
        bonded ends the matrix holds the bonds' damage sink."""
        Ke = self.Kd0.reshape(-1, 16).copy()
        f = np.empty((H.shape[0], 4))
        for t, rows in enumerate(self.groups):
            Ke[rows] += 2.0 * (H[rows] @ self.Mq_t[t])
            f[rows] = 2.0 * (H[rows] @ self.NJ_t[t])
        Ke = Ke.reshape(-1, 4, 4)
        g = self.pb.grid
        return g.assemble(Ke, False), g.assemble_vector(f, False)

    def fracture_energy(self, d: np.ndarray) -> float:
        """``int G_c/(2 ell)(d² + ell²|grad d|²) dA`` of nodal damage ``d`` (N·mm/mm), with bonded ends
        plus the damage that has decayed into the bonds (:func:`fem.grips.bond_damage_sink`)."""
        de = d[self.pb.grid.conn]
        return 0.5 * float(np.einsum("ei,eij,ej->", de, self.Kd0, de))
