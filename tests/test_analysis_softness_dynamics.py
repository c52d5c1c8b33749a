"""p_hop and D²min (issue 15, must-show 4): equal to brute-force definitions; hops planted at known
times and particles in a synthetic trajectory are found with precision and recall >= 0.9."""

from __future__ import annotations

import freud
import numpy as np
import pytest

from engine.analysis.ordering.systems import ParticleSystem
from engine.analysis.softness.dynamics import d2min, detect_hops, p_hop


def _phop_loops(positions: np.ndarray, w: int) -> np.ndarray:
    T, N, _ = positions.shape
    out = np.full((T, N), np.nan)
    for t in range(w, T - w):
        for i in range(N):
            A = [positions[s, i] for s in range(t - w, t + 1)]
            B = [positions[s, i] for s in range(t, t + w + 1)]
            mA, mB = sum(A) / len(A), sum(B) / len(B)
            out[t, i] = np.sqrt(sum(float((r - mB) @ (r - mB)) for r in A) / len(A)
                                * sum(float((r - mA) @ (r - mA)) for r in B) / len(B))
    return out


def test_p_hop_equals_the_definition() -> None:
    positions = np.cumsum(np.random.default_rng(0).normal(scale=0.1, size=(40, 7, 3)), axis=0) + 50.0
    np.testing.assert_allclose(p_hop(positions, 5), _phop_loops(positions, 5), rtol=1e-10, equal_nan=True)
    assert np.isnan(p_hop(positions, 5)[:5]).all() and np.isfinite(p_hop(positions, 5)[5:35]).all()


def test_planted_hops_are_found() -> None:
    """300 particles vibrating (rms 0.05 per axis) for 400 frames; 60 of them hop by 1.0 in a random
    direction at known frames (some twice). Found events must match within the half window."""
    rng = np.random.default_rng(1)
    T, N, w = 400, 300, 10
    sites = np.repeat(rng.uniform(0, 20, (1, N, 3)), T, axis=0)
    planted = []
    for particle in rng.choice(N, 60, replace=False):
        times = sorted(rng.choice(np.arange(30, T - 30), 1 + (rng.random() < 0.3), replace=False))
        if len(times) == 2 and times[1] - times[0] < 4 * w:
            times = times[:1]
        for t in times:
            step = rng.normal(size=3)
            sites[t:, particle] += step / np.linalg.norm(step)
            planted.append((t, particle))
    positions = sites + rng.normal(scale=0.05, size=sites.shape)
    found = detect_hops(p_hop(positions, w), threshold=0.2)
    matched = {tuple(p) for p in planted
               if any(f[1] == p[1] and abs(f[0] - p[0]) <= w for f in found)}
    true_found = [f for f in found if any(f[1] == p[1] and abs(f[0] - p[0]) <= w for p in planted)]
    recall, precision = len(matched) / len(planted), len(true_found) / max(len(found), 1)
    timing = np.median([min(abs(f[0] - p[0]) for f in found if f[1] == p[1]) for p in planted
                        if any(f[1] == p[1] for f in found)])
    print(f"\n{len(planted)} planted hops, {len(found)} found: precision {precision:.3f}, recall {recall:.3f}, "
          f"median timing error {timing:.0f} frames")
    assert precision >= 0.9 and recall >= 0.9


def _d2min_loops(ref: np.ndarray, later: np.ndarray, L: float, cutoff: float) -> np.ndarray:
    out = np.full(len(ref), np.nan)
    for i in range(len(ref)):
        D0, D1 = [], []
        for j in range(len(ref)):
            d = ref[j] - ref[i]
            d -= L * np.round(d / L)
            if j != i and np.linalg.norm(d) < cutoff:
                D0.append(d)
                D1.append(d + (later[j] - ref[j]) - (later[i] - ref[i]))
        if len(D0) >= 3:
            D0, D1 = np.array(D0), np.array(D1)
            Jt = np.linalg.lstsq(D0, D1, rcond=None)[0]  # D1 ≈ D0 Jᵀ
            out[i] = float(np.sum((D1 - D0 @ Jt) ** 2))
    return out


def test_d2min_equals_the_least_squares_definition_and_vanishes_for_affine_motion() -> None:
    rng = np.random.default_rng(2)
    L, n = 6.0, 150
    box = freud.box.Box.cube(L)
    ref = ParticleSystem(rng.uniform(-L / 2, L / 2, (n, 3)), box)
    later = ref.positions + rng.normal(scale=0.1, size=(n, 3))
    np.testing.assert_allclose(d2min(ref, later, 1.5), _d2min_loops(ref.positions, later, L, 1.5),
                               rtol=1e-9, atol=1e-12, equal_nan=True)
    strain = np.array([[1.0, 0.04, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.98]])
    open_box = freud.box.Box.cube(L)
    open_box.periodic = [False] * 3
    cluster = ParticleSystem(ref.positions * 0.9, open_box)
    affine = cluster.positions @ strain.T + [0.3, -0.2, 0.1]
    assert np.nanmax(d2min(cluster, affine, 1.5)) < 1e-20
    moved = affine.copy()
    moved[0] += [0.3, 0.0, 0.0]  # one particle leaves the affine field
    values = d2min(cluster, moved, 1.5)
    assert values[0] > 0.05 and np.nanmedian(values) < 1e-20


def test_bad_trajectories_are_refused() -> None:
    with pytest.raises(ValueError, match=r"a trajectory must have shape \(T, N, d\)"):
        p_hop(np.zeros((10, 3)), 2)
    bad = np.zeros((10, 4, 3))
    bad[3, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinite coordinates \(frames \[3\]\)"):
        p_hop(bad, 2)
    with pytest.raises(ValueError, match="half_window must be an integer >= 1 with 2 x half_window"):
        p_hop(np.zeros((10, 4, 3)), 5)
    ref = ParticleSystem(np.zeros((2, 3)) + [[0, 0, 0], [1, 0, 0]], freud.box.Box.cube(5.0))
    with pytest.raises(ValueError, match=r"must have shape \(2, 3\)"):
        d2min(ref, np.zeros((3, 3)), 1.0)
