"""LEFM fast fidelity: J-integral K_I against the Tada handbook edge-crack formula."""


import numpy as np
import pytest

from designs.checkerboard import Checkerboard
from fem.fracture import label
from fem.lefm import edge_crack_k, tada_edge_crack_factor, tada_edge_crack_k


def test_tada_factor_limits():
    # small cracks tend to the semi-infinite edge-crack value 1.1215
    assert tada_edge_crack_factor(1e-4) == pytest.approx(1.122, abs=2e-3)
    # Gross & Brown boundary-collocation polynomial (a/W <= 0.6) agrees within 1 %
    for a in (0.2, 0.3, 0.4, 0.5, 0.6):
        gb = 1.12 - 0.231 * a + 10.55 * a**2 - 21.72 * a**3 + 30.39 * a**4
        assert tada_edge_crack_factor(a) == pytest.approx(gb, rel=1e-2)


@pytest.mark.parametrize("a_over_w", [0.2, 0.3, 0.5])
def test_k_matches_tada_within_3_percent(a_over_w):
    k = edge_crack_k(a_over_w, E=210.0, nu=0.3, sigma=2.0)
    ref = tada_edge_crack_k(2.0, a_over_w, 1.0)
    assert abs(k / ref - 1) < 0.03


def test_plane_strain_same_k():
    # K does not depend on E, nu or the plane assumption for a traction-loaded plate
    a = edge_crack_k(0.3, E=1.0, nu=0.3, plane="stress")
    b = edge_crack_k(0.3, E=50.0, nu=0.2, plane="strain")
    assert a == pytest.approx(b, rel=1e-2)


def test_fast_label_homogeneous_and_stiffness_order():
    stiff = Checkerboard(np.ones((8, 8), int).tolist())
    soft = Checkerboard(np.zeros((8, 8), int).tolist())
    ms, mo = label(stiff, "fast"), label(soft, "fast")
    assert ms["status"] == "ok" and ms["linear_solves"] == 1
    # linear elasticity: stiffness scales with E (same nu), G per unit stress with 1/E
    assert ms["stiffness"] / mo["stiffness"] == pytest.approx(10.0, rel=1e-9)
    assert mo["energy_release_rate_per_stress_squared"] / ms["energy_release_rate_per_stress_squared"] == pytest.approx(10.0, rel=1e-9)
    # clamped plate is stiffer than E and softer than the plane-strain-like clamped limit
    assert 0.8 * 1000 < ms["stiffness"] < 1000 / (1 - 0.33**2) * 1.2
    rng = np.random.default_rng(0)
    for _ in range(3):
        c = Checkerboard.random(8, soft_fraction=rng.uniform(0.1, 0.9), seed=rng)
        assert label(c, "fast")["stiffness"] < ms["stiffness"]
