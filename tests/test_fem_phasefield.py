"""Parts of the phase-field solver against closed-form answers.

The stagger on a homogeneous bar (ν = 0, so the uniaxial state is exact on the Q1 mesh) against
the AT2 solution of a homogeneous bar, the load stepper on force laws with a drop at a known
load, the end criteria on hand-made force histories, and the damage CG against a direct solve.
"""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from fem.linsolve import ReusedFactorSolver, jacobi_cg
from fem.mesh_quad import QuadGrid
from fem.phasefield import PhaseFieldProblem, SolverOptions
from fem.phasefield_assembly import PhaseFieldAssembler
from fem.phasefield_end import EndCriteria
from fem.phasefield_split import SPLITS, check_split, split_energy
from fem.phasefield_stagger import _solve_damage, predict_damage, stagger
from fem.phasefield_steps import LoadStepper

E, GC, ELL, K_RES = 100.0, 1.0, 0.1, 1e-6  # MPa, N/mm, mm, residual stiffness
WIDTH, HEIGHT = 2.0, 3.0  # mm


def _bar(split: str = "none") -> PhaseFieldAssembler:
    """Uncracked 2 × 3 mm plate, ν = 0 (λ = 0, μ = E/2), on a graded mesh, pulled in y."""
    grid = QuadGrid(np.array([0.0, 0.3, 0.9, 1.2, 2.0]), np.array([0.0, 0.5, 1.1, 2.0, 2.4, 3.0]))
    ne = grid.nelem
    return PhaseFieldAssembler(PhaseFieldProblem(grid, np.zeros(ne), np.full(ne, E / 2), np.full(ne, GC), ELL, "I", K_RES,
                                                 split=split))


def _start(asm: PhaseFieldAssembler) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(asm.pb.grid.nnode), np.zeros((asm.pb.grid.nelem, 4))


def test_stagger_first_solve_is_the_linear_elastic_bar():
    asm = _bar()
    d0, H0 = _start(asm)
    t = 1e-3
    s = stagger(asm, ReusedFactorSolver(), t, d0, H0, d0, tol=1e-12, max_iter=1)
    assert s.outcome == "not_converged" and s.iterations == 1 and s.damage_solves == 1
    # undamaged bar, uniaxial strain t/H: F = (1 + k) E (t/H) W
    assert s.force == pytest.approx((1 + K_RES) * E * t / HEIGHT * WIDTH, rel=1e-12)
    # the displacement is exactly linear, u_y = t y / H, u_x = 0
    y = asm.pb.grid.coords[:, 1]
    np.testing.assert_allclose(s.displacement[1::2], t * y / HEIGHT, atol=1e-15)
    np.testing.assert_allclose(s.displacement[0::2], 0.0, atol=1e-15)
    # a force threshold above the elastic force rejects the step before the history moves
    r = stagger(asm, ReusedFactorSolver(), t, d0, H0, d0, tol=1e-12, max_iter=5, reject_below=1.01 * s.force)
    assert r.outcome == "rejected" and r.iterations == 1 and r.damage_solves == 0 and not r.history.any()
    assert r.force == pytest.approx(s.force, rel=1e-12)


@pytest.mark.parametrize("relaxation", [1.0, 1.7])
def test_stagger_converges_to_the_homogeneous_at2_bar(relaxation):
    """AT2 bar at strain ε: H = ψ = E ε²/2, d = 2H / (G_c/ℓ + 2H), σ = ((1 - d)² + k) E ε."""
    asm = _bar()
    d0, H0 = _start(asm)
    eps = 0.2
    s = stagger(asm, ReusedFactorSolver(), eps * HEIGHT, d0, H0, d0, tol=1e-8, max_iter=200, relaxation=relaxation)
    assert s.outcome == "converged"
    H = E * eps**2 / 2
    d = 2 * H / (GC / ELL + 2 * H)
    np.testing.assert_allclose(s.history, H, rtol=1e-12)
    np.testing.assert_allclose(s.damage, d, rtol=1e-9)
    assert s.force == pytest.approx(((1 - d) ** 2 + K_RES) * E * eps * WIDTH, rel=1e-9)
    if relaxation == 1.0:
        assert s.iterations == 2  # H does not depend on d here: the first damage solve is the fixed point


