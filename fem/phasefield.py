"""AT2 phase-field fracture of a 2D plate on a rectilinear Q1 mesh (staggered, history field).

Energy (per unit thickness)::

    E(u, d) = int g(d) psi(eps(u)) + G_c / (2 ell) (d**2 + ell**2 |grad d|**2) dA,
    g(d) = (1 - d)**2 + k,

and the damage driven by the whole of ``psi`` (``split="none"``, as in the Miehe/phasefieldx
tension run) or by its tensile part in the hybrid formulation of Ambati et al. 2015
(``"spectral"``, ``"voldev"``; :mod:`fem.phasefield_split`), which keeps the displacement
problem linear. Irreversibility uses the history field ``H = max_t psi⁺`` at the Gauss points
(Miehe 2010), so the damage equation ``(G_c/ell + 2H) d - G_c ell Δd = 2H`` is linear and SPD;
it is solved by Jacobi-preconditioned CG warm-started from the last iterate. The displacement equation is
solved with an LDLᵀ factorisation that is reused as CG preconditioner across iterations.

Loading: bottom edge fixed; the top edge moves by ``u`` in y (mode I, ``u_x = 0``) or in x
(mode II, ``u_y = 0``, or free with ``top_free_y``); optionally the left and right edges are
held at ``u_y = 0`` (``side_rollers``, Miehe's shear test). With ``ends="bonded"`` the top and
bottom edges are held by those grips through a thin elastic layer (springs, :mod:`fem.grips`),
into which damage decays undriven. With ``ends="traction"`` (mode I) the
top and bottom edges instead carry uniform normal traction and the load is their mean opening
(the handbook specimen with free ends; no grip corners). Each step iterates the stagger until
the largest damage change of an iteration is below ``stagger_tol``. Speed-ups that leave each converged step unchanged within
``stagger_tol``: the stagger of a step starts from the damage extrapolated linearly from the
last two steps, and the damage update is over-relaxed (``relaxation``, Farrell & Maurini
2017). Step sizes adapt to the damage growth of the last step, and a step in which the force
drops by more than ``drop_tol`` times the peak is rejected and bisected down to ``du_fine``, so
sudden drops are located to within ``du_fine`` whatever ``du_max`` is (this sets strength and
the failure strain of brittle designs; with fixed steps both depended on the step size).
Measured on three random 8×8 designs and the mesh-convergence design against plain staggering
(``stagger_tol = 1e-3``, steps of 2.5e-3, same drop refinement): strength within 0.4 % and
toughness within 0.5 %, with 4-7x fewer stagger iterations. The displacement CG starts from
the last iterate of the step and stops on an energy-norm estimate (see :mod:`fem.linsolve`);
that cut 20-40 % of the time at unchanged answers (< 0.1 %).

End-of-test criterion (``stop="full"``): after the peak, the run ends when the reaction force
falls below ``end_fraction`` times the peak (failure), with ``through_crack`` once the crack from
the notch tip has reached an edge, or at ``max_strain``. ``stop="peak"`` ends as soon as the
force has fallen below ``peak_drop`` times the peak (strength only). These are also checked
within a step of size ``du_fine``: damage only grows during the stagger of a step, so the force
of the iterates only falls and a crack that is through stays through, and the test ends without
converging the runaway crack of the last step (watching for a through crack, the stress
criterion waits for the end of the step, so that the last damage shows where the crack went).

Code: :func:`solve_phasefield` runs the load loop, which wires together three parts, each in a
module of its own: the load stepper (:class:`fem.phasefield_steps.LoadStepper`: step sizes,
drop bracketing and bisection, fine steps), the stagger of one step
(:func:`fem.phasefield_stagger.stagger`) and the end criteria
(:class:`fem.phasefield_end.EndCriteria`: end of the test, status and reason). The operators of
the plate are in :mod:`fem.phasefield_assembly`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from threadpoolctl import threadpool_limits

from fem.interrupt import interruptible
from fem.linsolve import ReusedFactorSolver
from fem.mesh_quad import QuadGrid
from fem.phasefield_assembly import PhaseFieldAssembler
from fem.grips import ADHESIVE, GripLayer
from fem.phasefield_crack import ThroughCrack
from fem.phasefield_end import EndCriteria
from fem.phasefield_split import Split, check_split
from fem.phasefield_stagger import predict_damage, stagger
from fem.phasefield_steps import LoadStepper

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
    split : {"none", "spectral", "voldev"}
        Energy split that drives the damage (hybrid formulation, :mod:`fem.phasefield_split`).
    side_rollers : bool
        Also hold the left and right edges at ``u_y = 0`` (the Miehe shear test).
    top_free_y : bool
        Mode II only: leave the top edge free in y (it is moved in x and carries no normal
        stress) instead of holding it at ``u_y = 0``.
    ends : {"clamped", "bonded", "traction"}
        ``"clamped"``: the grips above. ``"bonded"``: the top and bottom edges are held by the
        grips through a thin elastic layer (springs, :mod:`fem.grips`), with the same motions of
        the grips as clamped ones. ``"traction"`` (mode I only): uniform normal traction on
        the top and bottom edges (free ends, the handbook single-edge-notched tension
        specimen), its size set by the mean end opening: the load ``t`` is the mean top minus
        the mean bottom displacement, work-conjugate to the total force. Rigid motions are
        held by three point supports on the right edge, which carry no force.
    grip_layer : GripLayer
        The layer of ``"bonded"`` ends (default :data:`fem.grips.ADHESIVE`).
    grip_strip : float
        Width (mm) of a damage-free strip along the top and bottom edges: nothing drives the
        damage (``ψ⁺ = 0``) in elements whose centre lies within it, so the grips' corners over
        blocks of different stiffness cannot start a crack (what the mode-I plates of
        :mod:`fem.fracture` use, measured there). 0 (the default) for none; less than half the
        plate height.
    compressive_strength : numpy.ndarray or None
        Uniaxial compressive strength per element (MPa, > 0; ``inf`` for none): where the
        smallest principal stress of the undamaged element falls below ``-compressive_strength``
        its whole strain energy drives the damage, whatever the split (crushing; see
        :mod:`fem.phasefield_split`). None (the default): no compressive failure.
    hold_below : float
        With a split: the damage may not grow at nodes where compression dominates at every
        Gauss point around them (``ψ⁺ < ψ⁻``; the constraint of the hybrid formulation,
        :mod:`fem.phasefield_split`) and whose damage is below ``hold_below`` (in [0, 1]).
        0.5 (the default) holds the diffuse tail of a crack and leaves a band's own nodes free
        (solver version 8); 1 holds every such node (version 7); 0 none, so the tail spreads
        into compressed material (versions up to 6). No effect without a split.
    """

    grid: QuadGrid
    lam: np.ndarray
    mu: np.ndarray
    gc: np.ndarray
    ell: float
    mode: Literal["I", "II"] = "I"
    residual_stiffness: float = 1e-6
    split: Split = "none"
    side_rollers: bool = False
    top_free_y: bool = False
    ends: Literal["clamped", "bonded", "traction"] = "clamped"
    grip_layer: GripLayer = ADHESIVE
    grip_strip: float = 0.0
    compressive_strength: np.ndarray | None = None
    hold_below: float = 0.5

    def __post_init__(self) -> None:
        ne = self.grid.nelem
        for name in ("lam", "mu", "gc"):
            a = np.asarray(getattr(self, name), float)
            if a.shape != (ne,):
                raise ValueError(f"{name} must have one value per element ({ne}), got shape {a.shape}")
            if not np.all(np.isfinite(a)):
                raise ValueError(f"{name} must be finite")
            object.__setattr__(self, name, a)
        if self.compressive_strength is not None:
            crush = np.asarray(self.compressive_strength, float)
            if crush.shape != (ne,) or np.any(np.isnan(crush)) or np.any(crush <= 0):
                raise ValueError(f"compressive_strength must have one value > 0 (inf for none) per element ({ne}), "
                                 f"got shape {crush.shape}")
            object.__setattr__(self, "compressive_strength", crush)
        if np.any(self.mu <= 0) or np.any(self.gc <= 0):
            raise ValueError("shear modulus mu and toughness gc must be > 0 everywhere")
        if not (np.isfinite(self.ell) and self.ell > 0):
            raise ValueError(f"length scale ell must be > 0, got {self.ell!r}")
        if self.mode not in ("I", "II"):
            raise ValueError(f"mode must be 'I' or 'II', got {self.mode!r}")
        check_split(self.split)
        if self.top_free_y and self.mode != "II":
            raise ValueError("top_free_y is a mode-II boundary condition (the top edge is pulled in y in mode I)")
        if self.ends not in ("clamped", "bonded", "traction"):
            raise ValueError(f"ends must be 'clamped', 'bonded' or 'traction', got {self.ends!r}")
        if self.ends == "traction" and (self.mode != "I" or self.side_rollers):
            raise ValueError("traction ends load mode I without side rollers (uniform tension of the top and bottom edges)")
        if not (np.isfinite(self.grip_strip) and 0.0 <= self.grip_strip < 0.5 * self.height):
            raise ValueError(f"grip_strip must be >= 0 mm and less than half the plate height "
                             f"({0.5 * self.height:g} mm), got {self.grip_strip!r}")
        if not 0.0 <= self.hold_below <= 1.0:
            raise ValueError(f"hold_below is a damage level in [0, 1], got {self.hold_below!r}")

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
        Wanted max damage increase per step; steps are scaled towards it (at most 4x up or
        down per step). This, not ``du_max``, sets the steps where damage grows: with 0.1,
        steps of 5e-3 (strain) moved the peak of one of three random 8×8 designs by 2 %;
        with 0.05 steps up to 1e-2 stayed within 0.4 % of the reference.
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
    extrapolate : bool
        Start each step's stagger from the damage extrapolated linearly from the last two
        steps (fewer stagger iterations on smooth damage growth).
    relaxation : float
        Over-relaxation factor ω of the stagger, ``d <- d + ω (G(d) - d)`` clipped to
        ``[d_old, 1]`` (1 = plain staggering). Convergence is still judged on the plain
        residual ``max |G(d) - d|``.
    refactor_cg : int
        CG iterations with the reused factorisation before refactorising.
    drop_tol : float
        A step in which the force falls by more than ``drop_tol`` times the peak is rejected;
        the interval up to its load is bisected (rejecting falls of ``drop_tol / 4`` there)
        down to ``du_fine``, so that sudden drops (unstable crack growth) are located to
        within ``du_fine``.
    du_fine : float or None
        Finest step of the drop refinement (mm); ``None`` means ``du_max / 64``. Once a step
        of this size takes the force below the end criterion, the test ends without
        converging that step (damage only grows within a step, so the force only falls).
    through_crack : bool
        ``stop="full"`` also ends once a band of d > 0.9 joins the notch tip (within ``ell``)
        to the plate boundary (:class:`fem.phasefield_crack.ThroughCrack`): a plate confined
        by its grips and side rollers can carry load on the ligaments beside a crack that has
        gone through, and tears them along the grips.
    """

    du_max: float = 1e-2
    du_min: float = 1e-5
    target_dd: float = 0.05
    stagger_tol: float = 3e-3
    stagger_max_iter: int = 300
    stop: Literal["full", "peak"] = "full"
    end_fraction: float = 0.1
    peak_drop: float = 0.85
    max_displacement: float = 0.5
    max_steps: int = 2000
    max_nonconverged: int = 20
    extrapolate: bool = True
    relaxation: float = 1.7
    refactor_cg: int = 8
    drop_tol: float = 0.1
    du_fine: float | None = None
    through_crack: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.du_min <= self.du_max:
            raise ValueError("need 0 < du_min <= du_max")
        if self.stop not in ("full", "peak"):
            raise ValueError(f"stop must be 'full' or 'peak', got {self.stop!r}")
        if not 0 < self.end_fraction < 1 or not 0 < self.peak_drop < 1:
            raise ValueError("end_fraction and peak_drop must lie in (0, 1)")
        if self.stagger_tol <= 0 or self.stagger_max_iter < 1:
            raise ValueError("stagger_tol must be > 0 and stagger_max_iter >= 1")
        if not 0 < self.drop_tol < 1:
            raise ValueError(f"drop_tol must lie in (0, 1), got {self.drop_tol!r}")
        if self.du_fine is not None and not 0 < self.du_fine <= self.du_max:
            raise ValueError("need 0 < du_fine <= du_max")
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
    rejected_steps : int
        Steps retried smaller because the force dropped too much within them.
    end_criterion : str
        ``"failure"``, ``"peak"``, ``"through_crack"``, ``"max_displacement"``, ``"max_steps"``
        or ``"error"``.
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
    rejected_steps: int
    end_criterion: str
    status: str
    reason: str
    wall_time: float
    step_iterations: np.ndarray = field(default_factory=lambda: np.zeros(0, int))


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
        it with the drop of the force towards the end criterion. Also called once before the
        assembly and once before the first step, and, as a heartbeat (:mod:`fem.interrupt`),
        with the fraction and message of its last call again and again inside each step:
        every stagger iteration, every displacement-CG iteration, every 8th damage-CG
        iteration and every 50 ms of a factorisation or of the assembly (a callback that draws
        should skip repeats; :class:`engine.runtime.jobs.JobContext` does). Exceptions it
        raises (e.g. a cancelled job) propagate, so a cancel stops the run inside the current
        load step; the results of a run that is not stopped are the same with or without it.

    Returns
    -------
    PhaseFieldResult
        Always returned; numerical breakdowns give ``status="failed"`` with a reason.

    Notes
    -----
    BLAS runs single-threaded here: the vectors are short, and a threaded BLAS made the
    damage CG 3x slower (up to 100x on a busy machine) than one thread.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _solve(pb, opts, progress)


def _solve(pb: PhaseFieldProblem, opts: SolverOptions, progress: Callable[[float, str], None] | None) -> PhaseFieldResult:
    """The load loop: stepper, stagger and end criteria wired together (see the module notes)."""
    t0 = time.perf_counter()
    ny, nx = pb.grid.shape
    report = [0.0, f"assembling the {nx} × {ny} element plate ({2 * pb.grid.nnode:,} unknowns)"]
    beat = None
    if progress is not None:
        def beat() -> None:
            progress(*report)  # the last report again: a heartbeat (see solve_phasefield)

        beat()
    asm = interruptible(lambda: PhaseFieldAssembler(pb), beat)
    lin = ReusedFactorSolver(max_cg=opts.refactor_cg, heartbeat=beat)
    stepper = LoadStepper.from_options(opts)
    ends = EndCriteria.from_options(opts)
    # a crack that runs through is located like a sudden drop: coarse steps rejected, a fine one ends
    through = ThroughCrack(pb.grid, pb.ell) if ends.watches_through_crack else None
    d = d_prev = np.zeros(pb.grid.nnode)
    H = np.zeros((pb.grid.nelem, 4))
    disp, force, iters = [0.0], [0.0], []
    total_iter = dam_solves = nonconv = 0
    peak = shown = 0.0
    end = "max_steps"
    if beat is not None:
        report[1] = f"load step 1 of the {nx} × {ny} element plate"
        beat()
    try:
        while len(iters) < opts.max_steps:
            t_new = stepper.next_load()
            fine = stepper.is_fine(t_new)
            # a coarse step whose force falls too far is rejected; a fine one may end the test
            reject_below = force[-1] - stepper.drop_limit() * peak if peak > 0 and not fine else None
            # watching for a through crack, the last step runs on until the crack is through (or
            # converges), so that the final damage shows where it went
            end_below = ends.fraction * peak if peak > 0 and fine and through is None else None
            start = predict_damage(d, d_prev, stepper.t_prev, stepper.t, t_new) if opts.extrapolate else d.copy()
            s = stagger(asm, lin, t_new, d, H, start, tol=opts.stagger_tol, max_iter=opts.stagger_max_iter,
                        relaxation=opts.relaxation, reject_below=reject_below, end_below=end_below,
                        reject_if=None if fine else through, end_if=through if fine else None, heartbeat=beat)
            total_iter += s.iterations
            dam_solves += s.damage_solves
            if s.outcome == "rejected":
                stepper.reject(t_new)  # a sudden drop: resolve it with smaller steps
                continue
            iters.append(s.iterations)
            if s.outcome == "not_converged":
                nonconv += 1
            stepper.accept(t_new, float(np.max(s.damage - d)))
            d_prev, d, H = d, s.damage, s.history
            disp.append(t_new)
            force.append(s.force)
            peak = max(peak, s.force)
            if progress is not None:
                shown = max(shown, ends.progress(len(disp) - 1, s.force, peak))
                report[:] = shown, f"step {len(disp) - 1}: u = {t_new:.4g}, force {s.force:.4g} (peak {peak:.4g})"
                progress(*report)
            reached = ends.after_step(s.force, peak, t_new, through is not None and through(d))
            if reached is not None:
                end = reached
                break
        status, reason = ends.verdict(end, nonconv)
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
        rejected_steps=stepper.rejected,
        end_criterion=end,
        status=status,
        reason=reason,
        wall_time=time.perf_counter() - t0,
        step_iterations=np.array(iters, int),
    )
