"""AT2 phase-field fracture of a 2D plate on a rectilinear Q1 mesh (staggered, history field).

Energy (per unit thickness)::

    E(u, d) = int g(d) psi(eps(u)) + G_c / (2 ell) (d**2 + ell**2 |grad d|**2) dA,
    g(d) = (1 - d)**2 + k,

with no tension/compression split (as in the Miehe/phasefieldx reference run). Irreversibility
uses the history field ``H = max_t psi`` at the Gauss points (Miehe 2010), so the damage
equation ``(G_c/ell + 2H) d - G_c ell Δd = 2H`` is linear and SPD; it is solved by
Jacobi-preconditioned CG warm-started from the last iterate. The displacement equation is
solved with a nested-dissection LU that is reused as CG preconditioner across iterations.

Loading: bottom edge fixed; the top edge moves by ``u`` in y (mode I, ``u_x = 0``) or in x
(mode II, ``u_y = 0``). Each step iterates the stagger until the largest damage change of an
iteration is below ``stagger_tol``. Step sizes adapt to the damage growth of the last step.
Optional speed-ups (off by default; ``fem.fracture.PlateSetup(accelerate=True)`` turns them
on) that leave each converged step unchanged within ``stagger_tol``: the stagger of a step starts from the damage extrapolated linearly from the last two steps, the damage update
is over-relaxed (``relaxation``), and the displacement CG is warm-started from the last
iterate (first iteration of a step: the last step's field scaled to the new load).

End-of-test criterion (``stop="full"``): after the peak, the run ends when the reaction force
falls below ``end_fraction`` times the peak (failure), or at ``max_strain``. ``stop="peak"``
ends as soon as the force has fallen below ``peak_drop`` times the peak (strength only).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp

from fem.elements import constitutive, damage_matrices, elastic_gauss_matrices
from fem.linsolve import ReusedFactorSolver, nested_dissection
from fem.mesh_quad import GAUSS_N, QuadGrid

__all__ = ["PhaseFieldProblem", "SolverOptions", "PhaseFieldResult", "solve_phasefield"]


@dataclass(frozen=True, eq=False)
class PhaseFieldProblem:
    """A plate, its per-element materials and its loading.

    Parameters
    ----------
    grid : QuadGrid
        Mesh (the slit crack, if any, is part of it).
    lam, mu : numpy.ndarray
        2D Lamé parameters per element (MPa).
    gc : numpy.ndarray
        Fracture toughness per element (N/mm).
    ell : float
        Phase-field length scale (mm).
    mode : {"I", "II"}
        Top edge pulled (I) or sheared (II).
    residual_stiffness : float
        ``k`` in ``g(d) = (1-d)**2 + k``.
    """

    grid: QuadGrid
    lam: np.ndarray
    mu: np.ndarray
    gc: np.ndarray
    ell: float
    mode: Literal["I", "II"] = "I"
    residual_stiffness: float = 1e-6

    def __post_init__(self) -> None:
        ne = self.grid.nelem
        for name in ("lam", "mu", "gc"):
            a = np.asarray(getattr(self, name), float)
            if a.shape != (ne,):
                raise ValueError(f"{name} must have one value per element ({ne}), got shape {a.shape}")
            if not np.all(np.isfinite(a)):
                raise ValueError(f"{name} must be finite")
            object.__setattr__(self, name, a)
        if np.any(self.mu <= 0) or np.any(self.gc <= 0):
            raise ValueError("shear modulus mu and toughness gc must be > 0 everywhere")
        if not (np.isfinite(self.ell) and self.ell > 0):
            raise ValueError(f"length scale ell must be > 0, got {self.ell!r}")
        if self.mode not in ("I", "II"):
            raise ValueError(f"mode must be 'I' or 'II', got {self.mode!r}")

    @property
    def width(self) -> float:
        """Plate width (mm)."""
        return float(self.grid.xs[-1] - self.grid.xs[0])

    @property
    def height(self) -> float:
        """Plate height (mm)."""
        return float(self.grid.ys[-1] - self.grid.ys[0])


@dataclass(frozen=True)
class SolverOptions:
    """Numerical settings of :func:`solve_phasefield` (displacements in mm).

    Parameters
    ----------
    du_max : float
        Largest displacement step (mm).
    du_min : float
        Smallest displacement step (mm).
    target_dd : float
        Wanted max damage increase per step; steps are scaled towards it.
    stagger_tol : float
        Stagger converged when max |Δd| of an iteration is below this.
    stagger_max_iter : int
        Iterations per step before the step is accepted as not converged.
    stop : {"full", "peak"}
        Run through failure (toughness) or only past the peak (strength).
    end_fraction : float
        Failure when force < end_fraction * peak after the peak (``stop="full"``).
    peak_drop : float
        ``stop="peak"`` ends when force < peak_drop * peak.
    max_displacement : float
        Hard end of the test (mm).
    max_steps : int
        Hard cap on load steps.
    max_nonconverged : int
        A run with more non-converged steps than this is reported as failed.
    anderson_depth : int
        History length of the Anderson acceleration of the stagger (0 = plain staggering).
    extrapolate : bool
        Start each step's stagger from the damage extrapolated linearly from the last two
        steps (fewer stagger iterations on smooth damage growth).
    relaxation : float
        Over-relaxation factor ω of the stagger, ``d <- d + ω (G(d) - d)`` clipped to
        ``[d_old, 1]`` (1 = plain staggering; used when ``anderson_depth == 0``). Convergence is
        still judged on the plain residual ``max |G(d) - d|``.
    warm_start : bool
        Start the displacement CG from the last iterate (first iteration of a step: the last
        step's field scaled to the new load) instead of a stale-factor solve.
    refactor_cg : int
        CG iterations with the reused factorisation before refactorising.
    """

    du_max: float = 2.5e-3
    du_min: float = 1e-6
    target_dd: float = 0.1
    stagger_tol: float = 1e-3
    stagger_max_iter: int = 300
    stop: Literal["full", "peak"] = "full"
    end_fraction: float = 0.1
    peak_drop: float = 0.85
    max_displacement: float = 0.5
    max_steps: int = 2000
    max_nonconverged: int = 20
    anderson_depth: int = 0
    extrapolate: bool = False
    relaxation: float = 1.0
    warm_start: bool = False
    refactor_cg: int = 12

    def __post_init__(self) -> None:
        if not 0 < self.du_min <= self.du_max:
            raise ValueError("need 0 < du_min <= du_max")
        if self.stop not in ("full", "peak"):
            raise ValueError(f"stop must be 'full' or 'peak', got {self.stop!r}")
        if not 0 < self.end_fraction < 1 or not 0 < self.peak_drop < 1:
            raise ValueError("end_fraction and peak_drop must lie in (0, 1)")
        if self.stagger_tol <= 0 or self.stagger_max_iter < 1:
            raise ValueError("stagger_tol must be > 0 and stagger_max_iter >= 1")
        if not 0 < self.relaxation < 2:
            raise ValueError(f"relaxation must lie in (0, 2), got {self.relaxation!r}")


@dataclass(frozen=True, eq=False)
class PhaseFieldResult:
    """Load–displacement history and final state of a phase-field run.

    Attributes
    ----------
    displacement, force : numpy.ndarray
        Top displacement (mm) and reaction force per unit thickness (N/mm) at each accepted
        step, starting at (0, 0).
    damage : numpy.ndarray
        Final nodal damage in [0, 1].
    dissipated_energy : float
        Fracture energy ``int G_c/(2 ell)(d² + ell²|grad d|²)`` at the end (N·mm/mm).
    steps, stagger_iterations, linear_solves, factorizations : int
        Diagnostics (linear_solves counts displacement and damage solves).
    nonconverged_steps : int
        Steps accepted without stagger convergence.
    end_criterion : str
        ``"failure"``, ``"peak"``, ``"max_displacement"``, ``"max_steps"`` or ``"error"``.
    status, reason : str
        ``"ok"`` or ``"failed"`` and why.
    wall_time : float
        Seconds.
    """

    displacement: np.ndarray
    force: np.ndarray
    damage: np.ndarray
    dissipated_energy: float
    steps: int
    stagger_iterations: int
    linear_solves: int
    factorizations: int
    nonconverged_steps: int
    end_criterion: str
    status: str
    reason: str
    wall_time: float
    step_iterations: np.ndarray = field(default_factory=lambda: np.zeros(0, int))


class _Assembler:
    """Precomputed matrices and maps of one problem."""

    def __init__(self, pb: PhaseFieldProblem) -> None:
        g = pb.grid
        self.pb = pb
        self.Kq = elastic_gauss_matrices(g, pb.lam, pb.mu)
        self.B = g.bmatrix()
        self.D = constitutive(pb.lam, pb.mu)
        self.edofs = g.edofs()
        L, Mq = damage_matrices(g)
        self.Mq = Mq
        self.Lgc = (pb.gc * pb.ell)[:, None, None] * L
        self.Mgc = (pb.gc / pb.ell)[:, None, None] * Mq.sum(1)
        self.NJ = GAUSS_N[None] * g.detj()[:, None, None]  # (ne, q, i)
        y = g.coords[:, 1]
        bottom = np.flatnonzero(np.isclose(y, g.ys[0]))
        top = np.flatnonzero(np.isclose(y, g.ys[-1]))
        ndof = 2 * g.nnode
        load_comp = 1 if pb.mode == "I" else 0
        self.load_dofs = 2 * top + load_comp
        fixed = np.concatenate([2 * bottom, 2 * bottom + 1, 2 * top, 2 * top + 1])
        self.free = np.setdiff1d(np.arange(ndof), fixed)
        self.ubar = np.zeros(ndof)
        self.ubar[self.load_dofs] = 1.0
        A, _ = g.pattern(True)
        self.idx_ff = self._submap(A, self.free, self.free)
        self.A_ff = A[self.free][:, self.free]
        self.idx_fl = self._submap(A, self.free, self.load_dofs)
        self.A_fl = A[self.free][:, self.load_dofs]
        self.perm = nested_dissection(g.coords[self.free // 2])
        self.ndof = ndof

    @staticmethod
    def _submap(A: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return A[rows][:, cols].data.astype(np.int64)

    def stiffness(self, gq: np.ndarray) -> sp.csr_matrix:
        Ke = np.einsum("eq,eqij->eij", gq, self.Kq)
        return self.pb.grid.assemble(Ke, True)

    def reduced(self, K: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        Kff = sp.csr_matrix((K.data[self.idx_ff], self.A_ff.indices, self.A_ff.indptr), shape=self.A_ff.shape)
        Kfl = sp.csr_matrix((K.data[self.idx_fl], self.A_fl.indices, self.A_fl.indptr), shape=self.A_fl.shape)
        return Kff, Kfl

    def psi(self, u: np.ndarray) -> np.ndarray:
        ue = u[self.edofs]
        eps = np.einsum("eqaj,ej->eqa", self.B, ue)
        return 0.5 * np.einsum("eqa,eab,eqb->eq", eps, self.D, eps)

    def damage_system(self, H: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
        Ke = self.Lgc + self.Mgc + 2.0 * np.einsum("eq,eqij->eij", H, self.Mq)
        f = 2.0 * np.einsum("eq,eqi->ei", H, self.NJ)
        g = self.pb.grid
        return g.assemble(Ke, False), g.assemble_vector(f, False)

    def fracture_energy(self, d: np.ndarray) -> float:
        de = d[self.pb.grid.conn]
        return 0.5 * float(np.einsum("ei,eij,ej->", de, self.Lgc + self.Mgc, de))


class _Anderson:
    """Anderson acceleration of the fixed point ``d -> G(d)`` (one stagger iteration).

    Keeps the last ``depth`` iterates; the mixed update minimises the linearised residual
    in the least-squares sense (Walker & Ni 2011). Depth 0 returns ``G(d)`` unchanged.
    """

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.x: list[np.ndarray] = []
        self.g: list[np.ndarray] = []

    def step(self, x: np.ndarray, gx: np.ndarray) -> np.ndarray:
        if self.depth <= 0:
            return gx
        self.x.append(x.copy())
        self.g.append(gx.copy())
        if len(self.x) > self.depth + 1:
            self.x.pop(0)
            self.g.pop(0)
        if len(self.x) < 2:
            return gx
        F = np.array([g - x for x, g in zip(self.x, self.g)])  # (m+1, n)
        dF = np.diff(F, axis=0).T
        dG = np.diff(np.array(self.g), axis=0).T
        gamma, *_ = np.linalg.lstsq(dF, F[-1], rcond=None)
        out = gx - dG @ gamma
        if not np.all(np.isfinite(out)):
            self.x.clear()
            self.g.clear()
            return gx
        return out


def _jacobi_cg(A: sp.csr_matrix, b: np.ndarray, x0: np.ndarray, rtol: float = 1e-10, maxiter: int = 2000) -> tuple[np.ndarray, int]:
    dinv = 1.0 / A.diagonal()
    x = x0.copy()
    r = b - A @ x
    bn = np.linalg.norm(b)
    if bn == 0:
        return np.zeros_like(b), 0
    z = dinv * r
    p = z.copy()
    rz = r @ z
    for it in range(maxiter):
        if np.linalg.norm(r) <= rtol * bn:
            return x, it
        Ap = A @ p
        a = rz / (p @ Ap)
        x += a * p
        r -= a * Ap
        z = dinv * r
        rzn = r @ z
        p = z + (rzn / rz) * p
        rz = rzn
    return x, maxiter


def _progress_estimate(steps: int, force: float, peak: float, opts: SolverOptions) -> float:
    """Rough fraction done of a run: 0.4 reached near the peak, the rest as the force drops."""
    if peak <= 0 or force >= peak:
        return 0.4 * (1.0 - math.exp(-steps / 30.0))
    floor = opts.peak_drop if opts.stop == "peak" else opts.end_fraction
    return min(0.99, 0.4 + 0.6 * (1.0 - force / peak) / (1.0 - floor))


def solve_phasefield(
    pb: PhaseFieldProblem,
    opts: SolverOptions = SolverOptions(),
    progress: Callable[[float, str], None] | None = None,
) -> PhaseFieldResult:
    """Run a displacement-controlled AT2 test of ``pb`` to its end criterion.

    Parameters
    ----------
    pb : PhaseFieldProblem
        Plate, materials and loading.
    opts : SolverOptions
        Step, stagger and end-of-test settings.
    progress : callable, optional
        Called after each load step with an estimate of the fraction done (monotone, in
        [0, 1)) and a message; before the peak the estimate grows with the step count, after
        it with the drop of the force towards the end criterion. Exceptions it raises (e.g. a
        cancelled job) propagate.

    Returns
    -------
    PhaseFieldResult
        Always returned; numerical breakdowns give ``status="failed"`` with a reason.
    """
    t0 = time.perf_counter()
    asm = _Assembler(pb)
    k = pb.residual_stiffness
    u = np.zeros(asm.ndof)
    d = np.zeros(pb.grid.nnode)
    H = np.zeros((pb.grid.nelem, 4))
    lin = ReusedFactorSolver(asm.perm, max_cg=opts.refactor_cg)
    disp, force, iters = [0.0], [0.0], []
    total_iter = dam_solves = nonconv = 0
    ubar_l = np.ones(asm.load_dofs.size)
    t, du = 0.0, opts.du_max / 4
    d_prev, t_prev = d.copy(), 0.0
    peak = 0.0
    end, status, reason = "max_steps", "ok", ""
    shown = 0.0
    try:
        for _step in range(opts.max_steps):
            t_new = min(t + du, opts.max_displacement)
            d_old, H_old = d.copy(), H.copy()
            dn, Hn = d.copy(), H.copy()
            if opts.extrapolate and t > t_prev:
                # predictor: damage extrapolated linearly from the last step (a start guess only;
                # the stagger converges to the fixed point of the new step)
                dn = np.clip(d + (d - d_prev) * ((t_new - t) / (t - t_prev)), d_old, 1.0)
            converged = False
            acc = _Anderson(opts.anderson_depth)
            for it in range(1, opts.stagger_max_iter + 1):
                gq = (1.0 - dn[pb.grid.conn] @ GAUSS_N.T) ** 2 + k
                K = asm.stiffness(gq)
                Kff, Kfl = asm.reduced(K)
                rhs = -(Kfl @ (t_new * ubar_l))
                # warm start: last iterate of this step, or the last step's field scaled to t_new
                x0 = None
                if opts.warm_start:
                    x0 = u[asm.free] if it > 1 else (u[asm.free] * (t_new / t) if t > 0 else None)
                u = t_new * asm.ubar
                u[asm.free] = lin.solve(Kff, rhs, x0)
                Hn = np.maximum(H_old, asm.psi(u))
                Ad, fd = asm.damage_system(Hn)
                dnew, _ = _jacobi_cg(Ad, fd, dn)
                dnew = np.clip(dnew, d_old, 1.0)
                dd = float(np.max(np.abs(dnew - dn)))
                if dd < opts.stagger_tol:
                    dn = dnew
                elif opts.relaxation != 1.0 and opts.anderson_depth <= 0:
                    dn = np.clip(dn + opts.relaxation * (dnew - dn), d_old, 1.0)
                else:
                    dn = np.clip(acc.step(dn, dnew), d_old, 1.0)
                dam_solves += 1
                if not np.isfinite(dd):
                    raise FloatingPointError("non-finite damage")
                if dd < opts.stagger_tol:
                    converged = True
                    break
            total_iter += it
            iters.append(it)
            if not converged:
                nonconv += 1
            # reaction with the final damage of the step
            gq = (1.0 - dn[pb.grid.conn] @ GAUSS_N.T) ** 2 + k
            K = asm.stiffness(gq)
            F = float((K @ u)[asm.load_dofs].sum())
            if not np.isfinite(F):
                raise FloatingPointError("non-finite reaction force")
            d_prev, t_prev = d, t
            t, d, H = t_new, dn, Hn
            disp.append(t)
            force.append(F)
            peak = max(peak, F)
            grow = float(np.max(d - d_old))
            scale = 2.0 if grow < 1e-12 else min(2.0, max(0.25, opts.target_dd / grow))
            du = float(np.clip(du * scale, opts.du_min, opts.du_max))
            past_peak = F < peak
            if progress is not None:
                done = _progress_estimate(len(disp) - 1, F, peak, opts)
                shown = max(shown, done)
                progress(shown, f"step {len(disp) - 1}: u = {t:.4g}, force {F:.4g} (peak {peak:.4g})")
            if opts.stop == "peak" and past_peak and F < opts.peak_drop * peak:
                end = "peak"
                break
            if opts.stop == "full" and past_peak and F < opts.end_fraction * peak:
                end = "failure"
                break
            if t >= opts.max_displacement - 1e-15:
                end = "max_displacement"
                break
        if nonconv > opts.max_nonconverged:
            status, reason = "failed", f"stagger did not converge in {nonconv} steps (limit {opts.max_nonconverged})"
        elif end == "max_steps":
            status, reason = "failed", f"end criterion not reached in {opts.max_steps} steps"
    except (FloatingPointError, RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
        status, reason, end = "failed", f"{type(exc).__name__}: {exc}", "error"
    return PhaseFieldResult(
        displacement=np.array(disp),
        force=np.array(force),
        damage=d,
        dissipated_energy=asm.fracture_energy(d),
        steps=len(disp) - 1,
        stagger_iterations=total_iter,
        linear_solves=lin.solves + dam_solves,
        factorizations=lin.factorizations,
        nonconverged_steps=nonconv,
        end_criterion=end,
        status=status,
        reason=reason,
        wall_time=time.perf_counter() - t0,
        step_iterations=np.array(iters, int),
    )
