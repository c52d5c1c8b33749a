"""Through-crack detection (:mod:`fem.phasefield_crack`) on damage fields drawn by hand.

The truth is the drawing: a band of d = 1 from the notch tip to an edge has gone through; one
that stops short of the edge, one that starts away from the tip, or one below the band
threshold has not. Then the end criterion in a run: a mode-II plate ends on it, and without it
the same run goes on.
"""

import numpy as np
import pytest

from designs.checkerboard import Checkerboard
from fem.fracture import PlateSetup, build_problem
from fem.mesh_quad import QuadGrid
from fem.phasefield import SolverOptions, solve_phasefield
from fem.phasefield_crack import (GRIP_BAND_ELLS, ThroughCrack, crack_path, grip_band_lengths, grip_bands,
                                  node_damage, tip_band_reaches_an_edge)
from fem.phasefield_end import EndCriteria

ELL = 1 / 16
N = 32  # elements a side, h = 1/32 = ell / 2


def _grid() -> QuadGrid:
    xs = np.linspace(0, 1, N + 1)
    return QuadGrid(xs, xs.copy(), N // 2, N // 2)  # slit from the left edge to (0.5, 0.5)


def _damage(grid: QuadGrid, *segments, level: float = 1.0) -> np.ndarray:
    """Nodal damage ``level`` within half an element of the straight segments ((x0, y0), (x1, y1))."""
    d = np.zeros(grid.nnode)
    xy = grid.coords
    for (x0, y0), (x1, y1) in segments:
        p, a, b = xy, np.array([x0, y0]), np.array([x1, y1])
        t = np.clip(((p - a) @ (b - a)) / ((b - a) @ (b - a)), 0, 1)
        dist = np.linalg.norm(p - (a + t[:, None] * (b - a)), axis=1)
        d[dist <= 0.5 / N + 1e-12] = level
    return d


def test_bands_from_the_tip_to_an_edge_are_through():
    grid = _grid()
    through = ThroughCrack(grid, ELL)
    assert through(_damage(grid, ((0.5, 0.5), (1.0, 0.0))))  # diagonal to the bottom-right corner
    assert through(_damage(grid, ((0.5, 0.5), (0.5, 0.0))))  # straight down to the bottom grip
    assert through(_damage(grid, ((0.5, 0.5), (1.0 - 0.9 * ELL, 0.5))))  # within ℓ of the right edge
    assert through(_damage(grid, ((0.5 + 0.9 * ELL, 0.5), (1.0, 0.5))))  # starts within ℓ of the tip


def test_bands_that_stop_short_start_away_or_stay_below_the_threshold_are_not():
    grid = _grid()
    through = ThroughCrack(grid, ELL)
    assert not through(np.zeros(grid.nnode))
    assert not through(_damage(grid, ((0.5, 0.5), (1.0 - 2.5 * ELL, 0.5))))  # stops 2.5ℓ short of the edge
    assert not through(_damage(grid, ((0.5 + 2.5 * ELL, 0.5), (1.0, 0.5))))  # starts 2.5ℓ ahead of the tip
    assert not through(_damage(grid, ((0.5, 0.5), (1.0, 0.5)), level=0.85))  # below d = 0.9
    # two bands, one at the tip and one at the edge, with a gap of 2 elements between them
    assert not through(_damage(grid, ((0.5, 0.5), (0.7, 0.5)), ((0.7 + 2.5 / N, 0.5), (1.0, 0.5))))


def test_how_a_plate_failed_tip_band_and_bands_along_the_grips():
    """Drawn bands: from the tip to the bottom-right corner at 45° (reaches an edge; its last ℓ lies
    within ℓ of the grip), down then along the bottom grip for 13 elements, and one away from the tip."""
    grid = _grid()
    xs = grid.xs

    def drawn(*segments):
        return node_damage(grid, _damage(grid, *segments))

    diagonal = drawn(((0.5, 0.5), (1.0, 0.0)))
    assert tip_band_reaches_an_edge(diagonal, xs, xs, (0.5, 0.5), ELL)
    (corner,) = grip_band_lengths(diagonal, xs, xs, ELL)
    assert corner == pytest.approx(ELL, abs=1e-12)
    along = drawn(((0.5, 0.5), (0.5, 0.5 * ELL)), ((0.5, 0.5 * ELL), (0.5 + 13 / N, 0.5 * ELL)))
    assert tip_band_reaches_an_edge(along, xs, xs, (0.5, 0.5), ELL)
    assert grip_band_lengths(along, xs, xs, ELL) == [pytest.approx(13 / N, abs=1e-12)]
    away = drawn(((0.5 + 2.5 * ELL, 0.5), (1.0, 0.5)))
    assert not tip_band_reaches_an_edge(away, xs, xs, (0.5, 0.5), ELL)
    assert not tip_band_reaches_an_edge(drawn(((0.5, 0.5), (0.5, 0.3))), xs, xs, (0.5, 0.5), ELL)
    assert grip_band_lengths(away, xs, xs, ELL) == []
    # the notch's own edge counts: a band from the tip back along the lower crack face to the left edge
    assert tip_band_reaches_an_edge(drawn(((0.5, 0.5 - 1 / N), (0.0, 0.5 - 1 / N))), xs, xs, (0.5, 0.5), ELL)
    # but not within 2ℓ of the tip: the damage at the tip of a notch ℓ long is no crack to an edge
    blob = drawn(((0.0, 0.5), (2 * ELL, 0.5)))
    assert not tip_band_reaches_an_edge(blob, xs, xs, (ELL, 0.5), ELL)
    assert tip_band_reaches_an_edge(blob, xs, xs, (2 * ELL, 0.5), 0.9 * ELL)  # the edge 2.2 radii away
    # a band that touches the bottom grip with two legs 0.8 mm apart runs along it nowhere
    legs = drawn(((0.1, 0.3), (0.9, 0.3)), ((0.1, 0.3), (0.1, 0.0)), ((0.9, 0.3), (0.9, 0.0)))
    assert grip_band_lengths(legs, xs, xs, ELL) == [pytest.approx(0.0, abs=1e-12)]
    feet = drawn(((0.1, 0.3), (0.9, 0.3)), ((0.1, 0.3), (0.1, 0.0)), ((0.9, 0.3), (0.9, 0.0)),
                 ((0.9, 0.5 * ELL), (0.9 + 3 / N, 0.5 * ELL)))
    assert grip_band_lengths(feet, xs, xs, ELL) == [pytest.approx(3 / N, abs=1e-12)]  # the longer foot


def test_the_crack_path_of_a_plate_names_the_grip_and_how_far_a_band_runs_along_it():
    """The same drawings read as one :func:`crack_path`: the diagonal ends within ℓ of the bottom grip
    over ℓ (no band along a grip); the band turned along the bottom grip covers 13 elements (> 4ℓ);
    one mirrored to the top names the top grip; a band along the border of a damage-free strip counts
    only when the strip is given; a band below the level is no band."""
    grid = _grid()
    xs = grid.xs

    def path(*segments, level=0.9, strip=0.0):
        return crack_path(node_damage(grid, _damage(grid, *segments)), xs, xs, (0.5, 0.5), ELL, level, strip)

    diagonal = path(((0.5, 0.5), (1.0, 0.0)))
    assert (diagonal.at_tip, diagonal.tip_to_edge, diagonal.grip_edge, diagonal.along_grip) == (True, True, "bottom", False)
    assert diagonal.grip_length == pytest.approx(ELL, abs=1e-12)
    along = path(((0.5, 0.5), (0.5, 0.5 * ELL)), ((0.5, 0.5 * ELL), (0.5 + 13 / N, 0.5 * ELL)))
    assert along.along_grip and along.grip_edge == "bottom" and along.grip_length == pytest.approx(13 / N, abs=1e-12)
    assert 13 / N > GRIP_BAND_ELLS * ELL
    top = path(((0.5, 0.5), (0.5, 1 - 0.5 * ELL)), ((0.5, 1 - 0.5 * ELL), (0.5 + 13 / N, 1 - 0.5 * ELL)))
    assert top.along_grip and top.grip_edge == "top"
    assert grip_bands(node_damage(grid, _damage(grid, ((0.5, 0.5), (0.5, 1.0)))), xs, xs, ELL) == [
        ("top", pytest.approx(0.0, abs=1e-12))]
    strip = ((0.3, 2.5 * ELL), (0.3 + 13 / N, 2.5 * ELL))  # 2.5ℓ above the bottom: 0.5ℓ from a strip of 2ℓ
    assert not path(strip).along_grip and path(strip, strip=2 * ELL).along_grip
    away = path(((0.5 + 2.5 * ELL, 0.5), (1.0, 0.5)))
    assert (away.at_tip, away.tip_to_edge, away.grip_edge, away.grip_length) == (False, False, None, 0.0)
    faint = path(((0.5, 0.5), (0.5, 0.5 * ELL)), ((0.5, 0.5 * ELL), (0.9, 0.5 * ELL)), level=1.0)
    assert not (faint.at_tip or faint.tip_to_edge or faint.along_grip)  # d = 1 is not above the level 1


def test_damage_at_the_tip_of_a_short_notch_is_not_a_through_crack():
    """A notch ℓ long: the tip's own damage touches the left edge zone, which does not count there."""
    xs = np.linspace(0, 1, N + 1)
    grid = QuadGrid(xs, xs.copy(), N // 2, 2)  # slit to x = 1/16 = ℓ
    through = ThroughCrack(grid, ELL)
    assert not through(_damage(grid, ((0.0, 0.5), (ELL + 0.5 / N, 0.5))))  # a band over the notch and its tip
    assert through(_damage(grid, ((ELL, 0.5), (ELL, 0.0))))  # down to the bottom edge
    assert through(_damage(grid, ((ELL, 0.5), (0.0, 0.5 - 4 * ELL))))  # back to the left edge, 4ℓ below


def test_node_damage_shows_the_larger_of_the_crack_faces():
    grid = _grid()
    d = np.zeros(grid.nnode)
    n = (N + 1) ** 2
    d[n + 3] = 0.7  # the copy (upper face) of node 3 of the crack row
    shown = node_damage(grid, d)
    assert shown.shape == (N + 1, N + 1) and shown[N // 2, 3] == 0.7 and shown.sum() == pytest.approx(0.7)


def test_end_criteria_order():
    ends = EndCriteria("full", 0.1, 0.85, 1.0, 100, 5, through_crack=True)
    assert ends.after_step(0.05, 1.0, 0.3, through=True) == "failure"  # the stress criterion first
    assert ends.after_step(0.5, 1.0, 0.3, through=True) == "through_crack"
    assert ends.after_step(0.5, 1.0, 0.3, through=False) is None
    assert EndCriteria("full", 0.1, 0.85, 1.0, 100, 5).after_step(0.5, 1.0, 0.3, through=True) is None
    assert EndCriteria("peak", 0.1, 0.85, 1.0, 100, 5, through_crack=True).after_step(0.9, 1.0, 0.3, True) is None
    assert ends.verdict("through_crack", 0) == ("ok", "")


def test_a_shear_run_ends_when_its_crack_is_through():
    """A random 8×8 composite in shear at ℓ = 1/16 mm (about 3 s): the run ends at the through
    crack with the stress still above 10 % of its peak (measured 32 %); without the criterion it
    goes on to the stress end (here within the same fine load step, with more damage)."""
    rng = np.random.default_rng(0)
    plates = [Checkerboard.random(8, soft_fraction=rng.uniform(0.2, 0.8), seed=rng) for _ in range(2)]
    plate = plates[1]
    pb, _ = build_problem(plate, PlateSetup(mode="II", ell=ELL))
    with_end = solve_phasefield(pb, SolverOptions(max_displacement=1.0, through_crack=True))
    assert with_end.end_criterion == "through_crack" and with_end.status == "ok"
    assert ThroughCrack(pb.grid, ELL)(with_end.damage)
    assert with_end.force[-1] > 0.25 * with_end.force.max()
    # without it the last step runs on until the stress has fallen below 10 % of its peak
    without = solve_phasefield(pb, SolverOptions(max_displacement=1.0))
    assert without.end_criterion == "failure" and without.force[-1] < 0.1 * without.force.max()
    assert without.displacement[-1] >= with_end.displacement[-1]
    assert without.dissipated_energy > with_end.dissipated_energy
    k = with_end.displacement.size - 1  # the steps before the end are the same run
    np.testing.assert_allclose(without.force[:k], with_end.force[:k], rtol=1e-9)
