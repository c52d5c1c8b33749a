"""The stagger: one load step of the AT2 phase-field model, iterated to a fixed point.

At a fixed top displacement ``t`` (mm) each iteration

1. solves the displacement equation with the degraded stiffness of the current damage (the
   LDLᵀ factor of :class:`fem.linsolve.ReusedFactorSolver` reused as CG preconditioner, CG
   started from the last iterate of the step) and takes the reaction force (N/mm);
2. raises the history ``H = max(H_old, ψ⁺(u))`` at the Gauss points (Miehe et al. 2010), ``ψ⁺``
   the tensile energy of the problem's split (:mod:`fem.phasefield_split`), 0 where ``ψ⁺ < ψ⁻``
   at the first displacement solve of the step. That set is held through the step's
   iterations: re-evaluated at every iteration, points on its edge (``ψ⁺ ≈ ψ⁻``: pure shear)
   switched back and forth, and mode-II strength runs of 4 of 6 random 8×8 designs had 2 to 30
   steps whose stagger did not converge (70 in one full run); held, none in 18 runs, and the
   Miehe shear benchmark is unchanged (peak 0.5515 kN both ways);
3. solves the linear, SPD damage equation ``(G_c/ell + 2H) d - G_c ell Δd = 2H``
   (:func:`fem.linsolve.jacobi_cg`), clipped to ``[d_old, 1]`` (irreversibility); with a split,
   nodes where compression dominates at every Gauss point around them, and whose damage at the
   start of the step is below ``hold_below``, keep ``d_old`` as a Dirichlet condition
   (:meth:`PhaseFieldAssembler.held_nodes`);
4. stops when ``max |G(d) - d|`` is below the tolerance, otherwise over-relaxes
   ``d <- d + ω (G(d) - d)`` (Farrell & Maurini 2017), clipped to ``[d_old, 1]``.

Damage only grows within a step, so the force of the iterates only falls (up to the relaxation
overshoot): the step is abandoned as soon as the force crosses ``reject_below`` (a sudden drop,
to be resolved by smaller steps) or ``end_below`` (the end criterion, within a fine step), or a
damage iterate meets ``reject_if`` or ``end_if`` (a crack that has run through, likewise).

A ``heartbeat`` (:mod:`fem.interrupt`) is called before every iteration and inside the damage
solve, so that a cancelled job stops inside a step; it does not change the iterates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from fem.interrupt import Heartbeat
from fem.linsolve import ReusedFactorSolver, jacobi_cg
from fem.phasefield_assembly import PhaseFieldAssembler

__all__ = ["StaggerStep", "predict_damage", "stagger"]


@dataclass(frozen=True, eq=False)
class StaggerStep:
    """Outcome of the stagger of one load step.

    Attributes
    ----------
    outcome : {"converged", "not_converged", "rejected", "ended"}
        Fixed point reached; iteration limit hit; force fell below ``reject_below``; force
        fell below ``end_below``.
    displacement : numpy.ndarray
        Nodal displacement of the last iterate (mm).
    damage : numpy.ndarray
        Nodal damage at the end of the step, in ``[d_old, 1]``.
    history : numpy.ndarray
        History field ``H`` at the Gauss points (MPa), shape (nelem, 4); for a rejected step
        the old one.
    force : float
        Reaction force (N/mm per unit thickness): with the final damage when converged,
        otherwise that of the last displacement solve.
    iterations : int
        Stagger iterations (displacement solves) of the step.
    damage_solves : int
        Damage solves of the step.
    """

    outcome: Literal["converged", "not_converged", "rejected", "ended"]
    displacement: np.ndarray
    damage: np.ndarray
    history: np.ndarray
    force: float
    iterations: int
    damage_solves: int


def predict_damage(d: np.ndarray, d_prev: np.ndarray, t_prev: float, t: float, t_new: float) -> np.ndarray:
    """Start guess of a step's damage: linear extrapolation from the last two steps.

    Parameters
    ----------
    d, d_prev : numpy.ndarray
        Converged nodal damage at the loads ``t`` and ``t_prev`` (mm), ``t_prev <= t``.
    t_new : float
        Load of the new step (mm).

    Returns
    -------
    numpy.ndarray
        ``d + (d - d_prev) (t_new - t) / (t - t_prev)`` clipped to ``[d, 1]``; a copy of ``d``
        when ``t == t_prev`` (no slope). Only the start of the stagger: the fixed point of the
        step does not depend on it.
    """
    if t > t_prev:
        return np.clip(d + (d - d_prev) * ((t_new - t) / (t - t_prev)), d, 1.0)
    return d.copy()


def _solve_damage(A: sp.csr_matrix, b: np.ndarray, start: np.ndarray, d_old: np.ndarray,
                  held: np.ndarray | None, heartbeat: Heartbeat | None) -> np.ndarray:
    """Damage equation ``A d = b`` with ``d = d_old`` at the ``held`` nodes (None: none held)."""
    if held is None:
        return jacobi_cg(A, b, start, heartbeat=heartbeat)[0]
    free = np.flatnonzero(~held)
    d = d_old.copy()
    if free.size:
        A_free = A[free]
        rhs = b[free] - A_free[:, held] @ d_old[held]
        d[free] = jacobi_cg(A_free[:, free].tocsr(), rhs, start[free], heartbeat=heartbeat)[0]
    return d


def stagger(
    asm: PhaseFieldAssembler,
    lin: ReusedFactorSolver,
    t_new: float,
    d_old: np.ndarray,
    H_old: np.ndarray,
    d_start: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    relaxation: float = 1.0,
    reject_below: float | None = None,
    end_below: float | None = None,
    reject_if: Callable[[np.ndarray], bool] | None = None,
    end_if: Callable[[np.ndarray], bool] | None = None,
    heartbeat: Heartbeat | None = None,
) -> StaggerStep:
    """Iterate displacement and damage solves of one load step to a fixed point.

    Parameters
    ----------
    asm : PhaseFieldAssembler
        Operators of the plate.
    lin : ReusedFactorSolver
        Displacement solver; its factorisation carries over from step to step.
    t_new : float
        Top displacement of the step (mm).
    d_old : numpy.ndarray
        Converged nodal damage of the last step (lower bound of the damage).
    H_old : numpy.ndarray
        History field of the last step (MPa), shape (nelem, 4).
    d_start : numpy.ndarray
        Damage the stagger starts from (e.g. :func:`predict_damage`), in ``[d_old, 1]``.
    tol : float
        Converged when ``max |G(d) - d|`` of an iteration is below this (damage, 1).
    max_iter : int
        Iterations before the step is returned as ``"not_converged"``.
    relaxation : float
        Over-relaxation factor ω in (0, 2); 1 is plain staggering.
    reject_below, end_below : float or None
        Abandon the step as ``"rejected"`` (before the history update) or ``"ended"`` (after
        it) once the reaction force (N/mm) falls below these; ``None`` never does.
    reject_if, end_if : callable or None
        Abandon the step as ``"rejected"`` or ``"ended"`` (with that damage) once these return
        True on a damage iterate (e.g. :class:`fem.phasefield_crack.ThroughCrack`); damage
        only grows within a step, so what they detect holds at the step's fixed point too.
    heartbeat : callable, optional
        Called before every iteration and every 8th damage-CG iteration; what it raises
        (a cancelled job) propagates. The displacement solver ``lin`` has its own.

    Returns
    -------
    StaggerStep

    Raises
    ------
    FloatingPointError
        A non-finite reaction force or damage.
    """
    dn, x0, allowed, held = d_start, None, None, None
    solves = 0
    for it in range(1, max_iter + 1):
        if heartbeat is not None:
            heartbeat()
        K = asm.degraded_stiffness(dn)
        # CG starts from the last iterate of this step (the old factor's solve at its start)
        u, F, x0 = asm.solve_displacement(K, lin, t_new, x0)
        if not np.isfinite(F):
            raise FloatingPointError("non-finite reaction force")
        if reject_below is not None and F < reject_below:
            return StaggerStep("rejected", u, dn, H_old, F, it, solves)
        if allowed is None:  # constraint set from the first solve of the step
            drive, allowed = asm.driving_energy(u)
            held = asm.held_nodes(allowed, dn)
        else:
            drive, _ = asm.driving_energy(u, allowed)
        H = np.maximum(H_old, drive)
        if end_below is not None and F < end_below:
            return StaggerStep("ended", u, dn, H, F, it, solves)
        Ad, fd = asm.damage_system(H)
        dnew = np.clip(_solve_damage(Ad, fd, dn, d_old, held, heartbeat), d_old, 1.0)
        solves += 1
        if reject_if is not None and reject_if(dnew):
            return StaggerStep("rejected", u, dn, H_old, F, it, solves)
        if end_if is not None and end_if(dnew):
            return StaggerStep("ended", u, dnew, H, F, it, solves)
        dd = float(np.max(np.abs(dnew - dn)))
        if not np.isfinite(dd):
            raise FloatingPointError("non-finite damage")
        if dd < tol:
            # reaction with the final damage of the step
            return StaggerStep("converged", u, dnew, H, asm.force(asm.degraded_stiffness(dnew), u, t_new), it, solves)
        dn = np.clip(dn + relaxation * (dnew - dn), d_old, 1.0) if relaxation != 1.0 else dnew
    return StaggerStep("not_converged", u, dn, H, F, max_iter, solves)
