"""Materials: Lamé parameters against textbook formulas, AT2 toughness from failure strain."""

import math

import numpy as np
import pytest
import skfem.models.elasticity as ske

from fem.materials import (
    Material,
    critical_stress_at2,
    default_palette,
    gc_from_failure_strain,
    isotropic_stiffness,
    lame,
    material_from_settings,
    plane_lame,
)


def test_lame_textbook_values():
    # steel: E = 210 GPa, nu = 0.3 -> lambda = 121.15 GPa, mu = 80.77 GPa
    lam, mu = lame(210.0, 0.3)
    assert lam == pytest.approx(121.1538, rel=1e-5)
    assert mu == pytest.approx(80.7692, rel=1e-5)
    # bulk modulus identity K = lambda + 2 mu / 3 = E / (3 (1 - 2 nu))
    assert lam + 2 * mu / 3 == pytest.approx(210.0 / (3 * 0.4))


def test_isotropic_voigt_stiffness_inverts_to_the_textbook_compliance():
    # S = C^-1 of an isotropic solid: S11 = 1/E, S12 = -nu/E, S44 = 1/G = 2 (1 + nu)/E
    E, nu = 210.0, 0.3
    S = np.linalg.inv(isotropic_stiffness(E, nu))
    expected = np.zeros((6, 6))
    expected[:3, :3] = -nu / E
    expected[range(3), range(3)] = 1 / E
    expected[range(3, 6), range(3, 6)] = 2 * (1 + nu) / E
    np.testing.assert_allclose(S, expected, atol=1e-15)
    with pytest.raises(ValueError, match="Poisson"):
        isotropic_stiffness(1.0, 0.5)


def test_plane_stress_lambda_and_uniaxial_modulus():
    E, nu = 100.0, 0.33
    lam2, mu = plane_lame(E, nu, "stress")
    assert lam2 == pytest.approx(E * nu / (1 - nu**2))
    # plane stress uniaxial: sigma_xx / eps_xx = 4 mu (lam2 + mu) / (lam2 + 2 mu) = E
    assert 4 * mu * (lam2 + mu) / (lam2 + 2 * mu) == pytest.approx(E)
    lam3, mu3 = plane_lame(E, nu, "strain")
    assert (lam3, mu3) == lame(E, nu)


def test_matches_skfem_12_plane_stress_without_chaining():
    # scikit-fem 12 plane_stress returns Lamé parameters directly (DESIGN.md pitfall)
    lam_sk, mu_sk = ske.plane_stress(100.0, 0.33)
    assert (lam_sk, mu_sk) == pytest.approx(plane_lame(100.0, 0.33, "stress"))


def test_at2_critical_stress_round_trip_and_defaults():
    ell = 1 / 32
    gc = gc_from_failure_strain(1000.0, 0.04, ell)
    assert critical_stress_at2(1000.0, gc, ell) == pytest.approx(40.0)
    pal = default_palette(ell)
    for m in pal.values():
        assert critical_stress_at2(m.E, m.Gc, ell) == pytest.approx(40.0)
        assert m.compressive_strength == pytest.approx(10 * 40.0)  # crushing at 10× the tensile strength
    assert pal["soft"].E == 100 and pal["stiff"].E == 1000
    # Gc = (16 sigma_c / (3 sqrt 3))^2 ell / E
    assert pal["soft"].Gc == pytest.approx((16 * 40 / (3 * math.sqrt(3))) ** 2 * ell / 100)


@pytest.mark.parametrize("kw,match", [
    (dict(E=float("nan")), "Young"), (dict(E=-1.0), "Young"), (dict(nu=0.5), "Poisson"), (dict(Gc=0.0), "toughness"),
    (dict(compressive_strength=0.0), r"compressive strength of 'x' must be a finite number > 0 \(MPa\), or None for "
                                     "a phase that never crushes, got 0.0"),
    (dict(compressive_strength=float("inf")), r"> 0 \(MPa\), or None for a phase that never crushes, got inf"),
    (dict(compressive_strength="50"), r"> 0 \(MPa\), or None for a phase that never crushes, got '50'"),
    (dict(compressive_strength=True), "compressive strength of 'x' must be a finite number > 0 .* got True"),
])
def test_bad_material(kw, match):
    args = dict(name="x", E=1.0, nu=0.3, Gc=1.0) | kw
    with pytest.raises(ValueError, match=match):
        Material(**args)
    with pytest.raises(ValueError, match="plane"):
        plane_lame(1.0, 0.3, "shell")


def test_a_phase_from_its_settings():
    ell = 1 / 32
    by_strain = material_from_settings("soft", {"E": 100, "nu": 0.33, "failure_strain": 0.4, "compressive_strength": 400},
                                       ell)
    assert by_strain == default_palette(ell)["soft"]
    by_gc = material_from_settings("glass", {"E": 70e3, "nu": 0.22, "Gc": 0.01}, ell)
    # the AT2 bar strength (3 sqrt 3 / 16) sqrt(E Gc / ell), and no crushing unless asked
    assert critical_stress_at2(by_gc.E, by_gc.Gc, ell) == pytest.approx(3 * math.sqrt(3) / 16 * math.sqrt(70e3 * 0.01 / ell))
    assert by_gc.compressive_strength is None
    for never in (None, "none", "None"):
        assert material_from_settings("x", {"E": 1, "nu": 0.3, "Gc": 1, "compressive_strength": never}, ell) == \
            Material("x", 1.0, 0.3, 1.0)


@pytest.mark.parametrize("settings,message", [
    ({"E": 1, "nu": 0.3}, r"phase 'x' needs E, nu and Gc or failure_strain, got \['E', 'nu'\]"),
    ({"E": 1, "nu": 0.3, "Gc": 1, "failure_strain": 0.1}, "phase 'x': give its toughness as Gc or as failure_strain, not both"),
    ({"E": 1, "nu": 0.3, "Gc": 1, "G": 2}, r"phase 'x': unknown setting\(s\) \['G'\]; allowed: E \(MPa\), nu \(1\), "
                                          r"failure_strain \(1\), Gc \(N/mm\), compressive_strength \(MPa\)"),
    ({"E": "100", "nu": 0.3, "Gc": 1}, r"phase 'x': E must be a number \(MPa\), got '100'"),
    ({"E": 1, "nu": True, "Gc": 1}, r"phase 'x': nu must be a number \(1\), got True"),
    ({"E": 1, "nu": 0.6, "Gc": 1}, "phase 'x': Poisson's ratio nu must lie in"),
    ({"E": 1, "nu": 0.3, "failure_strain": -0.1}, "phase 'x': failure strain must be a finite number > 0"),
    ([1, 2], "phase 'x' must be given as a mapping of E, nu, failure_strain, Gc, compressive_strength"),
    ({"E": 1e308, "nu": 0.3, "failure_strain": 0.1}, r"phase 'x': E = 1e\+308 MPa is out of floating-point range"),
    ({"E": 1e-300, "nu": 0.3, "failure_strain": 0.4}, "phase 'x': E = 1e-300 MPa with failure_strain = 0.4 gives G_c = 0"),
    ({"E": 1, "nu": 0.3, "Gc": 0}, "^fracture toughness Gc of 'x' must be a finite number > 0"),  # the phase named once
    ({"E": 1, "nu": 0.3, "Gc": 1, "compressive_strength": "high"},
     r"compressive_strength must be a number \(MPa\), or None \(JSON null, 'none'\) for a phase that never crushes"),
])
def test_bad_phase_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        material_from_settings("x", settings, 1 / 32)
