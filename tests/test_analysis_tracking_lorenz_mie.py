"""Lorenz–Mie forward model (issue 13, must-show 1) against values from outside the code.

* HoloPy's reference hologram statistics (``shared/data/README.md``);
* Bohren & Huffman's BHMIE test case (appendix A) and Wiscombe's MIEV0 test cases
  (NCAR/TN-140+STR, 1979) for the efficiencies;
* 30-digit mpmath and scipy spherical Bessel functions for the coefficients and recurrences;
* the Rayleigh limit (B&H §5.1) and the near field of an electric dipole (Jackson eq. 9.18) for
  the vector field, the optical theorem for the forward field;
* symmetry: y polarisation is x polarisation turned by 90°, circular polarisation is round.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pandas as pd
import pytest
from scipy.special import spherical_jn, spherical_yn

from engine.analysis.tracking import (Instrument, Sphere, efficiencies, hologram, hologram_at, mie_coefficients,
                                      random_spheres, scattered_field, series_length, spheres_to_table,
                                      synthetic_frame, synthetic_frames)
from engine.analysis.tracking.mie_coefficients import log_derivative, riccati_bessel

#: The reference set-up of shared/data/README.md ("Lorenz–Mie hologram").
GOLD_INSTRUMENT = Instrument(wavelength=0.658, magnification=0.1151, n_m=1.33)
GOLD_SPHERE = Sphere(x=5.76 / 0.1151, y=5.76 / 0.1151, z=15.0, a_p=0.85, n_p=1.59 + 1e-4j)
#: The issue's typical microscope (λ = 0.447 µm, 0.048 µm/px, water).
MICROSCOPE = Instrument(wavelength=0.447, magnification=0.048, n_m=1.34)


# --- 1. HoloPy's reference hologram -------------------------------------------------------------

def test_gold_hologram_statistics() -> None:
    """max 1.34087, mean 0.98883, min 0.52283, std 0.14229 (README), 128×128 px, α = 0.6.

    Conventions that reproduce them: pixel i at i × 0.1151 µm (centre at index × spacing, the
    sphere at 50.04 px), z from the focal plane, incident phase lag exp(−ikz), scattered field
    without E_r, intensity of E_x and E_y. Agreement is ~1e-6; the tolerance 2e-5 also rules out
    a half-pixel shift of the grid (mean and std move by 7e-5).
    """
    h = hologram((128, 128), GOLD_SPHERE, GOLD_INSTRUMENT, alpha=0.6)
    stats = [h.max(), h.mean(), h.min(), h.std()]
    assert stats == pytest.approx([1.34087, 0.98883, 0.52283, 0.14229], abs=2e-5)


def test_gold_hologram_table_matches_exact_sum_and_full_field_is_close() -> None:
    """The radial table and the per-pixel series agree; the exact field differs by < 5e-3."""
    fast = hologram((128, 128), GOLD_SPHERE, GOLD_INSTRUMENT, alpha=0.6)
    exact = hologram((128, 128), GOLD_SPHERE, GOLD_INSTRUMENT, alpha=0.6, exact=True)
    full = hologram((128, 128), GOLD_SPHERE, GOLD_INSTRUMENT, alpha=0.6, full_field=True)
    assert np.max(np.abs(fast - exact)) < 1e-10
    assert 1e-4 < np.max(np.abs(full - exact)) < 5e-3


def test_radial_table_close_to_sphere_and_with_absorption() -> None:
    """The table interpolation holds near a large sphere (plane 0.5 µm from its surface)."""
    instrument = Instrument(0.447, 0.048, 1.34, polarization=(0.6, 0.8j))
    for sphere in (Sphere(100.3, 90.7, 10.0, 2.0, 1.8), Sphere(30.0, 170.0, 2.5, 2.0, 1.6 + 0.05j)):
        fast = hologram((201, 201), sphere, instrument, full_field=True)
        exact = hologram((201, 201), sphere, instrument, full_field=True, exact=True)
        assert np.max(np.abs(fast - exact)) < 1e-6


# --- 2. a vanishing particle --------------------------------------------------------------------

def test_vanishing_particle_gives_flat_hologram() -> None:
    """n_p = n_m scatters nothing; a tiny sphere's deviation from 1 falls as a_p³ (Rayleigh)."""
    matched = hologram((40, 40), Sphere(20, 20, 15.0, 1.0, 1.33), GOLD_INSTRUMENT)
    assert np.max(np.abs(matched - 1.0)) < 1e-12
    deviation = [np.max(np.abs(hologram((40, 40), Sphere(20, 20, 15.0, a_p, 1.59), GOLD_INSTRUMENT) - 1.0))
                 for a_p in (1e-4, 1e-3, 1e-2)]
    assert deviation[0] < 1e-11
    assert deviation[2] / deviation[1] == pytest.approx(1e3, rel=0.01)