def _traction_bar(nu: float) -> PhaseFieldAssembler:
    """The bar of :func:`_bar` with Poisson's ratio ``nu`` (plane stress) and traction ends."""
    grid = QuadGrid(np.array([0.0, 0.3, 0.9, 1.2, 2.0]), np.array([0.0, 0.5, 1.1, 2.0, 2.4, 3.0]))
    ne = grid.nelem
    lam, mu = E * nu / (1 - nu**2), E / (2 * (1 + nu))  # 2D Lamé parameters of plane stress
    return PhaseFieldAssembler(PhaseFieldProblem(grid, np.full(ne, lam), np.full(ne, mu), np.full(ne, GC), ELL, "I",
                                                 K_RES, ends="traction"))


def test_traction_ends_load_the_bar_uniaxially_at_any_poisson_ratio():
    """Free ends: σ_yy uniform, the bar contracts freely (u_x = -ν ε x from the supported right
    edge), F = E ε W whatever ν; AT2 as for the clamped bar with ν = 0 (ψ = E ε²/2)."""
    nu, eps = 0.3, 0.2
    asm = _traction_bar(nu)
    d0, H0 = _start(asm)
    t = 1e-3
    first = stagger(asm, ReusedFactorSolver(), t, d0, H0, d0, tol=1e-12, max_iter=1)
    assert first.force == pytest.approx((1 + K_RES) * E * t / HEIGHT * WIDTH, rel=1e-10)
    x, y = asm.pb.grid.coords.T
    np.testing.assert_allclose(first.displacement[1::2], t * y / HEIGHT, atol=1e-13)
    np.testing.assert_allclose(first.displacement[0::2], -nu * t / HEIGHT * (x - WIDTH), atol=1e-13)
    s = stagger(asm, ReusedFactorSolver(), eps * HEIGHT, d0, H0, d0, tol=1e-8, max_iter=200)
    d = E * eps**2 / (GC / ELL + E * eps**2)
    np.testing.assert_allclose(s.damage, d, rtol=1e-8)
    assert s.force == pytest.approx(((1 - d) ** 2 + K_RES) * E * eps * WIDTH, rel=1e-8)
    with pytest.raises(ValueError, match="traction ends load mode I without side rollers"):
        PhaseFieldProblem(asm.pb.grid, asm.pb.lam, asm.pb.mu, asm.pb.gc, ELL, "II", ends="traction")


def test_traction_ends_of_a_cracked_plate_match_the_linear_crack_solve():
    """The first solve of an edge-cracked bimaterial plate with traction ends has the compliance of
    :func:`fem.lefm.solve_linear_crack` with uniform end traction (the same mesh and supports)."""
    from fem.lefm import solve_linear_crack

    xs, ys = np.linspace(0.0, 1.0, 21), np.linspace(0.0, 1.0, 21)
    grid = QuadGrid(xs, ys, crack_row=10, crack_tip=5)
    soft = grid.centres()[:, 0] > 0.5
    lam, mu = np.where(soft, 10.0, 100.0), np.where(soft, 8.0, 80.0)
    asm = PhaseFieldAssembler(PhaseFieldProblem(grid, lam, mu, np.full(grid.nelem, GC), ELL, "I", 0.0, ends="traction"))
    d0, H0 = _start(asm)
    first = stagger(asm, ReusedFactorSolver(), 1e-3, d0, H0, d0, tol=1e-12, max_iter=1)
    sol = solve_linear_crack(grid, lam, mu, loading="traction", value=1.0)
    opening = float(asm.f_unit @ sol.u)  # mean top minus mean bottom u_y under σ = 1 MPa
    assert first.force / 1e-3 == pytest.approx(sol.reaction / opening, rel=1e-9)
    np.testing.assert_allclose(first.displacement, sol.u * 1e-3 / opening, atol=1e-12)


@pytest.mark.parametrize(("split", "eps", "drive"), [
    ("spectral", 0.2, 0.5), ("spectral", -0.2, 0.0), ("voldev", 0.2, 0.5), ("none", -0.2, 0.5)])
