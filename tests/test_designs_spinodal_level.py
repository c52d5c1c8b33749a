"""Threshold of the spinodoid field: a true level set whose solid fraction is closest to ρ.

Truth: hand-made value lists with known ties, and a one-wave laminate whose φ is the analytic
cosine A cos(k x + γ), so the fractions a level set can reach are counted from the formula.
"""

from __future__ import annotations

import numpy as np
import pytest

from designs.spinodal import Spinodoid, threshold_level


@pytest.mark.parametrize(("rho", "level", "count"), [(0.3, 2.5, 4), (0.2, 4.5, 1), (0.08, 4.5, 1),
                                                      (0.55, 0.5, 6), (0.45, 2.5, 4), (0.95, -1.0, 10)])
def test_ties_are_never_split_and_the_nearest_count_wins(rho, level, count):
    phi = np.array([5, 4, 4, 4, 1, 1, 0, 0, 0, 0], float)
    t = threshold_level(phi, rho)
    assert t == pytest.approx(level) and int((phi > t).sum()) == count


@pytest.mark.parametrize("periodic", [False, True])
def test_distinct_values_give_round_rho_n_voxels(periodic):
    for rho in (0.1, 0.3, 0.55, 0.9):
        s = Spinodoid(rho=rho, theta=(40, 20, 0), seed=4, periodic=periodic)
        r = s.min_resolution()
        v = s.voxels(r)
        assert int(v.sum()) == round(rho * r**3)


def _layer_values(s: Spinodoid, r: int) -> np.ndarray:
    """φ at the voxel-centre layers x_i of a one-wave field, from φ = sqrt(2/N) Σ cos(k x + γ_i)."""
    k, gamma = s.waves()
    assert np.all(k == k[0]) and k[0, 1] == k[0, 2] == 0      # one wave vector along x
    x = (np.arange(r) + 0.5) * s.cell_length / r
    amp = np.sqrt(2.0 / len(gamma)) * np.exp(1j * gamma).sum()
    return (amp * np.exp(1j * k[0, 0] * x)).real


@pytest.mark.parametrize("r", [20, 24, 32, 40])
@pytest.mark.parametrize("rho", [0.3, 0.5, 0.77])
def test_degenerate_laminate_takes_the_reachable_fraction_nearest_rho(r, rho):
    s = Spinodoid(rho=rho, theta=(0.01, 0.0, 0.0), periodic=True, seed=0)
    assert s.lattice_report()["n_directions"] == 1
    layers = np.round(_layer_values(s, r), 9)          # analytic values; equal ones tie
    reachable = np.array([(layers > t).sum() for t in np.unique(layers)] + [r]) / r
    best = reachable[np.argmin(np.abs(reachable - rho))]
    v = s.voxels(r)
    assert np.all(v == v[:, :1, :1])                   # whole layers: a true level set
    assert v.mean() == pytest.approx(best, abs=1e-12)
    # which is as close as a level set can get: within half the tied group at the cut
    cut = np.unique(layers)[np.argmin([abs((layers > t).sum() / r - rho) for t in np.unique(layers)])]
    group = max(int((layers == cut).sum()), int((layers == layers[layers > cut].min()).sum())
                if (layers > cut).any() else 0)
    assert abs(v.mean() - rho) <= group / (2 * r) + 1e-12