def test_no_particle_or_zero_alpha_gives_ones() -> None:
    assert np.array_equal(hologram((8, 9), [], GOLD_INSTRUMENT), np.ones((8, 9)))
    assert np.array_equal(hologram((8, 9), GOLD_SPHERE, GOLD_INSTRUMENT, alpha=0.0), np.ones((8, 9)))


def test_matching_index_gives_zero_coefficients() -> None:
    a, b = mie_coefficients(12.0, 1.0)
    assert np.max(np.abs(a)) < 1e-14 and np.max(np.abs(b)) < 1e-14


# --- 3. Mie coefficients and efficiencies -------------------------------------------------------

def test_bhmie_test_case() -> None:
    """B&H appendix A: radius 0.525 µm, λ = 0.6328 µm, m = 1.55 (x = 5.213)."""
    e = efficiencies(2 * math.pi * 0.525 / 0.6328, 1.55)
    assert e.extinction == pytest.approx(3.10543, abs=5e-6)
    assert e.scattering == pytest.approx(3.10543, abs=5e-6)
    assert e.backscatter == pytest.approx(2.92534, abs=5e-6)


# Wiscombe's MIEV0 test cases (Q_ext, and Q_sca for absorbing spheres): m (B&H sign), x, values.
WISCOMBE = [(0.75, 0.099, 7.417859e-06, None), (0.75, 0.101, 8.033538e-06, None), (0.75, 10.0, 2.232265, None),
            (0.75, 1000.0, 1.997908, None), (1.5 + 1j, 100.0, 2.097502, 1.283697),
            (1.5 + 1j, 10000.0, 2.004368, None), (10 + 10j, 1.0, 2.532993, 2.049405),
            (10 + 10j, 100.0, 2.071124, 1.836785)]


@pytest.mark.parametrize("m, x, q_ext, q_sca", WISCOMBE)
def test_wiscombe_test_cases(m: complex, x: float, q_ext: float, q_sca: float | None) -> None:
    e = efficiencies(x, m)
    assert e.extinction == pytest.approx(q_ext, rel=2e-6)
    if q_sca is not None:
        assert e.scattering == pytest.approx(q_sca, rel=2e-6)
    if complex(m).imag == 0:
        assert e.scattering == pytest.approx(e.extinction, rel=1e-10)
    else:
        assert 0 < e.absorption < e.extinction


