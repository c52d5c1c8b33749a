"""Wave directions of spinodoids: uniform on the union of the cones, drawn inside the caps.

The truth is the analytic distribution of a point uniform on the sphere restricted to the
double cones |n_a| ≥ cos θ_a (what the published rejection sampler produces): on one cap the
cosine of the polar angle is uniform in [cos θ, 1] and the azimuth uniform; on a union the
density of |n_z| at height t is proportional to the fraction of the circle at that height that
lies in the union.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from designs.spinodal import Spinodoid, cone_directions, lattice_directions

P_MIN = 1e-3  # KS p-value below which the sample contradicts the analytic distribution


@pytest.mark.parametrize(("axis", "theta_deg"), [(0, 15.0), (1, 0.3), (2, 60.0), (0, 90.0)])
def test_single_cap_is_uniform_in_cos_polar_and_azimuth(axis, theta_deg):
    theta = [0.0, 0.0, 0.0]
    theta[axis] = theta_deg
    n, proposals = cone_directions(tuple(theta), 20000, np.random.default_rng(1))
    assert proposals == 20000                      # one cone: every proposal is kept
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-12)
    c = np.abs(n[:, axis])
    lo = math.cos(math.radians(theta_deg))
    assert c.min() >= lo - 1e-12
    # |cos polar| ~ U[cos θ, 1]
    assert stats.kstest(c, stats.uniform(loc=lo, scale=1 - lo).cdf).pvalue > P_MIN
    # azimuth ~ U[0, 2π) around the axis, both signs equally likely
    u, v = n[:, (axis + 1) % 3], n[:, (axis + 2) % 3]
    assert stats.kstest(np.arctan2(v, u) % (2 * np.pi), stats.uniform(scale=2 * np.pi).cdf).pvalue > P_MIN
    assert stats.binomtest(int((n[:, axis] > 0).sum()), len(n)).pvalue > P_MIN


def _union_xz_cdf(theta_x: float, theta_z: float):
    """CDF of |n_z| for n uniform on the union of the x and z double cones (degrees)."""
    cx, cz = math.cos(math.radians(theta_x)), math.cos(math.radians(theta_z))

    def density(t: float) -> float:
        if t >= cz:
            return 1.0                      # the whole circle at height t is in the z cap
        # part of the circle at height t with |n_x| = sqrt(1 - t²)|cos φ| ≥ cos θx
        return 2.0 / math.pi * math.acos(min(1.0, cx / math.sqrt(1.0 - t * t)))

    total = integrate.quad(density, 0.0, 1.0, points=[cz], limit=200)[0]
    return np.vectorize(lambda t: integrate.quad(density, 0.0, t, points=[min(t, cz)], limit=200)[0] / total)


def test_union_of_overlapping_cones_is_uniform_on_the_union():
    # 40° + 60° > 90°: the x and z caps overlap, where the proposal density doubles
    rng = np.random.default_rng(7)
    n, proposals = cone_directions((40.0, 0.0, 60.0), 20000, rng)
    in_x = np.abs(n[:, 0]) >= math.cos(math.radians(40)) - 1e-12
    in_z = np.abs(n[:, 2]) >= math.cos(math.radians(60)) - 1e-12
    assert np.all(in_x | in_z) and np.any(in_x & in_z)
    assert stats.kstest(np.abs(n[:, 2]), _union_xz_cdf(40.0, 60.0)).pvalue > P_MIN
    # proposals: every one is kept outside the overlap, half of them inside it
    assert 20000 < proposals < 20000 * 1.5


def test_three_full_cones_give_the_uniform_sphere_with_acceptance_one_third():
    n, proposals = cone_directions((90.0, 90.0, 90.0), 30000, np.random.default_rng(3))
    for ax in range(3):                             # uniform sphere: each component ~ U[-1, 1]
        assert stats.kstest(n[:, ax], stats.uniform(loc=-1, scale=2).cdf).pvalue > P_MIN
    assert 2.8 < proposals / 30000 < 3.2           # three caps cover every point: keep 1/3


def test_without_the_overlap_correction_the_test_would_fail():
    """The KS check above has power: proposals kept without the 1/m acceptance (caps
    double-counted where they overlap) are rejected against the union distribution."""
    rng = np.random.default_rng(11)
    parts = [cone_directions((40.0, 0.0, 0.0), 20000, rng)[0], cone_directions((0.0, 0.0, 60.0), 20000, rng)[0]]
    area = np.array([1 - math.cos(math.radians(40)), 1 - math.cos(math.radians(60))])
    counts = np.round(20000 * area / area.sum()).astype(int)
    biased = np.concatenate([parts[0][: counts[0]], parts[1][: counts[1]]])
    assert stats.kstest(np.abs(biased[:, 2]), _union_xz_cdf(40.0, 60.0)).pvalue < P_MIN


def test_narrow_cones_take_one_proposal_per_direction():
    # θ = 0.01°: the whole-sphere rejection sampler needed 1/(1 - cos θ) = 6.6e7 draws each
    s = Spinodoid(rho=0.5, theta=(0.01, 0.0, 0.0), seed=0)
    _, proposals = cone_directions(s.theta, s.n_waves, np.random.default_rng(s.seed))
    assert proposals == s.n_waves
    k, _ = s.waves()
    assert np.all(np.abs(k[:, 0]) / s.beta >= math.cos(math.radians(0.01)) - 1e-12)
    v = s.voxels(20)   # a laminate normal to x: φ changes along x only
    assert abs(v.mean() - 0.5) <= 0.5 / 20**3
    assert np.abs(np.diff(s.field(20), axis=1)).max() < 0.05


def test_narrow_cones_in_the_periodic_variant_build_a_degenerate_laminate():
    # no lattice direction but the axis itself within 0.01° of x, for any cell side
    assert all(len(lattice_directions((0.01, 0, 0), 10 * np.pi, L)) == 1 for L in (1, 2, 3, 4))
    s = Spinodoid(rho=0.5, theta=(0.01, 0.0, 0.0), periodic=True)
    assert s.lattice_report() == {"cell": 1, "n_directions": 1, "degenerate": True}
    v = s.voxels(20)
    assert np.all(v == v[:, :1, :1])               # whole layers normal to x
    # the axis vector (round(βL/2π), 0, 0) is always admissible (|m| within 1/2 of βL/2π),
    # so a narrow cone never runs out of lattice directions, whatever β
    for beta in (9.3 * np.pi, 10.5 * np.pi, 11.9 * np.pi):
        m = lattice_directions((0.01, 0, 0), beta, 1)
        assert m.tolist() == [[round(beta / (2 * np.pi)), 0, 0]]
