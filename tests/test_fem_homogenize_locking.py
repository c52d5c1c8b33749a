"""Nearly incompressible solids: the B̄ hexahedron against exact values and bounds.

Truth: an independent NumPy construction of the mean-dilatation element (Hughes 1980), the
exact laminate (Backus) stiffness, the isotropic stiffness of a uniform strain, and the
Hashin–Shtrikman bounds of a random two-phase composite. Measured for the fully integrated
element on the same composite (2×2×2 elements per voxel): K = 35.5 > 33.3 (upper bound) at
ν = 0.49 and K = 336, G = 1.67 > 307.5, 1.51 at ν = 0.499 — outside the bounds; it is
therefore refused above ν = 0.4.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fem.homogenize import homogenize, isotropic_stiffness
from fem.materials import lame
from fem.voxel_elasticity import LOCAL_OFFSETS, NU_MAX, element_stiffness, unit_strain_displacements
from test_fem_homogenize import _backus, _hs_bounds


def _bbar_numpy(nu: float) -> np.ndarray:
    """Unit-cube B̄ hex: ∫ 2μ dev ε : dev ε (2×2×2 Gauss, exact) + κ b̄ b̄ᵀ (centre point)."""
    lam, mu = lame(1.0, nu)
    kappa = lam + 2 * mu / 3

    def B(x: np.ndarray) -> np.ndarray:
        """Strain-displacement matrix (6, 24), Voigt 11, 22, 33, 23, 13, 12 (engineering)."""
        out = np.zeros((6, 24))
        for n, a in enumerate(LOCAL_OFFSETS):
            w = np.where(a == 1, x, 1 - x)                 # 1D hat functions
            s = np.where(a == 1, 1.0, -1.0)
            g = np.array([s[0] * w[1] * w[2], w[0] * s[1] * w[2], w[0] * w[1] * s[2]])
            c = 3 * n
            out[0, c], out[1, c + 1], out[2, c + 2] = g
            out[3, c + 1], out[3, c + 2] = g[2], g[1]
            out[4, c], out[4, c + 2] = g[2], g[0]
            out[5, c], out[5, c + 1] = g[1], g[0]
        return out

    P = np.eye(6)                                           # deviatoric projector on Voigt strains
    P[:3, :3] -= 1 / 3
    D_dev = 2 * mu * np.diag([1, 1, 1, 0.5, 0.5, 0.5]) @ P
    gauss = 0.5 + np.array([-1, 1]) / (2 * np.sqrt(3))
    K = np.zeros((24, 24))
    for x in itertools.product(gauss, repeat=3):
        Bx = B(np.array(x))
        K += Bx.T @ D_dev @ Bx / 8
    b = B(np.full(3, 0.5))[:3].sum(axis=0)                 # dilatation at the centre = its mean
    return K + kappa * np.outer(b, b)


@pytest.mark.parametrize("nu", [0.3, 0.45, 0.499])
def test_bbar_element_matches_an_independent_construction(nu):
    Ke = element_stiffness(1.0, nu, element="bbar")
    np.testing.assert_allclose(Ke, _bbar_numpy(nu), atol=1e-12 * np.abs(Ke).max())
    ev = np.linalg.eigvalsh(Ke)
    assert np.all(np.abs(ev[:6]) < 1e-10 * ev[-1]) and ev[6] > 1e-3   # six rigid-body modes
    U0 = unit_strain_displacements()                       # patch test: uniform strain exact
    np.testing.assert_allclose(U0 @ Ke @ U0.T, isotropic_stiffness(1.0, nu), atol=1e-10 * ev[-1])


@pytest.mark.parametrize("nu_soft", [0.3, 0.499])
def test_bbar_laminate_of_nearly_incompressible_layers_is_exact(nu_soft):
    mats = [(1.0, nu_soft), (7.0, 0.45)]
    phase = np.ones((3, 4, 8), int)
    phase[:, :, 3:6] = 2
    h = homogenize(phase, bc="periodic", materials=mats, rtol=1e-12, element="bbar")
    exact = _backus([1.0, 7.0], [nu_soft, 0.45], [5 / 8, 3 / 8])
    np.testing.assert_allclose(h.C, exact, atol=1e-7 * np.abs(exact).max())


@pytest.mark.parametrize("nu", [0.45, 0.49, 0.499])
def test_bbar_composite_stays_inside_hashin_shtrikman_bounds(nu):
    rng = np.random.default_rng(12)
    phase = np.where(rng.random((10, 10, 10)) < 0.5, 2, 1).repeat(2, 0).repeat(2, 1).repeat(2, 2)
    mats = [(1.0, nu), (10.0, nu)]
    c2 = float((phase == 2).mean())
    K = [E / (3 * (1 - 2 * n)) for E, n in mats]
    G = [E / (2 * (1 + n)) for E, n in mats]
    (Klo, Khi), (Glo, Ghi) = _hs_bounds(K, G, (1 - c2, c2))
    C = homogenize(phase, bc="periodic", materials=mats, rtol=1e-8, element="bbar").C
    Keff = (np.trace(C[:3, :3]) + 2 * (C[0, 1] + C[0, 2] + C[1, 2])) / 9
    Geff = (np.trace(C[:3, :3]) - (C[0, 1] + C[0, 2] + C[1, 2]) + 3 * np.trace(C[3:, 3:])) / 15
    assert Klo < Keff < Khi, (Klo, Keff, Khi)              # measured 306.2 in [304.8, 307.5] at 0.499
    assert Glo < Geff < Ghi, (Glo, Geff, Ghi)              # measured 1.363 in [0.875, 1.513] at 0.499


def test_poisson_ratio_outside_the_element_range_is_refused():
    solid = np.ones((3, 3, 3), bool)
    with pytest.raises(ValueError, match=r"\(-1, 0.4\] for element='full'.*element='bbar'.*\(-1, 0.499\]"):
        homogenize(solid, materials=[(1.0, 0.45)])
    with pytest.raises(ValueError, match=r"\(-1, 0.499\] for element='bbar'"):
        homogenize(solid, materials=[(1.0, 0.4999)], element="bbar")
    with pytest.raises(ValueError, match="element must be one of"):
        homogenize(solid, element="reduced")
    assert NU_MAX == {"full": 0.4, "bbar": 0.499}
    assert homogenize(solid, materials=[(1.0, 0.499)], element="bbar").status == "ok"