def _mpmath_coefficients(x: float, m: complex, n_max: int) -> tuple[np.ndarray, np.ndarray]:
    """a_n, b_n from B&H eq. 4.56–4.57 with 30-digit Bessel functions (no log-derivative)."""
    mpmath.mp.dps = 30
    x, m = mpmath.mpf(x), mpmath.mpc(m)

    def j(n: int, z: mpmath.mpc) -> mpmath.mpc:
        return mpmath.sqrt(mpmath.pi / (2 * z)) * mpmath.besselj(n + 0.5, z)

    def h(n: int, z: mpmath.mpf) -> mpmath.mpc:
        return mpmath.sqrt(mpmath.pi / (2 * z)) * (mpmath.besselj(n + 0.5, z) + 1j * mpmath.bessely(n + 0.5, z))

    a, b = [], []
    for n in range(1, n_max + 1):
        psi_x, psi_mx = x * j(n, x), m * x * j(n, m * x)
        dpsi_x, dpsi_mx = x * j(n - 1, x) - n * j(n, x), m * x * j(n - 1, m * x) - n * j(n, m * x)
        xi, dxi = x * h(n, x), x * h(n - 1, x) - n * h(n, x)
        a.append(complex((m * psi_mx * dpsi_x - psi_x * dpsi_mx) / (m * psi_mx * dxi - xi * dpsi_mx)))
        b.append(complex((psi_mx * dpsi_x - m * psi_x * dpsi_mx) / (psi_mx * dxi - m * xi * dpsi_mx)))
    return np.array(a), np.array(b)


@pytest.mark.parametrize("x, m", [(5.2128, 1.55), (2 * math.pi * 1.33 / 0.658 * 0.85, (1.59 + 1e-4j) / 1.33),
                                  (20.0, 2.0 + 1.0j), (3.0, 0.75)])
def test_coefficients_match_30_digit_evaluation(x: float, m: complex) -> None:
    a, b = mie_coefficients(x, m)
    a_ref, b_ref = _mpmath_coefficients(x, m, len(a))
    assert np.max(np.abs(a - a_ref)) < 1e-13
    assert np.max(np.abs(b - b_ref)) < 1e-13


def test_coefficients_of_large_sphere_match_scipy() -> None:
    """x = 37.7 (a_p = 2 µm at 447 nm in water, the issue's largest): agreement to 1e-8."""
    x, m = 2 * math.pi * 1.34 / 0.447 * 2.0, 1.8 / 1.34
    a, b = mie_coefficients(x, m)
    n = np.arange(1, len(a) + 1)

    def psi(z: float, d: bool = False) -> np.ndarray:
        return spherical_jn(n, z) + z * spherical_jn(n, z, derivative=True) if d else z * spherical_jn(n, z)

    h, dh = spherical_jn(n, x) + 1j * spherical_yn(n, x), spherical_jn(n, x, True) + 1j * spherical_yn(n, x, True)
    xi, dxi = x * h, h + x * dh
    mx = m * x
    a_ref = (m * psi(mx) * psi(x, True) - psi(x) * psi(mx, True)) / (m * psi(mx) * dxi - xi * psi(mx, True))
    b_ref = (psi(mx) * psi(x, True) - m * psi(x) * psi(mx, True)) / (psi(mx) * dxi - m * xi * psi(mx, True))
    assert np.max(np.abs(a - a_ref)) < 1e-8 and np.max(np.abs(b - b_ref)) < 1e-8


def test_recurrences_match_scipy() -> None:
    x, n_max = 10.79, 22
    n = np.arange(0, n_max + 1)
    psi, xi = riccati_bessel(x, n_max)
    assert psi[0] == pytest.approx(math.cos(x)) and xi[0] == pytest.approx(np.exp(1j * x))
    assert np.allclose(psi[1:], x * spherical_jn(n, x), rtol=1e-7, atol=1e-13)
    assert np.allclose(xi[1:], x * (spherical_jn(n, x) + 1j * spherical_yn(n, x)), rtol=1e-12)
    z = (1.59 + 1e-4j) / 1.33 * x
    d_ref = (spherical_jn(n, z) + z * spherical_jn(n, z, derivative=True)) / (z * spherical_jn(n, z))
    assert np.allclose(log_derivative(z, n_max), d_ref, rtol=1e-10)


def test_series_length_is_wiscombe() -> None:
    assert series_length(10.0) == math.ceil(10 + 4.05 * 10 ** (1 / 3) + 2) == 21
    assert series_length(2 * math.pi * 0.525 / 0.6328) == 15


