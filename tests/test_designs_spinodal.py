"""Spinodoid geometry: validation, solid fraction, periodicity, cones, connectivity."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest

from designs.base import content_hash
from designs.spinodal import (
    MIN_LATTICE_DIRECTIONS,
    Spinodoid,
    connectivity,
    lattice_directions,
)


@pytest.mark.parametrize("rho", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_rho_outside_open_interval_rejected(rho):
    with pytest.raises(ValueError, match="rho"):
        Spinodoid(rho=rho)


@pytest.mark.parametrize("theta", [(-1, 30, 30), (91, 0, 0), (30, float("nan"), 0), (30, 30)])
def test_bad_theta_rejected(theta):
    with pytest.raises(ValueError, match="theta"):
        Spinodoid(rho=0.5, theta=theta)


def test_all_cones_closed_rejected():
    with pytest.raises(ValueError, match="all cones are closed"):
        Spinodoid(rho=0.5, theta=(0, 0, 0))


def test_resolution_too_small_for_beta_rejected():
    s = Spinodoid(rho=0.5)
    assert s.min_resolution() == 20  # 4 voxels per wavelength 0.2
    with pytest.raises(ValueError, match="too coarse for this spinodoid"):
        s.voxels(16)


def test_other_bad_parameters_rejected():
    with pytest.raises(ValueError, match="n_waves"):
        Spinodoid(rho=0.5, n_waves=0)
    with pytest.raises(ValueError, match="beta"):
        Spinodoid(rho=0.5, beta=-1.0)
    with pytest.raises(ValueError, match="cell"):
        Spinodoid(rho=0.5, cell=2)  # cell only for periodic
    with pytest.raises(ValueError, match="unknown"):
        Spinodoid.from_json('{"rho": 0.5, "colour": 1}')
    # a genome that is no JSON object, or a theta that is not three angles: said so (not TypeError, JSONDecodeError)
    for text, message in (('{"rho": 0.5, "theta": 5}', "theta must be three angles in degrees, got 5"),
                          ("[1, 2]", "a spinodoid genome is a JSON object with keys rho, theta, ...; got list"),
                          ("rho=0.5", "this text is not JSON")):
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
            Spinodoid.from_json(text)


@pytest.mark.parametrize("kwargs, message", [
    ({"rho": None}, r"rho \(solid fraction\) must lie in the open interval \(0, 1\), got None"),
    ({"rho": 0.5 + 0j}, "rho .* got \\(0.5\\+0j\\)"),
    ({"rho": "0.5"}, "rho .* got '0.5'"),
    ({"rho": 0.5, "seed": float("inf")}, "seed must be a non-negative integer, got inf"),
    ({"rho": 0.5, "n_waves": 2.5}, "n_waves must be an integer"),
    ({"rho": 0.5, "theta": "abc"}, "theta must be three angles in degrees, got 'abc'"),
    ({"rho": 0.5, "theta": (90, "x", 0)}, "theta must be three finite angles"),
    ({"rho": 0.5, "periodic": "no"}, "periodic must be true or false, got 'no'"),
    ({"rho": 0.5, "periodic": 1}, "periodic must be true or false, got 1"),
    ({"rho": 0.5, "periodic": True, "cell": 2.5}, "cell must be an integer"),
])
def test_values_of_the_wrong_kind_are_refused_with_a_value_error(kwargs, message):
    """Not TypeError or OverflowError, and no silent bool('no') = True."""
    with pytest.raises(ValueError, match=message):
        Spinodoid(**kwargs)
    # numpy scalars are numbers
    s = Spinodoid(rho=np.float64(0.4), seed=np.int64(3), periodic=np.bool_(True), n_waves=np.int32(10))
    assert (s.rho, s.seed, s.periodic, s.n_waves) == (0.4, 3, True, 10)


def test_a_periodic_cell_without_a_wave_is_refused_when_the_design_is_made():
    """β below the shortest wave of the cells (2π/L): no lattice wave vector, so no structure to label or print.
    It used to be accepted, its label stored as failed and its export refused."""
    with pytest.raises(ValueError, match=r"no wave of a periodic cell of side 1 has \|k\| ≈ beta = 0.001 .* 2π/1 = 6.283"):
        Spinodoid(rho=0.5, beta=0.001, periodic=True)
    Spinodoid(rho=0.5, beta=0.001)  # the published variant draws free directions: any β makes waves
    assert len(lattice_directions((90, 90, 90), 2 * math.pi, 1)) == 9  # β = 2π: |m| = 1 and √2 (within ±1/2)


@pytest.mark.parametrize("periodic", [False, True])
def test_solid_fraction_equals_rho(periodic):
    r = 24
    for rho in (0.3, 0.55, 0.9):
        v = Spinodoid(rho=rho, theta=(40, 20, 0), seed=4, periodic=periodic).voxels(r)
        assert abs(v.mean() - rho) <= 1.0 / r**3 + 1e-12


def test_field_unit_variance_and_reproducible():
    s = Spinodoid(rho=0.5, seed=7)
    phi = s.field(24)
    assert abs(phi.std() - 1.0) < 0.1  # sqrt(2/N) Σ cos: unit variance
    np.testing.assert_array_equal(phi, s.field(24))
    assert not np.array_equal(phi, Spinodoid(rho=0.5, seed=8).field(24))


def test_periodic_field_is_exactly_periodic():
    s = Spinodoid(rho=0.5, theta=(15, 0, 0), periodic=True, seed=1)
    L = s.cell_length
    x = np.linspace(0, L, 7)
    a = s.field_at(x, x, x)
    b = s.field_at(x + L, x - 2 * L, x + 3 * L)
    np.testing.assert_allclose(a, b, atol=1e-9)
    # the published variant is not periodic
    p = Spinodoid(rho=0.5, theta=(15, 0, 0), seed=1)
    assert np.abs(p.field_at(x, x, x) - p.field_at(x + 1, x, x)).max() > 0.1


def test_published_directions_inside_cones():
    s = Spinodoid(rho=0.5, theta=(15, 0, 40), seed=3)
    k, gamma = s.waves()
    n = k / np.linalg.norm(k, axis=1, keepdims=True)
    np.testing.assert_allclose(np.linalg.norm(k, axis=1), s.beta)
    in_x = np.abs(n[:, 0]) >= math.cos(math.radians(15)) - 1e-12
    in_z = np.abs(n[:, 2]) >= math.cos(math.radians(40)) - 1e-12
    assert np.all(in_x | in_z) and in_x.any() and in_z.any()
    assert len(gamma) == 1000 and gamma.min() >= 0 and gamma.max() < 2 * np.pi


def test_narrow_cone_lattice_degeneration_is_handled():
    # unit cell at beta = 10 pi: only (5,0,0), (5,±1,0), (5,0,±1) within 15° of x
    m1 = lattice_directions((15, 0, 0), 10 * np.pi, 1)
    assert len(m1) == 5
    s = Spinodoid(rho=0.5, theta=(15, 0, 0), periodic=True)
    rep = s.lattice_report()
    assert rep["cell"] == 2 and rep["n_directions"] >= MIN_LATTICE_DIRECTIONS and not rep["degenerate"]
    forced = Spinodoid(rho=0.5, theta=(15, 0, 0), periodic=True, cell=1).lattice_report()
    assert forced["degenerate"] and forced["n_directions"] == 5
    # all periodic wave vectors are lattice vectors with |k| close to beta
    k, _ = s.waves()
    m = k * s.cell_length / (2 * np.pi)
    np.testing.assert_allclose(m, np.rint(m), atol=1e-9)
    assert np.all(np.abs(np.linalg.norm(k, axis=1) - s.beta) <= np.pi / s.cell_length + 1e-9)



def test_a_periodic_design_finds_its_cell_and_lattice_once(monkeypatch):
    """The automatic cell tries sides 1, 2, ... once when the design is made; its size, report, warning,
    resolution and waves reuse them (θ = 5°: 21 ms a search)."""
    import designs.spinodal as spinodal

    calls = []

    def counted(theta, beta, cell):
        calls.append(cell)
        return lattice_directions(theta, beta, cell)

    monkeypatch.setattr(spinodal, "lattice_directions", counted)
    s = Spinodoid(rho=0.5, theta=(15, 0, 0), periodic=True)
    assert calls == [1, 2]
    assert s.cell_length == 2 and s.lattice_report()["cell"] == 2 and s.structure_warning() is None
    s.min_resolution(), s.waves(), s.waves()
    assert calls == [1, 2]
    # the one found is the one lattice_directions gives for that cell, and nobody can change it
    np.testing.assert_array_equal(s._lattice[1], lattice_directions((15, 0, 0), s.beta, 2))
    with pytest.raises(ValueError):
        s._lattice[1][0, 0] = 99
    # a pickle or a copy carries the fields, not the lattice: found again, read-only again
    for other in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):
        assert "_lattice" not in vars(other) and other == s and other.content_hash() == s.content_hash()
        assert not other._lattice[1].flags.writeable


def test_a_wave_number_no_resolution_takes_is_refused_when_made():
    """β = 1e5 asked the lattice search for 7.5 GiB before any resolution was checked; β above 256π
    (4 voxels a wavelength on 512 voxels) is refused at once."""
    assert Spinodoid(rho=0.5, beta=256 * np.pi, periodic=True).min_resolution() == 512
    for beta in (256 * np.pi * (1 + 1e-9), 1e5):
        with pytest.raises(ValueError, match=r"beta \(wave number, 1/unit length\) must be a number in \(0, 804.2\]"):
            Spinodoid(rho=0.5, beta=beta, periodic=True)

def test_single_x_cone_is_layered_normal_to_x():
    # waves along x only: φ varies fastest along x
    v = Spinodoid(rho=0.5, theta=(15, 0, 0), seed=2).field(32)
    gx = np.abs(np.diff(v, axis=0)).mean()
    gy = np.abs(np.diff(v, axis=1)).mean()
    gz = np.abs(np.diff(v, axis=2)).mean()
    assert gx > 2.5 * gy and gx > 2.5 * gz


def test_connectivity_bar_and_clusters():
    a = np.zeros((6, 6, 6), bool)
    a[:, 2, 2] = True          # bar along x, touches both x faces
    a[1, 4:6, 4:6] = True      # separate cluster on the y = end and z = end faces
    a[3:5, 4, 3] = True        # floating island inside the cell
    kept, rep = connectivity(a, periodic=False)
    # affine conditions hold every cluster that touches a face: bar and face cluster kept
    assert rep.n_clusters == 3 and rep.n_kept == 2 and kept.sum() == 10
    assert not kept[3:5, 4, 3].any()
    assert rep.percolates == (True, False, False)
    assert rep.solid_fraction == pytest.approx(a.mean())
    kept, rep = connectivity(a, periodic=True)
    # periodic: only the bar joins its own image; the face cluster is an island too
    assert rep.n_kept == 1 and kept.sum() == 6
    assert rep.percolates == (True, False, False)


def test_periodic_connectivity_joins_across_faces():
    a = np.zeros((6, 6, 6), bool)
    a[0:2, 3, 3] = True
    a[4:6, 3, 3] = True        # joined to the first piece through the x = 0 / x = 6 face
    _, rep_open = connectivity(a, periodic=False)
    _, rep_per = connectivity(a, periodic=True)
    assert rep_open.n_clusters == 2 and rep_per.n_clusters == 1
    assert rep_per.percolates == (False, False, False)   # a closed segment does not wrap
    assert rep_per.connected_fraction == 0.0 and rep_per.n_kept == 0   # a floating island
    a[2:4, 3, 3] = True
    kept, rep = connectivity(a, periodic=True)
    assert rep.percolates == (True, False, False) and rep.connected_fraction == pytest.approx(a.mean())


def test_spinodoid_percolates_at_moderate_density():
    kept, rep = Spinodoid(rho=0.5, seed=0).structure(32)
    assert all(rep.percolates) and rep.connected_fraction > 0.49


def test_genome_json_roundtrip_and_hash():
    s = Spinodoid(rho=0.42, theta=(15, 0, 60), seed=9, periodic=True, cell=2)
    t = Spinodoid.from_json(s.to_json())
    assert t == s and t.content_hash() == s.content_hash()
    assert s.content_hash() == content_hash("spinodoid", s.genome())
    assert s.content_hash() != Spinodoid(rho=0.42, theta=(15, 0, 60), seed=10, periodic=True, cell=2).content_hash()
    import json
    json.dumps(s.genome())
