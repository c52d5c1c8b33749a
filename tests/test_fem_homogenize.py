"""Voxel homogenisation against exact and published results."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from designs.spinodal import Spinodoid, connectivity
from fem.homogenize import (
    SOLVER_NAME,
    SOLVER_VERSION,
    directional_young,
    homogenize,
    isotropic_stiffness,
    label,
    orthotropic_constants,
    symmetry_error,
)
from fem.reference import homogenize_affine_reference
from fem.voxel_elasticity import element_stiffness, unit_strain_displacements
from benchmarks.compare_kumar2020 import anisotropic, load_rows, margin, pick, published


def test_element_matrix_rigid_modes_and_uniform_strain():
    Ke = element_stiffness(1.0, 0.3)
    ev = np.linalg.eigvalsh(Ke)
    assert np.all(np.abs(ev[:6]) < 1e-12) and ev[6] > 1e-3  # exactly six rigid-body modes
    U0 = unit_strain_displacements()
    np.testing.assert_allclose(U0 @ Ke @ U0.T, isotropic_stiffness(1.0, 0.3), atol=1e-12)


@pytest.mark.parametrize("bc", ["periodic", "affine"])
def test_homogeneous_solid_gives_exact_isotropic_C(bc):
    h = homogenize(np.ones((5, 4, 6), bool), bc=bc)
    assert h.status == "ok"
    C = h.C
    assert C[0, 0] == pytest.approx(1.34615, abs=1e-5)
    assert C[0, 1] == pytest.approx(0.57692, abs=1e-5)
    assert C[3, 3] == pytest.approx(0.38462, abs=1e-5)
    np.testing.assert_allclose(C, isotropic_stiffness(1.0, 0.3), atol=1e-6)


def _backus(E, nu, frac):
    """Exact effective stiffness of a laminate (layers normal to z), isotropic layers."""
    E, nu, f = map(np.asarray, (E, nu, frac))
    lam = E * nu / ((1 + nu) * (1 - 2 * nu))
    mu = E / (2 * (1 + nu))
    c11, c13, c33 = lam + 2 * mu, lam, lam + 2 * mu
    avg = lambda q: float(np.sum(f * q))  # noqa: E731
    inv33 = avg(1 / c33)
    C = np.zeros((6, 6))
    C[2, 2] = 1 / inv33                                           # series
    C[0, 2] = C[1, 2] = C[2, 0] = C[2, 1] = avg(c13 / c33) / inv33
    C[0, 0] = C[1, 1] = avg(c11 - c13**2 / c33) + avg(c13 / c33) ** 2 / inv33
    C[0, 1] = C[1, 0] = avg(lam - c13**2 / c33) + avg(c13 / c33) ** 2 / inv33
    C[3, 3] = C[4, 4] = 1 / avg(1 / mu)                           # series shear
    C[5, 5] = avg(mu)                                             # parallel shear
    return C


def test_laminate_matches_exact_series_parallel_values():
    mats = [(1.0, 0.3), (7.0, 0.2)]
    phase = np.ones((3, 4, 8), int)
    phase[:, :, 3:6] = 2                     # 5/8 soft, 3/8 stiff, layers normal to z
    h = homogenize(phase, bc="periodic", materials=mats, rtol=1e-11)
    exact = _backus([1.0, 7.0], [0.3, 0.2], [5 / 8, 3 / 8])
    np.testing.assert_allclose(h.C, exact, atol=1e-6)
    # parallel in-plane shear (uniform strain is exact) holds for affine conditions too
    ha = homogenize(phase, bc="affine", materials=mats, rtol=1e-11)
    assert ha.C[5, 5] == pytest.approx(exact[5, 5], abs=1e-6)


def _hs_bounds(K, G, c):
    (K1, K2), (G1, G2), (c1, c2) = K, G, c
    Klo = K1 + c2 / (1 / (K2 - K1) + 3 * c1 / (3 * K1 + 4 * G1))
    Khi = K2 + c1 / (1 / (K1 - K2) + 3 * c2 / (3 * K2 + 4 * G2))
    Glo = G1 + c2 / (1 / (G2 - G1) + 6 * (K1 + 2 * G1) * c1 / (5 * G1 * (3 * K1 + 4 * G1)))
    Ghi = G2 + c1 / (1 / (G1 - G2) + 6 * (K2 + 2 * G2) * c2 / (5 * G2 * (3 * K2 + 4 * G2)))
    return (Klo, Khi), (Glo, Ghi)


@pytest.mark.parametrize("frac", [0.3, 0.5])
def test_random_two_phase_inside_hashin_shtrikman_and_bc_ordering(frac):
    """Random voxels (contrast 10), each split into 2×2×2 elements.

    With one trilinear element per voxel the conforming discretisation is stiff enough at
    contrast 10 to cross the HS upper bound (measured K = 3.22 vs 3.12 at 50 %); two elements
    per voxel edge give K = 2.75 inside [1.84, 3.16].
    """
    rng = np.random.default_rng(12)
    phase = np.where(rng.random((10, 10, 10)) < frac, 2, 1)
    phase = phase.repeat(2, 0).repeat(2, 1).repeat(2, 2)
    mats = [(1.0, 0.3), (10.0, 0.3)]
    c2 = float((phase == 2).mean())
    K = [E / (3 * (1 - 2 * nu)) for E, nu in mats]
    G = [E / (2 * (1 + nu)) for E, nu in mats]
    (Klo, Khi), (Glo, Ghi) = _hs_bounds(K, G, (1 - c2, c2))
    Cs = {bc: homogenize(phase, bc=bc, materials=mats).C for bc in ("periodic", "affine")}
    C = Cs["periodic"]
    Keff = (np.trace(C[:3, :3]) + 2 * (C[0, 1] + C[0, 2] + C[1, 2])) / 9
    Geff = (np.trace(C[:3, :3]) - (C[0, 1] + C[0, 2] + C[1, 2]) + 3 * np.trace(C[3:, 3:])) / 15
    assert Klo < Keff < Khi, (Klo, Keff, Khi)
    assert Glo < Geff < Ghi, (Glo, Geff, Ghi)
    # variational ordering: affine (kinematic) conditions are stiffer than periodic ones
    D = Cs["affine"] - Cs["periodic"]
    assert np.linalg.eigvalsh(0.5 * (D + D.T)).min() > -1e-8


def test_matches_plain_scikit_fem_with_voids():
    s = Spinodoid(rho=0.55, beta=4 * np.pi, seed=2)
    kept, rep = connectivity(s.voxels(10), periodic=False)
    ref = homogenize_affine_reference(kept.astype(int))   # plain scikit-fem: full integration
    h = homogenize(kept, bc="affine", rtol=1e-10, element="full")
    np.testing.assert_allclose(h.C, ref, atol=1e-8)
    assert h.symmetry_error < 1e-8


def test_orthotropic_constants_and_directional_modulus_of_isotropic_C():
    C = isotropic_stiffness(2.0, 0.25)
    c = orthotropic_constants(C)
    for k in ("E1", "E2", "E3"):
        assert c[k] == pytest.approx(2.0)
    for k in ("G12", "G13", "G23"):
        assert c[k] == pytest.approx(2.0 / 2.5)
    for k in ("nu12", "nu13", "nu23"):
        assert c[k] == pytest.approx(0.25)
    d = np.random.default_rng(0).normal(size=(50, 3))
    np.testing.assert_allclose(directional_young(C, d), 2.0)
    assert symmetry_error(C) == 0.0


@pytest.mark.parametrize(("C", "message"), [
    (np.diag([1.0, 1, 1, -1, 1, 1]), r"not positive definite \(smallest eigenvalue -1\)"),
    (np.zeros((6, 6)), "not positive definite"),
    (isotropic_stiffness(2.0, 0.25) + np.triu(np.ones((6, 6)), 1), "not symmetric"),
    (np.full((6, 6), np.nan), "finite 6x6"),
])
def test_a_matrix_that_is_no_stiffness_has_no_engineering_constants(C: np.ndarray, message: str) -> None:
    """A non-positive-definite C gave negative moduli, a singular one a bare LinAlgError, a non-symmetric one
    was symmetrised silently; NaN entries read as symmetric."""
    with pytest.raises(ValueError, match=message):
        orthotropic_constants(C)
    assert np.isnan(symmetry_error(np.full((6, 6), np.nan)))


def test_directional_modulus_of_cubic_C():
    # cubic: E along <111> from 1/E = S11 - 2 (S11 - S12 - S44/2)/3
    C = np.zeros((6, 6))
    C[:3, :3] = 0.5
    C[np.arange(3), np.arange(3)] = 1.5
    C[np.arange(3, 6), np.arange(3, 6)] = 0.2
    S = np.linalg.inv(C)
    e111 = 1 / (S[0, 0] - 2 * (S[0, 0] - S[0, 1] - S[3, 3] / 2) / 3)
    assert directional_young(C, np.array([1.0, 1, 1])) == pytest.approx(e111)
    assert directional_young(C, np.array([0, 0, 3.0])) == pytest.approx(1 / S[0, 0])


def test_non_percolating_structure_is_reported_not_zero():
    a = np.zeros((8, 8, 8), bool)
    a[2:6, 2:6, 2:6] = True                  # an isolated block
    h = homogenize(a, bc="periodic")
    assert h.status == "failed" and "percolate" in h.reason and np.all(np.isnan(h.C))
    h = homogenize(a, bc="affine")
    assert h.status == "failed" and "touches no face" in h.reason
    # a bar along x: no load path along y, z — failed under both conditions, axes named
    b = np.zeros((8, 8, 8), bool)
    b[:, 3:5, 3:5] = True
    for bc in ("periodic", "affine"):
        h = homogenize(b, bc=bc)
        assert h.status == "failed" and h.percolates == (True, False, False)
        assert h.reason == "does not percolate along y, z: no load path, zero stiffness along those axes"
    # the affine boundary value problem itself is well posed: the faces hold the bar
    ha = homogenize(b, bc="affine", require_percolation=False)
    assert ha.status == "ok" and ha.percolates == (True, False, False)
    # affine uniaxial along the bar: 4/64 of the section, ≈ E·A_bar/A (plus lateral constraint)
    assert 0.0625 < ha.C[0, 0] < 0.0625 * 1.35


def test_bad_input_rejected():
    with pytest.raises(ValueError, match="bc"):
        homogenize(np.ones((3, 3, 3), bool), bc="dirichlet")
    with pytest.raises(ValueError, match="3D"):
        homogenize(np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="phase values"):
        homogenize(np.full((3, 3, 3), 2))
    with pytest.raises(ValueError, match="nu"):
        homogenize(np.ones((3, 3, 3), bool), materials=[(1.0, 0.5)])


@pytest.mark.parametrize("kwargs, message", [
    ({"rtol": 0}, r"rtol .* must be a number in \(0, 1\)"),
    ({"rtol": -1.0}, "rtol"),
    ({"rtol": float("nan")}, "rtol"),
    ({"materials": "abc"}, r"materials must be a list of \(E, nu\) pairs.*got 'abc'"),
    ({"materials": (1.0, 0.3)}, "materials must be a list of .* got the entry 1.0"),
    ({"materials": [(1.0, None)]}, r"got the entry \(1.0, None\)"),
])
def test_bad_solver_settings_are_refused_before_any_work(kwargs, message):
    """rtol = 0 ran 1000 iterations and reported a residual of 2.5e-101 as not converged; the materials raised
    TypeError or 'not enough values to unpack'."""
    with pytest.raises(ValueError, match=message):
        homogenize(np.ones((4, 4, 4), bool), **kwargs)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_a_failed_solve_has_no_stiffness():
    """A solve that overflows (E = 1e300) fails with a NaN-filled C, as the docstring says, not C11 = 3e299."""
    r = homogenize(np.ones((4, 4, 4), bool), materials=[(1e300, 0.3)])
    assert r.status == "failed" and np.isnan(r.C).all()



def test_label_is_json_serialisable_and_picklable():
    s = Spinodoid(rho=0.6, theta=(40, 40, 40), seed=1)
    out = label(s, resolution=20, bc="periodic")
    json.dumps(out, allow_nan=False)
    pickle.dumps(label)
    assert out["status"] == "ok" and out["solver"] == SOLVER_NAME and out["solver_version"] == SOLVER_VERSION
    C = np.array(out["C"])
    assert C.shape == (6, 6) and out["symmetry_error"] < 1e-5
    assert out["solid_fraction"] == pytest.approx(0.6, abs=1e-3)
    assert out["E1"] == pytest.approx(orthotropic_constants(C)["E1"])
    with pytest.raises(ValueError, match="too coarse for this spinodoid"):
        label(s, resolution=10)


@pytest.mark.slow
def test_published_kumar_rows_affine():
    """42 published rows (6 per cone combination over the density range), affine BC, 32³, seed 0.

    Solved as the published data were: the affine problem as posed, also for realisations that
    no cluster crosses along some axis (``require_percolation=False``; our labels call those
    failed). The softest axis must agree on the rows whose published softest axis is resolved:
    max/min of C11..C33 > 1.1 and the second-softest axis more than 10 % stiffer than the
    softest (29 rows). Seed 0 misses one of them, ρ = 0.50, θ = (56.0°, 59.3°, 0°), published
    margin 1.13, where our realisations themselves split between x and y (seeds 0–7: y softest
    in 5; the mean of seeds 0–3 has C11 = C22 = 0.252). The other 8 of the 37 rows with
    max/min > 1.1 have the two softest published axes within 1.2–8.4 %, less than the scatter
    of one realisation (CV 5–10 % per modulus); they only count towards the overall tally:
    34/37 with seed 0, 35/37 with the mean of 4 seeds (tests/benchmarks/compare_kumar2020.py).
    Each published row is one realisation too: the same script estimates that an exact model
    would miss 1.8 of the 37 against them (from the scatter of our 4 realisations per row).
    """
    errs, resolved, tally = [], [], []
    for r in pick(load_rows(), per_group=6, seed=0):
        s = Spinodoid(rho=r["volFrac"], theta=(r["thetaX"], r["thetaY"], r["thetaZ"]), seed=0)
        # the published convention: solve the affine problem even without a load path
        h = homogenize(s.voxels(32), bc="affine", require_percolation=False)
        assert h.status == "ok"
        ours = np.diag(h.C)[:3]
        pub = published(r)
        errs.extend(np.abs(ours - pub) / pub)
        if anisotropic(pub):
            same = int(np.argmin(ours)) == int(np.argmin(pub))
            tally.append(same)
            if margin(pub) > 1.1:
                resolved.append((same, r["volFrac"], r["thetaX"], r["thetaY"], r["thetaZ"]))
    assert np.median(errs) <= 0.07  # measured 0.046
    misses = [r[1:] for r in resolved if not r[0]]
    assert len(resolved) == 29 and len(misses) <= 1, misses  # measured: the one row named above
    assert len(tally) == 37 and sum(tally) >= 31  # measured 34 (misses: published margins 1.01–1.13)


@pytest.mark.slow
def test_mesh_refinement_32_to_64_changes_C11_little():
    """Measured: C11 0.2884 (32³) → 0.2751 (64³), −4.6 %, affine, ρ = 0.5 isotropic (seed 1 of
    the cap sampler; 0.2776 → 0.2648 with the earlier whole-sphere sampler)."""
    s = Spinodoid(rho=0.5, seed=1)
    c = [homogenize(s.voxels(r), bc="affine").C[0, 0] for r in (32, 64)]
    assert abs(c[1] - c[0]) / c[1] < 0.06


def test_directional_surface_of_transversely_soft_C():
    from fem.homogenize import directional_young_surface

    C = isotropic_stiffness(1.0, 0.3)
    C[0, 0] *= 0.3  # softer along x
    surf = directional_young_surface(C, 19, 37)
    assert surf["E"].shape == (19, 37)
    r = np.sqrt(surf["x"] ** 2 + surf["y"] ** 2 + surf["z"] ** 2)
    np.testing.assert_allclose(r, surf["E"])
    ex = directional_young(C, np.array([1.0, 0, 0]))
    assert surf["E"].min() == pytest.approx(ex, rel=1e-2)  # softest direction is x
    assert ex == pytest.approx(orthotropic_constants(C)["E1"])


@pytest.mark.parametrize("bc", ["affine", "periodic"])
def test_default_tolerance_matches_tight_solve(bc):
    """Default rtol (1e-3) against rtol = 1e-10: the energy form keeps C within 1e-5."""
    v = Spinodoid(rho=0.5, seed=4).voxels(20)
    loose, tight = homogenize(v, bc=bc), homogenize(v, bc=bc, rtol=1e-10)
    assert loose.iterations < tight.iterations
    assert np.abs(loose.C - tight.C).max() <= 1e-5 * np.abs(tight.C).max()
    assert loose.symmetry_error < 1e-12