@pytest.mark.parametrize("m", [1.5, 1.5 + 0.1j, 1.1 + 0.01j])
def test_rayleigh_limit(m: complex) -> None:
    """x → 0: Q_sca = (8/3) x⁴ |K|², Q_abs = 4 x Im K, K = (m² − 1)/(m² + 2) (B&H eqs. 5.8, 5.11)."""
    x = 0.01
    K = (m**2 - 1) / (m**2 + 2)
    e = efficiencies(x, m)
    assert e.scattering == pytest.approx(8 / 3 * x**4 * abs(K) ** 2, rel=1e-3)
    assert e.absorption == pytest.approx(4 * x * K.imag, rel=1e-3, abs=1e-15)


@pytest.mark.parametrize("x, m", [(0.3, 1.2), (5.0, 1.59), (10.79, 1.195), (30.0, 1.4)])
def test_optical_theorem_without_absorption(x: float, m: float) -> None:
    e = efficiencies(x, m)
    assert e.extinction == pytest.approx(e.scattering, rel=1e-12)
    assert e.extinction == pytest.approx(4 / x**2 * e.forward.real, rel=1e-12)


# --- 4. the field: dipole near field and far field ----------------------------------------------

def test_small_sphere_field_is_the_dipole_field() -> None:
    """Jackson eq. 9.18 with p = a³ K E₀ ê_x (units of 1/k): near and far zone, all components."""
    x, m = 0.01, 1.5 + 0.1j
    a, b = mie_coefficients(x, m)
    rng = np.random.default_rng(3)
    n = rng.normal(size=(40, 3))
    n /= np.linalg.norm(n, axis=1)[:, None]
    r = rng.uniform(0.5, 50.0, (40, 1))
    p = np.array([1.0, 0.0, 0.0]) * x**3 * (m**2 - 1) / (m**2 + 2)
    dipole = np.exp(1j * r) * (np.cross(np.cross(n, p), n) / r
                               + (3 * n * (n @ p)[:, None] - p) * (1 / r**3 - 1j / r**2))
    field = scattered_field(n * r, a, b)
    assert np.max(np.linalg.norm(field - dipole, axis=1) / np.linalg.norm(dipole, axis=1)) < 1e-4


def test_far_field_on_axis_matches_published_efficiencies() -> None:
    """Forward: (−ikr) e^{−ikr} E_x → S(0), Re S(0) = x² Q_ext / 4; backward: |S(π)|² = x² Q_back / 4."""
    x = 2 * math.pi * 0.525 / 0.6328
    a, b = mie_coefficients(x, 1.55)
    kr = 2e4
    forward, backward = scattered_field(np.array([[0, 0, kr], [0, 0, -kr]]), a, b)
    s_forward = (-1j * kr) * np.exp(-1j * kr) * forward[0]
    s_backward = (-1j * kr) * np.exp(-1j * kr) * backward[0]
    assert s_forward.real == pytest.approx(x**2 * 3.10543 / 4, rel=1e-3)
    assert abs(s_backward) ** 2 == pytest.approx(x**2 * 2.92534 / 4, rel=1e-3)
    assert np.max(np.abs(forward[1:])) < 1e-12 and np.max(np.abs(backward[1:])) < 1e-12


def test_axial_intensity_of_gold_sphere_falls_as_inverse_square() -> None:
    """Along the axis |E_s|² (kr)² tends to |S(0)|², with S(0) from the coefficients."""
    x, m = 2 * math.pi * 1.33 / 0.658 * 0.85, (1.59 + 1e-4j) / 1.33
    a, b = mie_coefficients(x, m)
    s0 = efficiencies(x, m).forward
    kr = np.array([1e3, 1e4, 1e5])
    field = scattered_field(np.stack([0 * kr, 0 * kr, kr], axis=1), a, b)
    scaled = np.abs(field[:, 0]) ** 2 * kr**2
    assert scaled[-1] == pytest.approx(abs(s0) ** 2, rel=1e-3)
    errors = np.abs(scaled / abs(s0) ** 2 - 1)
    assert errors[0] > errors[1] > errors[2]


# --- polarisation -------------------------------------------------------------------------------

