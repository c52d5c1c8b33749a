"""Which solid carries load: every cluster held by the faces (affine) or percolating (periodic).

Truth: structures built from separate pieces whose stiffness is known exactly from one piece —
energies of pieces that share no node add up, a periodic translation does not change C — and a
straight fibre, whose share of C is E·A_fibre/A_cell in C11 alone (uniaxial stress).
"""

from __future__ import annotations

import numpy as np
import pytest

from designs.spinodal import Spinodoid, connectivity, find_clusters
from fem.homogenize import homogenize, label

RTOL = 1e-11   # CG tolerance for exact comparisons


def _frame(n: int = 16, period: int = 8, shift: int = 0, width: int = 2) -> np.ndarray:
    """Periodic cubic frame: bars of width ``width`` along x, y, z through the lattice points."""
    on = (np.arange(n) - shift) % period < width
    X, Y, Z = np.meshgrid(on, on, on, indexing="ij")
    return (X & Y) | (Y & Z) | (X & Z)


def _apart(a: np.ndarray, b: np.ndarray) -> bool:
    """No voxel of a shares a face, edge or corner with one of b (periodic)."""
    grown = np.zeros_like(b)
    for o in np.ndindex(3, 3, 3):
        grown |= np.roll(b, shift=tuple(t - 1 for t in o), axis=(0, 1, 2))
    return not np.any(a & grown)


def test_two_interlocked_networks_are_twice_one_network():
    a, b = _frame(shift=0), _frame(shift=4)
    assert _apart(a, b)                              # they interpenetrate without touching
    _, rep = connectivity(a | b, periodic=True)
    assert (rep.n_clusters, rep.n_kept, rep.percolates) == (2, 2, (True, True, True))
    one = homogenize(a, bc="periodic", rtol=RTOL)
    both = homogenize(a | b, bc="periodic", rtol=RTOL)
    assert both.status == one.status == "ok" and both.kept_clusters == 2
    np.testing.assert_allclose(both.C, 2 * one.C, rtol=0, atol=1e-6 * np.abs(one.C).max())
    # b is a translate of a: the same stiffness (periodic conditions do not see the shift)
    np.testing.assert_allclose(homogenize(b, bc="periodic", rtol=RTOL).C, one.C, atol=1e-9)


@pytest.mark.parametrize("bc", ["periodic", "affine"])
def test_floating_island_is_dropped_and_changes_nothing(bc):
    a = _frame()
    island = np.zeros_like(a)
    island[4:6, 4:6, 4:6] = True                     # in the middle of a frame cell
    assert _apart(a, island)
    alone = homogenize(a, bc=bc, rtol=RTOL)
    with_island = homogenize(a | island, bc=bc, rtol=RTOL)
    assert with_island.kept_clusters == 1
    assert with_island.connected_fraction == pytest.approx(a.mean())
    assert with_island.solid_fraction == pytest.approx((a | island).mean())
    np.testing.assert_allclose(with_island.C, alone.C, atol=1e-10)


def test_a_separate_fibre_adds_E_times_its_area_fraction_to_C11_only():
    """Periodic: a straight fibre along x through a frame it does not touch. It joins its own
    image along x only, so besides translating it can turn about its axis (fixed by a spring
    that carries no load); under ε11 it is in uniaxial stress, and it does not resist any other
    strain: ΔC = E · A_fibre / A_cell in C11, zero elsewhere."""
    a = _frame()
    fibre = np.zeros_like(a)
    fibre[:, 4, 4] = True
    assert _apart(a, fibre)
    bodies = find_clusters(a | fibre, periodic=True, corners=True)
    assert sorted(bodies.wrap_rank(i) for i in range(bodies.n)) == [1, 3]
    dC = homogenize(a | fibre, bc="periodic", rtol=RTOL).C - homogenize(a, bc="periodic", rtol=RTOL).C
    exact = np.zeros((6, 6))
    exact[0, 0] = 1.0 * 1 / 16**2
    np.testing.assert_allclose(dC, exact, atol=1e-9)


def _plates(n: int = 12) -> tuple[np.ndarray, list[np.ndarray]]:
    """Three separate plates normal to x, each spanning the y and z faces."""
    plates = []
    for x0 in (1, 5, 9):
        p = np.zeros((n, n, n), bool)
        p[x0:x0 + 2] = True
        plates.append(p)
    return plates[0] | plates[1] | plates[2], plates