def test_split_bar_in_tension_and_compression(split, eps, drive):
    """Bar at strain ε (ν = 0): the driving energy is ``drive`` E ε² and d = 2H / (G_c/ℓ + 2H).

    Spectral: ψ⁺ = E ε²/2 in tension, 0 in compression (no damage, the elastic force); vol–dev
    (2D, K = λ + μ = E/2) in tension: ψ⁺ = ψ; no split: ψ in compression too.
    """
    asm = _bar(split)
    d0, H0 = _start(asm)
    s = stagger(asm, ReusedFactorSolver(), eps * HEIGHT, d0, H0, d0, tol=1e-8, max_iter=200)
    assert s.outcome == "converged"
    H = drive * E * eps**2
    d = 2 * H / (GC / ELL + 2 * H)
    np.testing.assert_allclose(s.history, H, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(s.damage, d, rtol=1e-9, atol=1e-15)
    assert s.force == pytest.approx(((1 - d) ** 2 + K_RES) * E * eps * WIDTH, rel=1e-9)


@pytest.mark.parametrize("nu", [0.0, 0.33, 0.45])
def test_pure_shear_breaks_at_the_share_of_the_uniaxial_strength_each_split_gives(nu):
    """Plane stress. Uniaxial stress σ: strains σ/E and -νσ/E, ψ = σ²/2E; pure shear τ: principal
    strains ±τ/2μ, ψ = τ²/2μ. Spectral: ψ⁺ = ψ - μ(νσ/E)² in tension, τ²/4μ in shear, so shear
    breaks at τ/σ = sqrt(1 + ν - ν²)/(1 + ν); vol–dev: ψ⁺ = ψ in both, τ/σ = 1/sqrt(2(1 + ν))
    ("Grips" in fem.fracture: 0.83 and 0.61 at ν = 0.33, against 1 for a largest-principal-stress solid)."""
    E, sigma = 1000.0, 1.0
    mu = E / (2 * (1 + nu))
    lam = 2 * mu * nu / (1 - nu)  # plane-stress λ*
    for split, ratio in (("spectral", math.sqrt(1 + nu - nu**2) / (1 + nu)), ("voldev", 1 / math.sqrt(2 * (1 + nu)))):
        uniaxial = split_energy(np.array(sigma / E), np.array(-nu * sigma / E), np.array(0.0), lam, mu, split)[0]
        tau = ratio * sigma
        shear = split_energy(np.array(0.0), np.array(0.0), np.array(tau / mu), lam, mu, split)[0]
        assert shear == pytest.approx(uniaxial, rel=1e-12), split
    assert math.sqrt(1 + 0.33 - 0.33**2) / 1.33 == pytest.approx(0.8309, abs=1e-4)


def test_split_energies_against_an_eigen_decomposition():
    """ψ± from numpy's eigenvalues of the strain tensor (spectral) and from ε_dev (vol–dev)."""
    rng = np.random.default_rng(3)
    exx, eyy, gxy = rng.normal(size=(3, 500))
    lam, mu = rng.uniform(0.1, 2.0, size=(2, 500))
    eig = np.linalg.eigvalsh(np.stack([np.stack([exx, gxy / 2], -1), np.stack([gxy / 2, eyy], -1)], -2))
    tr = exx + eyy
    psi = 0.5 * lam * tr**2 + mu * (eig**2).sum(-1)
    pos, neg = split_energy(exx, eyy, gxy, lam, mu, "spectral")
    np.testing.assert_allclose(pos, 0.5 * lam * np.maximum(tr, 0) ** 2 + mu * (np.maximum(eig, 0) ** 2).sum(-1), rtol=1e-12)
    np.testing.assert_allclose(pos + neg, psi, rtol=1e-12)
    dev = eig - tr[:, None] / 2
    pos, neg = split_energy(exx, eyy, gxy, lam, mu, "voldev")
    np.testing.assert_allclose(pos, 0.5 * (lam + mu) * np.maximum(tr, 0) ** 2 + mu * (dev**2).sum(-1), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(pos + neg, psi, rtol=1e-12)
    pos, neg = split_energy(exx, eyy, gxy, lam, mu, "none")
    np.testing.assert_allclose(pos, psi, rtol=1e-12)
    assert not neg.any()
    assert SPLITS == ("none", "spectral", "voldev") and check_split("voldev") == "voldev"
    with pytest.raises(ValueError, match="split must be one of none, spectral, voldev; got 'miehe'"):
        check_split("miehe")


def test_compression_dominated_points_do_not_drive_damage():
    """Hybrid constraint: simple shear γ plus a little volumetric strain ±δ (spectral split).

    ψ⁺ - ψ⁻ = λ tr ε |tr ε| / 2 + 2 μ tr ε r with r the strain circle radius: its sign is that of
    tr ε, so slight compression drives nothing and slight tension drives ψ⁺.
    """
    asm = _bar("spectral")
    x, y = asm.pb.grid.coords.T
    for delta, drives in ((-1e-3, False), (1e-3, True)):
        u = np.zeros(asm.ndof)
        u[0::2] = 0.1 * y + delta * x  # γ = 0.1, ε_xx = δ
        pos, neg = split_energy(*asm.strains(u), asm.lam, asm.mu, "spectral")
        assert np.all((pos > neg) == drives)
        drive, allowed = asm.driving_energy(u)
        assert np.all(allowed == drives)
        np.testing.assert_allclose(drive, pos if drives else 0.0, rtol=1e-12)
        # a set of allowed points given (the stagger holds the one of its first solve) is used as is
        np.testing.assert_allclose(asm.driving_energy(u, 1 - allowed)[0], 0.0 if drives else pos, rtol=1e-12)


def test_damage_is_held_where_compression_dominates_at_every_point_around_a_node():
    """Ambati et al. (2015): no damage where ``ψ⁺ < ψ⁻``. Held: the nodes all of whose elements are
    compression dominated and whose damage is below ``hold_below`` (a crack's tail, not its band);
    the damage solve keeps ``d_old`` there (a Dirichlet condition) and solves the rest exactly
    (against a direct solve of the reduced system)."""
    from dataclasses import replace

    asm = _bar("spectral")
    g = asm.pb.grid
    x = g.coords[:, 0]
    left = g.coords[g.conn, 0].mean(axis=1) < 1.0  # the two element columns left of x = 0.9 mm
    allowed = np.where(left[:, None], 0, 1).astype(np.int8).repeat(4, axis=1)
    undamaged = np.zeros(g.nnode)
    held = asm.held_nodes(allowed, undamaged)
    np.testing.assert_array_equal(held, x < 0.9 - 1e-12)  # nodes at x = 0.9 touch a right element
    # inside a band (d >= 1/2, the default hold_below) the damage may grow; version 7 held it too
    band = np.where(x < 0.3, 0.5, np.where(x < 0.6, 0.49, 0.0))
    np.testing.assert_array_equal(asm.held_nodes(allowed, band), (x >= 0.3) & (x < 0.9 - 1e-12))
    np.testing.assert_array_equal(PhaseFieldAssembler(replace(asm.pb, hold_below=1.0)).held_nodes(allowed, band), held)
    assert asm.held_nodes(np.ones_like(allowed), undamaged) is None  # nothing compressed: the plain solve
    assert _bar("none").held_nodes(np.zeros_like(allowed), undamaged) is None  # no split: never
    assert PhaseFieldAssembler(replace(asm.pb, hold_below=0.0)).held_nodes(np.zeros_like(allowed), undamaged) is None
    with pytest.raises(ValueError, match=r"hold_below is a damage level in \[0, 1\]"):
        replace(asm.pb, hold_below=1.5)
    rng = np.random.default_rng(0)
    A, b = asm.damage_system(rng.uniform(0.0, 5.0, (g.nelem, 4)))
    d_old = rng.uniform(0.0, 0.3, g.nnode)
    d = _solve_damage(A, b, d_old, d_old, held, None)
    np.testing.assert_array_equal(d[held], d_old[held])
    free = ~held
    A = A.tocsr()
    direct = spsolve(A[free][:, free].tocsc(), b[free] - A[free][:, held] @ d_old[held])
    np.testing.assert_allclose(d[free], direct, rtol=1e-8)


def test_points_beyond_the_compressive_strength_crush():
    """Uniaxial compression along x (ν = 0: σ_xx = E ε_xx, σ_yy = 0): the spectral ψ⁺ is 0, so only
    crushing drives damage; it starts where σ_min < -compressive_strength, with the whole energy E ε²/2."""
    from dataclasses import replace

    plain = _bar("spectral")
    asm = PhaseFieldAssembler(replace(plain.pb, compressive_strength=np.full(plain.pb.grid.nelem, 1.0)))
    x = asm.pb.grid.coords[:, 0]
    u = np.zeros(asm.ndof)
    for strain, crushed in ((0.0099, False), (0.0101, True)):  # σ_xx = -0.99 and -1.01 MPa
        u[0::2] = -strain * x
        drive, allowed = asm.driving_energy(u)
        assert np.all(allowed == (2 if crushed else 0))
        np.testing.assert_allclose(drive, 0.5 * E * strain**2 if crushed else 0.0, rtol=1e-9)
        assert not plain.driving_energy(u)[0].any()  # no compressive strength: never
    # the smallest principal stress decides, not σ_xx: simple shear γ has σ_min = -μ γ = -E γ / 2
    for gamma, crushed in ((0.0198, False), (0.0202, True)):
        u[0::2] = gamma * asm.pb.grid.coords[:, 1]
        assert np.all((asm.driving_energy(u)[1] == 2) == crushed)
    with pytest.raises(ValueError, match="compressive_strength must have one value > 0"):
        replace(plain.pb, compressive_strength=np.zeros(plain.pb.grid.nelem))
    # without a split the whole energy drives the damage anyway: crushing changes nothing (so a
    # compressive strength stays out of the key of labels without a split)
    none = _bar("none")
    crushing = PhaseFieldAssembler(replace(none.pb, compressive_strength=np.full(none.pb.grid.nelem, 1.0)))
    for field in (-0.0101 * x, 0.0202 * asm.pb.grid.coords[:, 1]):
        u[0::2] = field
        drive, allowed = crushing.driving_energy(u)
        assert (allowed == 2).all()
        np.testing.assert_array_equal(drive, none.driving_energy(u)[0])


def test_predicted_damage_is_exact_for_damage_linear_in_load():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 0.2, 50), rng.uniform(0, 1.0, 50)
    d_at = lambda t: a + b * t  # noqa: E731
    np.testing.assert_allclose(predict_damage(d_at(0.2), d_at(0.1), 0.1, 0.2, 0.45), d_at(0.45), rtol=1e-12)
    # clipped to [d, 1]; no slope (t == t_prev) gives the last damage
    assert predict_damage(np.array([0.9]), np.array([0.0]), 0.0, 1.0, 2.0)[0] == 1.0
    np.testing.assert_array_equal(predict_damage(d_at(0.2), d_at(0.1), 0.2, 0.2, 0.3), d_at(0.2))


def _drive(stepper: LoadStepper, force_at, growth: float = 0.0, steps: int = 200) -> tuple[list[float], list[float]]:
    """Accepted loads and forces of a test whose force is ``force_at(t)`` (the solver's drop rule)."""
    loads, forces, peak = [0.0], [0.0], 0.0
    while len(loads) <= steps and loads[-1] < stepper.max_displacement:
        t = stepper.next_load()
        F = force_at(t)
        if peak > 0 and not stepper.is_fine(t) and F < forces[-1] - stepper.drop_limit() * peak:
            stepper.reject(t)
            continue
        stepper.accept(t, growth)
        loads.append(t)
        forces.append(F)
        peak = max(peak, F)
    return loads, forces


def test_step_sizes_follow_the_damage_growth():
    # no growth: x4 per step from du_max/4 up to du_max
    loads, _ = _drive(LoadStepper(1.0, 1e-3, 1 / 64, 0.05, 0.1, 3.0), lambda t: t)
    np.testing.assert_allclose(np.diff(loads), [0.25, 1.0, 1.0, 0.75])
    # growth twice the target: each step half the last, down to du_min
    loads, _ = _drive(LoadStepper(1.0, 0.02, 1 / 64, 0.05, 0.1, 3.0), lambda t: t, growth=0.1, steps=6)
    np.testing.assert_allclose(np.diff(loads), [0.25, 0.125, 0.0625, 0.03125, 0.02, 0.02])
    # the finest step defaults to du_max / 64
    assert LoadStepper.from_options(SolverOptions(du_max=0.64)).du_fine == 0.01


@pytest.mark.parametrize("du_max", [1e-2, 3e-2, 1e-1])
@pytest.mark.parametrize("t_c", [0.0371, 0.0612, 0.0871])
def test_stepper_bisects_a_sudden_drop_to_the_fine_step(du_max, t_c):
    """Force t (N/mm per mm) up to t_c, then 5 % of the peak: the drop is located within du_fine."""
    du_fine = 1e-2 / 64
    stepper = LoadStepper(du_max, du_max * 1e-3, du_fine, 0.05, 0.1, 0.2)
    loads, forces = _drive(stepper, lambda t: t if t <= t_c else 0.05 * t_c)
    k = int(np.searchsorted(loads, t_c, side="right"))  # first accepted load past the drop
    assert loads[k - 1] <= t_c < loads[k]
    assert loads[k] - loads[k - 1] <= du_fine * (1 + 1e-9)
    assert forces[k] < 0.1 * max(forces)
    # each rejection halves the bracket, which starts at most du_max wide
    assert 1 <= stepper.rejected <= math.ceil(math.log2(du_max / du_fine)) + 1
    assert stepper.t_drop is None  # the bracket is closed once the fine step across it is done


FORCES = [0.0, 10.0, 20.0, 30.0, 25.0, 12.0, 3.1, 2.9, 1.0]  # N/mm, peak 30 at step 3


def _first_end(ends: EndCriteria, forces, loads) -> tuple[int, str] | None:
    peak = 0.0
    for i, (F, t) in enumerate(zip(forces, loads)):
        peak = max(peak, F)
        reached = ends.after_step(F, peak, t)
        if reached is not None:
            return i, reached
    return None


def test_end_criteria_on_hand_made_histories():
    loads = np.arange(len(FORCES)) * 0.01
    # failure: first force below 10 % of the peak
    assert _first_end(EndCriteria.from_options(SolverOptions(end_fraction=0.1)), FORCES, loads) == (7, "failure")
    # strength only: first force below 85 % of the peak (25 < 25.5)
    assert _first_end(EndCriteria.from_options(SolverOptions(stop="peak", peak_drop=0.85)), FORCES, loads) == (4, "peak")
    # a rising curve ends at the displacement limit (within round-off of it)
    assert _first_end(EndCriteria.from_options(SolverOptions(max_displacement=0.05)), np.arange(9.0), loads) == (5, "max_displacement")
    assert _first_end(EndCriteria.from_options(SolverOptions(max_displacement=0.1)), np.arange(9.0), loads) is None


def test_end_verdicts_and_progress():
    ends = EndCriteria.from_options(SolverOptions(max_steps=50, max_nonconverged=2))
    assert ends.verdict("failure", 2) == ("ok", "")
    assert ends.verdict("max_displacement", 0) == ("ok", "")
    assert ends.verdict("failure", 3) == ("failed", "stagger did not converge in 3 steps (limit 2)")
    assert ends.verdict("max_steps", 0) == ("failed", "end criterion not reached in 50 steps")
    # before the peak: 0.4 (1 - exp(-n/30)); after: 0.4 + 0.6 x share of the fall to the end force
    assert ends.progress(30, 5.0, 5.0) == pytest.approx(0.4 * (1 - math.exp(-1)))
    assert ends.progress(10, 30.0 - 0.5 * 27.0, 30.0) == pytest.approx(0.7)
    assert ends.progress(10, 3.0, 30.0) == 0.99
    assert EndCriteria.from_options(SolverOptions(stop="peak")).progress(10, 30.0 - 0.5 * 4.5, 30.0) == pytest.approx(0.7)


def test_damage_cg_matches_a_direct_solve():
    n = 200
    L = sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])
    A = (L + sp.diags(np.random.default_rng(1).uniform(0.1, 2.0, n))).tocsr()
    b = np.random.default_rng(2).normal(size=n)
    x, it = jacobi_cg(A, b, np.zeros(n), rtol=1e-12)
    assert 0 < it < 2000
    np.testing.assert_allclose(x, spsolve(A.tocsc(), b), rtol=1e-9, atol=1e-11)
    x0, it0 = jacobi_cg(A, np.zeros(n), np.ones(n))
    assert it0 == 0 and not x0.any()