def test_y_polarisation_is_x_polarisation_turned() -> None:
    sphere = Sphere(30.0, 30.0, 12.0, 0.8, 1.55)
    hx = hologram((61, 61), sphere, MICROSCOPE, full_field=True)
    hy = hologram((61, 61), sphere, Instrument(0.447, 0.048, 1.34, polarization=(0, 1)), full_field=True)
    assert np.max(np.abs(hy - hx.T)) < 1e-12
    assert np.max(np.abs(hx - hx.T)) > 1e-3  # linear polarisation is not round


def test_circular_polarisation_is_round() -> None:
    circular = Instrument(0.447, 0.048, 1.34, polarization=(1, 1j))
    sphere = Sphere(0.0, 0.0, 12.0, 0.8, 1.55 + 0.01j)
    angles = np.linspace(0, 2 * np.pi, 7)
    for radius in (5.0, 40.0, 90.0):
        values = hologram_at(radius * np.cos(angles), radius * np.sin(angles), sphere, circular, full_field=True)
        assert np.ptp(values) < 1e-12


def test_two_spheres_add_fields_not_intensities() -> None:
    """b − b₁ − b₂ + 1 is the cross term 2 Re(E₁·E₂*) of the two scattered fields (Lee et al. eq. 2)."""
    s1, s2 = Sphere(20.0, 20.0, 10.0, 0.5, 1.5), Sphere(80.0, 25.0, 14.0, 0.7, 1.45)
    both = hologram((50, 100), [s1, s2], MICROSCOPE, alpha=[0.9, 0.7])
    one = hologram((50, 100), s1, MICROSCOPE, alpha=0.9)
    two = hologram((50, 100), s2, MICROSCOPE, alpha=0.7)
    k, mag = MICROSCOPE.wavenumber, MICROSCOPE.magnification
    y, x = np.mgrid[0:50, 0:100].astype(float)
    fields = []
    for sphere, alpha in ((s1, 0.9), (s2, 0.7)):
        a, b = mie_coefficients(k * sphere.a_p, sphere.n_p / MICROSCOPE.n_m)
        points = np.stack([(x.ravel() - sphere.x) * k * mag, (y.ravel() - sphere.y) * k * mag,
                           np.full(x.size, k * sphere.z)], axis=1)
        fields.append(alpha * np.exp(-1j * k * sphere.z) * scattered_field(points, a, b, radial=False)[:, :2])
    cross = 2 * np.sum(fields[0] * np.conj(fields[1]), axis=1).real.reshape(50, 100)
    assert np.max(np.abs(cross)) > 1e-2
    assert np.max(np.abs(both - one - two + 1 - cross)) < 1e-10
    table = spheres_to_table([s1, s2])
    assert np.array_equal(hologram((50, 100), table, MICROSCOPE, alpha=[0.9, 0.7]), both)