def test_stack_of_separate_plates_under_affine_conditions():
    stack, plates = _plates()
    # no load path along x: the label-grade answer is a failure that names the axis
    h = homogenize(stack, bc="affine")
    assert h.status == "failed" and h.percolates == (False, True, True)
    assert h.reason == "does not percolate along x: no load path, zero stiffness along that axis"
    assert homogenize(stack, bc="periodic").status == "failed"
    # the affine problem as posed (published convention): the faces hold every plate, and
    # plates that share no node add their energies — three times one plate, not one plate
    solved = homogenize(stack, bc="affine", rtol=RTOL, require_percolation=False)
    assert solved.status == "ok" and solved.kept_clusters == 3
    parts = [homogenize(p, bc="affine", rtol=RTOL, require_percolation=False).C for p in plates]
    np.testing.assert_allclose(solved.C, sum(parts), atol=1e-9)
    # u = ε̄ x shifts by a rigid translation with the plate, so the plates are equal
    np.testing.assert_allclose(solved.C, 3 * parts[0], atol=1e-9)


def test_wrap_vectors_of_a_diagonal_fibre():
    a = np.zeros((6, 6, 3), bool)
    for i in range(6):                               # staircase along (1, 1, 0), wraps once
        a[i, i, 1] = a[i, (i + 1) % 6, 1] = True
    cl = find_clusters(a, periodic=True)
    assert cl.n == 1 and cl.wrap_rank(0) == 1 and cl.spans(0) == (True, True, False)
    w = cl.wraps[0][0]
    assert abs(w[0]) == abs(w[1]) == 1 and w[2] == 0 and w[0] * w[1] > 0
    assert find_clusters(a, periodic=False).spans(0) == (True, True, False)


def test_sparse_spinodoid_is_labelled_failed_not_small():
    """ρ = 0.1: many clusters held by the faces, none crossing the cell along any axis."""
    out = label(Spinodoid(rho=0.1, seed=0), resolution=32, bc="affine")
    assert out["status"] == "failed" and out["C"] is None and out["E1"] is None
    assert out["reason"] == "does not percolate along x, y, z: no load path, zero stiffness along those axes"
    assert out["percolates"] == [False, False, False] and out["kept_clusters"] > 10


@pytest.mark.parametrize(("seed", "status", "percolates"), [(0, "ok", [True, True, True]),
                                                            (1, "failed", [False, True, True])])
def test_published_plate_row_is_labelled_by_its_load_path(seed, status, percolates):
    """A published one-cone row (ρ = 0.312, θ = (16.7°, 0, 0)): seed 0 is one connected
    network, seed 1 a stack of separate plates normal to x."""
    out = label(Spinodoid(rho=0.311743, theta=(16.7412, 0, 0), seed=seed), resolution=32, bc="affine")
    assert out["status"] == status and out["percolates"] == percolates
    if status == "failed":
        assert out["reason"] == "does not percolate along x: no load path, zero stiffness along that axis"


@pytest.mark.slow
@pytest.mark.parametrize(("rho", "theta_x"), [(0.311743, 16.7412), (0.33449, 15.2583)])
def test_published_plate_rows_affine_match_the_published_trend(rho, theta_x):
    """Published one-cone rows at ρ ≈ 0.32 (stacks of plates, often separate): the mean of 8
    realisations, solved as published (affine, every cluster the faces hold), against the
    published local trend (:class:`PublishedTrend`, 60 neighbouring rows; single published rows
    scatter by 13 % around it here). Measured: −14 %, −6 %, −13 % and −11 %, +3 %, −5 %; the
    largest cluster alone gave −47 %, −42 %, −46 % and −38 %, −28 %, −35 %."""
    from benchmarks.compare_kumar2020 import PublishedTrend, load_rows

    rows = load_rows()
    (row,) = [r for r in rows if r["volFrac"] == rho and r["thetaX"] == theta_x]
    trend, _ = PublishedTrend(rows)(row)
    ours = np.mean([np.diag(homogenize(Spinodoid(rho=rho, theta=(theta_x, 0, 0), seed=s).voxels(32), bc="affine",
                                       require_percolation=False).C)[:3] for s in range(8)], axis=0)
    assert np.all(np.abs(ours / trend - 1) < 0.2), ours / trend - 1