# --- 5. bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(wavelength=-0.5, magnification=0.048, n_m=1.33), "wavelength must be a positive"),
    (dict(wavelength=float("nan"), magnification=0.048, n_m=1.33), "wavelength must be a positive"),
    (dict(wavelength=0.447, magnification=0.0, n_m=1.33), "magnification must be a positive"),
    (dict(wavelength=0.447, magnification=0.048, n_m=0.0), "n_m must be a positive"),
    (dict(wavelength=0.447, magnification=0.048, n_m=-1.33), "n_m must be a positive"),
    (dict(wavelength=0.447, magnification=0.048, n_m=1.33 + 0.1j), "n_m must be a positive"),
    (dict(wavelength=0.447, magnification=0.048, n_m=1.33, polarization=(0, 0)), "nonzero Jones vector"),
    (dict(wavelength="blue", magnification=0.048, n_m=1.33), "wavelength must be a positive"),
])
def test_bad_instrument(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Instrument(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(wavelength=447, magnification=0.048, n_m=1.34), r"wavelength 447 µm is outside the plausible range 0\.2 to "
     r"2 µm .*did you give nm\? \(447 nm = 0\.447 µm\)"),
    (dict(wavelength=4.47e-7, magnification=0.048, n_m=1.34), r"did you give metres\? \(4\.47e-07 m = 0\.447 µm\)"),
    (dict(wavelength=0.1, magnification=0.048, n_m=1.34), "wavelength 0.1 µm is outside the plausible range"),
    (dict(wavelength=0.447, magnification=48, n_m=1.34), r"magnification 48 µm/px is outside the plausible range "
     r"0\.005 to 1 µm per pixel .*did you give nm per pixel \(48 nm/px = 0\.048 µm/px\)"),
    (dict(wavelength=0.447, magnification=0.001, n_m=1.34), "magnification 0.001 µm/px is outside"),
    (dict(wavelength=0.447, magnification=0.048, n_m=0.5), r"n_m 0\.5 is outside the plausible range 1 to 2 .*no "
     "transparent medium has a refractive index below 1"),
    (dict(wavelength=0.447, magnification=0.048, n_m=133), r"n_m 133 is outside .*did you give it scaled"),
])
def test_implausible_optics_are_refused_with_the_unit_and_range(kwargs: dict, message: str) -> None:
    """Unit slips (nm for µm, nm/px for µm/px) and media that do not exist; the API, the CLI and the
    hologram job all construct an Instrument, so the check is in one place."""
    with pytest.raises(ValueError, match=message):
        Instrument(**kwargs)


@pytest.mark.parametrize("wavelength", [0.405, 0.447, 0.532, 0.6328, 0.658, 0.785, 1.064])
@pytest.mark.parametrize(("magnification", "n_m"), [(0.135, 1.33), (0.048, 1.34), (0.1151, 1.33), (0.0586, 1.47),
                                                    (0.65, 1.0), (0.035, 1.74)])
def test_real_microscopes_are_accepted(wavelength: float, magnification: float, n_m: float) -> None:
    """Laser lines used in holographic video microscopy (405 diode, 447 diode, 532 doubled Nd:YAG,
    632.8 HeNe, 658 diode, 785 diode, 1064 Nd:YAG nm), published pixel sizes (Lee et al. 2007:
    0.135 µm/px; 100× with 5.86 µm pixels: 0.0586; 10× with 6.5 µm: 0.65) and media from air to
    diiodomethane (1.74)."""
    Instrument(wavelength, magnification, n_m)


@pytest.mark.parametrize("args, message", [
    ((1.0, 2.0, 10.0, -0.5, 1.5), "radius a_p must be positive"),
    ((1.0, 2.0, 10.0, 0.0, 1.5), "radius a_p must be positive"),
    ((1.0, float("nan"), 10.0, 0.5, 1.5), "y must be finite"),
    ((1.0, 2.0, 0.3, 0.5, 1.5), "must exceed the radius"),
    ((1.0, 2.0, -10.0, 0.5, 1.5), "must exceed the radius"),
    ((1.0, 2.0, 10.0, 0.5, 1.5 - 0.1j), "Im\\(n_p\\) >= 0"),
    ((1.0, 2.0, 10.0, 0.5, -1.5), "Re\\(n_p\\) > 0"),
    ((1.0, 2.0, 10.0, 0.5, float("nan")), "n_p must be finite"),
])
def test_bad_sphere(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Sphere(*args)


def test_bad_hologram_and_coefficient_arguments() -> None:
    with pytest.raises(ValueError, match="shape must be two positive integers"):
        hologram((0, 10), GOLD_SPHERE, GOLD_INSTRUMENT)
    with pytest.raises(ValueError, match="alpha must be finite and >= 0"):
        hologram((4, 4), GOLD_SPHERE, GOLD_INSTRUMENT, alpha=-0.1)
    with pytest.raises(ValueError, match="one per sphere"):
        hologram((4, 4), [GOLD_SPHERE, GOLD_SPHERE], GOLD_INSTRUMENT, alpha=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="missing \\['n_p'\\]"):
        hologram((4, 4), pd.DataFrame({"x": [1.0], "y": [1.0], "z": [10.0], "a_p": [0.5]}), GOLD_INSTRUMENT)
    with pytest.raises(ValueError, match="instrument must be an Instrument"):
        hologram((4, 4), GOLD_SPHERE, {"wavelength": 0.447})
    with pytest.raises(ValueError, match="size parameter x = k a must be a positive"):
        mie_coefficients(-1.0, 1.5)
    with pytest.raises(ValueError, match="Im\\(m\\) >= 0"):
        mie_coefficients(1.0, 1.5 - 0.1j)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        synthetic_frame((16, 16), MICROSCOPE, noise=-0.1)
    with pytest.raises(ValueError, match="z_range must start above the largest radius"):
        random_spheres(2, (64, 64), a_range=(0.5, 2.0), z_range=(1.0, 5.0))


# --- 6. synthetic data ----------------------------------------------------------------------------

def _symmetry_centre(image: np.ndarray) -> tuple[float, float]:
    """Centre of point symmetry (x, y), px, to half a pixel: the self-convolution peaks at twice it.

    Independent of the forward model: uses only I(c + d) = I(c − d) for a sphere's hologram.
    """
    f = image - image.mean()
    size = (2 * f.shape[0], 2 * f.shape[1])
    spectrum = np.fft.rfft2(f, s=size)
    i, j = np.unravel_index(np.argmax(np.fft.irfft2(spectrum * spectrum, s=size)), size)
    return j / 2, i / 2


def test_generator_is_seeded_and_its_table_is_what_was_drawn() -> None:
    options = dict(particles=(1, 1), noise=0.0, margin=50, z_range=(8.0, 15.0))
    image, table = synthetic_frame((160, 160), MICROSCOPE, seed=7, **options)
    again, table_again = synthetic_frame((160, 160), MICROSCOPE, seed=7, **options)
    other, table_other = synthetic_frame((160, 160), MICROSCOPE, seed=8, **options)
    assert np.array_equal(image, again) and table.equals(table_again)
    assert not table.equals(table_other) and not np.array_equal(image, other)
    assert list(table.columns) == ["x", "y", "z", "a_p", "n_p"] and len(table) == 1
    for seed in range(5):
        image, table = synthetic_frame((160, 160), MICROSCOPE, seed=seed, **options)
        x, y = _symmetry_centre(image)
        assert abs(x - table.x[0]) < 1.0 and abs(y - table.y[0]) < 1.0


def test_generator_noise_level_and_ranges() -> None:
    images, table = synthetic_frames(3, (64, 80), MICROSCOPE, particles=4, noise=0.05, a_range=(0.4, 1.0),
                                     n_range=(1.38, 1.8), z_range=(10.0, 40.0), seed=11)
    assert images.shape == (3, 64, 80)
    assert list(table.columns) == ["frame", "x", "y", "z", "a_p", "n_p"]
    assert table.frame.isin([0, 1, 2]).all() and table.groupby("frame").size().max() <= 4
    assert table.a_p.between(0.4, 1.0).all() and table.n_p.between(1.38, 1.8).all()
    assert table.z.between(10.0, 40.0).all()
    assert table.x.between(0, 79).all() and table.y.between(0, 63).all()
    residuals = np.concatenate([(images[f] - hologram((64, 80), table[table.frame == f], MICROSCOPE)).ravel()
                                for f in range(3)])
    assert residuals.std() == pytest.approx(0.05, rel=0.03)
    assert abs(residuals.mean()) < 0.002


def test_random_spheres_keep_separation_and_margin() -> None:
    table = random_spheres(6, (100, 120), margin=10, min_separation=25, seed=2)
    assert table.x.between(10, 109).all() and table.y.between(10, 89).all()
    d = np.hypot(table.x.values[:, None] - table.x.values, table.y.values[:, None] - table.y.values)
    assert d[np.triu_indices(6, 1)].min() >= 25
    with pytest.raises(ValueError, match="could not place"):
        random_spheres(50, (30, 30), min_separation=20, seed=0)
