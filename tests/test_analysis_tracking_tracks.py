"""Tracks (issue 13, must-show 4): MSD, diffusion coefficients, linking and populations.

Checked against things outside the code:

* simulated Brownian and harmonically trapped tracks with known D, trap variance and
  localisation error (exact updates, :mod:`engine.analysis.tracking.tracks.simulate`);
* analytic results: the trap's MSD plateau 2·d·⟨x²⟩ (+ 2dσ²), ⟨R_g²⟩ = dDT/3 for free
  diffusion, α = 1 (free) and 2 (ballistic), the non-Gaussian parameter of a two-speed mixture,
  Michalet's (2010) small-x optimum of 2 fit points;
* the exact covariance of MSD points (Bullerjahn et al. 2020) against the scatter of many
  simulated tracks, and the reported standard error of D against the scatter of D;
* trackpy: ``imsd`` and ``emsd`` on the same tracks, and linking against the true identities;
* every malformed CSV gets its own message.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest
import trackpy
from scipy.spatial import cKDTree
from sklearn.metrics import adjusted_rand_score

from engine.analysis.tracking.tracks import (Population, analyse_tracks, cluster_tracks, ensemble_msd, fit_diffusion,
                                             fit_ensemble_diffusion, link_tracks, msd_covariance, optimal_fit_points,
                                             read_tracks, simulate_tracks, track_features, track_msd,
                                             tracks_from_table, trapped_msd)
from engine.analysis.tracking.tracks.clustering import gap_structure
from engine.analysis.tracking.tracks.example import example_tracks

DT = 0.01  # s


def _truth(tracks: pd.DataFrame, index: pd.Index) -> pd.Series:
    return tracks.groupby("particle")["population"].first().loc[index]


# --- MSD and D ---------------------------------------------------------------------------------

def test_free_diffusion_recovers_D_within_5_percent_and_the_localisation_offset() -> None:
    """20 tracks × 1000 frames in px, analysed in µm: D = 0.5 µm²/s, σ = 50 nm, 0.1 µm/px.

    One 1000-frame track gives D to about 6 % (its standard error); the population to ~1.5 %.
    """
    pixel, d_true, sigma = 0.1, 0.5, 0.05
    tracks = simulate_tracks([Population("free", 20, d_true / pixel**2)], n_frames=1000, frame_interval=DT,
                             sigma=sigma / pixel, field=500, seed=11)
    msd = track_msd(tracks, DT, pixel_size=pixel)
    assert msd.unit == "µm"
    per_track = fit_diffusion(msd)
    population = fit_ensemble_diffusion(msd)
    print(f"\nD per track / true: {np.round(per_track['D'].to_numpy() / d_true, 3)}; ensemble "
          f"{population['D'] / d_true:.4f} ± {population['D_err'] / d_true:.4f}; "
          f"σ {population['sigma'] * 1e3:.1f} nm")
    assert population["D"] == pytest.approx(d_true, rel=0.05)
    assert per_track["D"].mean() == pytest.approx(d_true, rel=0.05)
    assert np.all(np.abs(per_track["D"] - d_true) < 4 * per_track["D_err"])
    # offset 2dσ² = 4σ² and σ itself
    assert population["sigma"] == pytest.approx(sigma, rel=0.1)
    assert per_track["offset"].mean() == pytest.approx(4 * sigma**2, rel=0.2)
    assert per_track["sigma"].median() == pytest.approx(sigma, rel=0.1)


@pytest.mark.parametrize(("sigma", "median_points"), [(0.0, (2, 2)), (0.1, (5, 10))])
def test_standard_error_of_D_matches_the_scatter_over_tracks(sigma: float, median_points: tuple[int, int]) -> None:
    """400 tracks × 150 frames: std of D over tracks / mean reported D_err ≈ 1 (±15 %).

    σ = 0 (x = 0: Michalet's optimum is 2 points) and σ = 0.1 µm with D = 0.1 µm²/s (x = 10: more
    points are optimal).
    """
    tracks = simulate_tracks([Population("free", 400, 0.1)], n_frames=150, frame_interval=DT, sigma=sigma, seed=3)
    fit = fit_diffusion(track_msd(tracks, DT))
    ratio = fit["D"].std() / fit["D_err"].mean()
    print(f"\nσ = {sigma}: std(D)/mean(D_err) = {ratio:.3f}, mean D = {fit['D'].mean():.4f}, "
          f"fit points {sorted(set(fit['n_fit']))}")
    assert 0.85 < ratio < 1.15
    assert fit["D"].mean() == pytest.approx(0.1, rel=0.03)
    assert median_points[0] <= fit["n_fit"].median() <= median_points[1]


def test_msd_covariance_matches_simulated_tracks() -> None:
    """Bullerjahn et al. (2020) eq. 8a vs 20 000 simulated 20-point tracks (D = 1, σ = 0.5)."""
    n, d, s = 20, 1.0, 0.5
    tracks = simulate_tracks([Population("free", 20000, d)], n_frames=n, frame_interval=1.0, sigma=s, seed=5)
    msd = track_msd(tracks, 1.0, max_lag=5).msd
    theory = msd_covariance(5, n, 4 * s**2, 4 * d)
    np.testing.assert_allclose(np.cov(msd.T), theory, rtol=0.05)
    slope = msd[:, :2] @ np.array([-1.0, 1.0])
    assert np.var(slope) == pytest.approx(theory[0, 0] + theory[1, 1] - 2 * theory[0, 1], rel=0.05)


def test_optimal_fit_points_follow_michalet() -> None:
    """x → 0: two points for the slope (Michalet 2010); more points as x grows; never above L_b."""
    p_b, p_a = optimal_fit_points(np.array([0.0, 1.0, 10.0, 100.0, np.inf]), 1000)
    assert p_b[0] == 2 and p_a[0] == 2
    assert np.all(np.diff(p_b) >= 0) and np.all(np.diff(p_a) >= 0)
    assert p_b[-1] == int(0.8 + 0.564 * 1000)
    assert optimal_fit_points(np.inf, 10)[0] == int(0.8 + 0.564 * 10)


def test_trapped_msd_levels_off_at_the_analytic_plateau() -> None:
    """Harmonic trap, ⟨x²⟩ = v = 0.01 µm², D = 0.2 µm²/s (τ = 5 frames): MSD(∞) = 2·d·v + 2dσ²."""
    v, d, sigma = 0.01, 0.2, 0.02
    tracks = simulate_tracks([Population("trap", 50, d, trap_variance=v)], n_frames=1000, frame_interval=DT,
                             sigma=sigma, seed=7)
    ens = ensemble_msd(track_msd(tracks, DT, max_lag=100))
    plateau = ens.loc[50:100, "msd"].mean()
    expected = 2 * 2 * v + 2 * 2 * sigma**2
    print(f"\ntrap plateau {plateau:.5f} µm², analytic {expected:.5f} µm² ({plateau / expected - 1:+.2%})")
    assert plateau == pytest.approx(expected, rel=0.03)
    np.testing.assert_allclose(ens["msd"], trapped_msd(ens["lag_time"], d, v, sigma=sigma), rtol=0.04)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # trackpy 0.7 under pandas 3
def test_msd_matches_trackpy_imsd_and_emsd() -> None:
    """Peer check: trackpy's imsd (tracks with gaps and different lengths) and emsd (equal lengths)."""
    tracks = simulate_tracks([Population("a", 6, 2.0), Population("b", 4, 0.5, trap_variance=0.5)],
                             n_frames=(40, 120), frame_interval=DT, sigma=0.1, seed=2)
    gappy = tracks.drop(tracks.sample(frac=0.15, random_state=0).index)
    ours = track_msd(gappy, DT, pixel_size=0.2, max_lag=30).to_frame()
    theirs = trackpy.imsd(gappy, mpp=0.2, fps=1 / DT, max_lagtime=30)
    np.testing.assert_allclose(ours.index, theirs.index)
    np.testing.assert_allclose(ours.to_numpy(), theirs[ours.columns].to_numpy(), rtol=1e-9)

    equal = simulate_tracks([Population("a", 20, 1.0)], n_frames=100, frame_interval=DT, sigma=0.05, seed=4)
    ours_ens = ensemble_msd(track_msd(equal, DT, max_lag=60))
    theirs_ens = trackpy.emsd(equal, mpp=1.0, fps=1 / DT, max_lagtime=60)
    np.testing.assert_allclose(ours_ens["msd"].to_numpy(), theirs_ens.to_numpy(), rtol=1e-9)


def test_msd_matches_a_direct_pairwise_sum() -> None:
    """An independent O(N²) reimplementation on a short track with gaps."""
    rng = np.random.default_rng(0)
    frames = np.sort(rng.choice(60, size=35, replace=False))
    xy = np.cumsum(rng.normal(size=(35, 2)), axis=0) + 1000.0
    table = pd.DataFrame({"frame": frames, "x": xy[:, 0], "y": xy[:, 1], "particle": 3})
    result = track_msd(table, 0.5, max_lag=59)
    lag = frames[None, :] - frames[:, None]
    sq = np.sum((xy[None] - xy[:, None]) ** 2, axis=-1)
    for n in range(1, 60):
        pairs = lag == n
        expected = sq[pairs].mean() if pairs.any() else np.nan
        np.testing.assert_allclose(result.msd[0, n - 1], expected, rtol=1e-10, equal_nan=True)
        assert result.counts[0, n - 1] == pairs.sum()
    np.testing.assert_allclose(result.lag_times, 0.5 * np.arange(1, 60))


# --- features ----------------------------------------------------------------------------------

def test_features_against_analytic_values() -> None:
    """Free: α ≈ 1, ⟨R_g²⟩/(4DT) = d/12, α₂ ≈ 0; ballistic: α = 2, confinement ratio 1;
    two-speed mixture (variances 1 : 9 per step): α₂ = 2(1 + 81)/10² − 1 = 0.64."""
    free = simulate_tracks([Population("free", 300, 1.0)], n_frames=400, frame_interval=DT, seed=8)
    f = track_features(free, DT)
    rg2 = (10 ** f["log10_rg_ratio"]) ** 2 * 10 ** f["log10_D"] / 1.0  # R_g²/(4 D_true T) with fitted D undone
    assert f["alpha"].mean() == pytest.approx(1.0, abs=0.03)
    assert rg2.mean() == pytest.approx(2 / 12, rel=0.06)
    assert f["non_gaussian"].mean() == pytest.approx(0.0, abs=0.02)

    t = np.arange(50)
    rng = np.random.default_rng(1)
    scale = np.where(np.arange(20000) % 2 == 0, 1.0, 3.0)
    steps = rng.normal(size=(20000, 2)) * scale[:, None]
    mixed = np.vstack([[0.0, 0.0], np.cumsum(steps, axis=0)])
    table = pd.concat([
        pd.DataFrame({"frame": t, "x": 0.7 * t, "y": -0.2 * t, "particle": 0}),
        pd.DataFrame({"frame": np.arange(20001), "x": mixed[:, 0], "y": mixed[:, 1], "particle": 1})])
    g = track_features(table, DT)
    assert g.loc[0, "alpha"] == pytest.approx(2.0, abs=1e-9)
    assert g.loc[0, "confinement_ratio"] == pytest.approx(1.0, abs=1e-12)
    assert g.loc[1, "non_gaussian"] == pytest.approx(0.64, abs=0.05)


# --- populations -------------------------------------------------------------------------------

@pytest.mark.parametrize(("sizes", "n_frames"), [((60, 60, 60), 200), ((60, 60, 60), (50, 300)),
                                                ((100, 30, 50), 200)],
                         ids=["equal", "mixed-lengths", "unequal-groups"])
def test_two_free_populations_and_a_trapped_one_are_separated(sizes: tuple[int, int, int],
                                                              n_frames: int | tuple[int, int]) -> None:
    """Must-show 4: D = 0.05 and 0.5 µm²/s (ratio 10) and a trap (D = 0.2, ⟨x²⟩ = 0.005 µm²),
    σ = 20 nm: three clusters, adjusted Rand index ≥ 0.9, free D within 5 %."""
    truth_d = {"slow": 0.05, "fast": 0.5}
    tracks = simulate_tracks([Population("slow", sizes[0], 0.05), Population("fast", sizes[1], 0.5),
                              Population("trapped", sizes[2], 0.2, trap_variance=0.005)],
                             n_frames=n_frames, frame_interval=DT, sigma=0.02, field=50, seed=21)
    result = analyse_tracks(tracks.drop(columns="population"), DT)
    truth = _truth(tracks, result.features.index)
    ari = adjusted_rand_score(truth, result.features["cluster"])
    print(f"\n{sizes} tracks, {n_frames} frames: clusters found {result.clusters.n_clusters}; adjusted Rand "
          f"index {ari:.3f}\ngap {np.round(result.clusters.gap, 2)} ± {np.round(result.clusters.gap_se, 2)}; "
          f"BIC {np.round(result.clusters.bic, 0)}\n{result.summary.to_string(float_format='%.4g')}")
    assert result.clusters.n_clusters == 3
    assert ari >= 0.9
    # clusters are ordered by short-time D: slow free, trapped, fast free
    names = [truth[result.features["cluster"] == c].mode()[0] for c in range(3)]
    assert names == ["slow", "trapped", "fast"]
    for c, name in ((0, "slow"), (2, "fast")):
        row = result.summary.loc[c]
        assert row["D"] == pytest.approx(truth_d[name], rel=0.05)
        assert abs(row["D"] - truth_d[name]) < 4 * row["D_err"] + 0.01 * truth_d[name]
        assert row["alpha"] > 0.7
    assert result.summary.loc[1, "alpha"] < 0.6
    assert set(result.tracks["cluster"]) == {0, 1, 2}


@pytest.mark.parametrize("population", [Population("free", 150, 0.2), Population("trap", 150, 0.2, 0.005)],
                         ids=["free", "trapped"])
@pytest.mark.parametrize("n_frames", [200, (30, 300)], ids=["equal", "mixed-lengths"])
def test_a_single_population_gives_one_cluster(population: Population, n_frames: int | tuple[int, int]) -> None:
    """No structure → the gap statistic's k = 1 rule (Gap(1) ≥ Gap(k*) − s_k*, k* the largest gap)."""
    tracks = simulate_tracks([population], n_frames=n_frames, frame_interval=DT, sigma=0.02, seed=9)
    result = analyse_tracks(tracks, DT)
    assert result.clusters.n_clusters == 1
    assert not gap_structure(result.clusters.gap, result.clusters.gap_se)[0]
    assert set(result.features["cluster"]) == {0}


def test_three_populations_of_20_tracks_are_found_though_no_two_way_cut_beats_the_reference() -> None:
    """The tester's file (``track simulate --tracks 20 --frames 50-100``): 20 tracks each of D = 0.05
    and 0.5 µm²/s and a trap. Any cut in two merges two populations, so Gap(2) − s₂ stays below
    Gap(1) and Tibshirani's first-step rule said "no structure" (ARI 0); the largest gap, at
    k = 3, is many standard errors above Gap(1) (Dudoit & Fridlyand's global rule)."""
    table = example_tracks(n_tracks=20, n_frames=(50, 100), seed=0)
    result = analyse_tracks(table.drop(columns="population"), 0.01, pixel_size=0.1)
    gap, se = result.clusters.gap, result.clusters.gap_se
    assert gap[0] >= gap[1] - se[1]  # the first-step rule alone would stop at k = 1
    assert gap_structure(gap, se) == (True, 3)
    truth = table.groupby("particle")["population"].first().loc[result.features.index]
    assert result.clusters.n_clusters == 3
    assert adjusted_rand_score(truth, result.features["cluster"]) >= 0.9
    # and on other seeds of the same design structure is found every time
    for seed in range(1, 6):
        again = example_tracks(n_tracks=20, n_frames=(50, 100), seed=seed).drop(columns="population")
        assert analyse_tracks(again, 0.01, pixel_size=0.1, seed=seed).clusters.n_clusters >= 2


def test_two_free_populations_give_two_clusters() -> None:
    tracks = simulate_tracks([Population("slow", 80, 0.05), Population("fast", 80, 0.5)], n_frames=(50, 300),
                             frame_interval=DT, sigma=0.02, seed=4)
    features = track_features(tracks, DT)
    clusters = cluster_tracks(features)
    assert clusters.n_clusters == 2
    assert adjusted_rand_score(_truth(tracks, features.index), clusters.labels) >= 0.95


def test_at_most_one_cluster_puts_every_track_in_it() -> None:
    """k_max = 1 leaves nothing to compare (it was an IndexError on Gap(2))."""
    tracks = simulate_tracks([Population("slow", 30, 0.05), Population("fast", 30, 0.5)], n_frames=100,
                             frame_interval=DT, sigma=0.02, seed=4)
    clusters = cluster_tracks(track_features(tracks, DT), k_max=1)
    assert clusters.n_clusters == 1
    assert set(clusters.labels) == {0}


def test_clustering_is_seeded_and_leaves_short_tracks_out() -> None:
    tracks = simulate_tracks([Population("slow", 40, 0.05), Population("fast", 40, 0.5)], n_frames=(3, 150),
                             frame_interval=DT, seed=12)
    first, second = analyse_tracks(tracks, DT, seed=1), analyse_tracks(tracks, DT, seed=1)
    np.testing.assert_array_equal(first.clusters.gap, second.clusters.gap)
    short = first.features["n_points"] < 10
    assert short.any()
    assert (first.features.loc[short, "cluster"] == -1).all()
    assert (first.features.loc[~short, "cluster"] >= 0).all()


# --- linking -----------------------------------------------------------------------------------

def _sparse(seed: int = 16) -> pd.DataFrame:
    """40 particles in a 2000 × 2000 px field, rms step 1.4 px per frame, 100 frames.

    Random walkers can meet; this seed keeps every pair more than 30 px apart in every frame
    (checked), i.e. sparse for search ranges up to 10 px.
    """
    tracks = simulate_tracks([Population("p", 40, 100.0)], n_frames=100, frame_interval=DT, sigma=0.3, field=2000,
                             seed=seed)
    closest = min(cKDTree(xy := g[["x", "y"]].to_numpy()).query(xy, k=2)[0][:, 1].min()
                  for _, g in tracks.groupby("frame"))
    assert closest > 30.0
    return tracks


def test_linking_with_trackpy_recovers_the_true_identities() -> None:
    truth = _sparse()
    detections = truth.drop(columns="particle").sample(frac=1.0, random_state=0)
    linked = link_tracks(detections, search_range=8.0)
    merged = linked.merge(truth, on=["frame", "x", "y"], suffixes=("", "_true"))
    assert len(merged) == len(truth)
    assert linked["particle"].nunique() == truth["particle"].nunique()
    assert adjusted_rand_score(merged["particle_true"], merged["particle"]) == 1.0


def test_linking_memory_bridges_missed_detections() -> None:
    truth = _sparse()
    missed = truth.drop(truth.sample(frac=0.05, random_state=1).index)
    detections = missed.drop(columns="particle")
    bridged = link_tracks(detections, search_range=10.0, memory=3).merge(missed, on=["frame", "x", "y"],
                                                                         suffixes=("", "_true"))
    assert adjusted_rand_score(bridged["particle_true"], bridged["particle"]) == 1.0
    split = link_tracks(detections, search_range=10.0)
    assert split["particle"].nunique() > truth["particle"].nunique()


def test_tracks_from_table_links_only_without_particle_column() -> None:
    truth = _sparse()
    assert tracks_from_table(truth)["particle"].tolist() == truth["particle"].tolist()
    with pytest.raises(ValueError, match="no particle column: give search_range"):
        tracks_from_table(truth.drop(columns="particle"))
    with pytest.raises(ValueError, match="search_range must be a finite number > 0"):
        link_tracks(truth, search_range=0.0)
    with pytest.raises(ValueError, match="memory must be an integer >= 0"):
        link_tracks(truth, search_range=5.0, memory=-1)


def test_pipeline_from_csv_bytes_links_and_reports_in_micrometres() -> None:
    """Upload path: CSV bytes without particle ids, px → µm with the pixel size."""
    pixel = 0.05
    truth = simulate_tracks([Population("free", 30, 0.2 / pixel**2)], n_frames=150, frame_interval=DT,
                            sigma=0.4, field=2000, seed=16)
    data = truth.drop(columns=["particle", "population"]).to_csv(index=False).encode()
    result = analyse_tracks(read_tracks(data), DT, pixel_size=pixel, search_range=15.0)
    assert result.unit == "µm"
    assert result.tracks["particle"].nunique() == 30
    assert result.summary.loc[0, "D"] == pytest.approx(0.2, rel=0.05)


# --- simulator ---------------------------------------------------------------------------------

def test_simulator_is_seeded_and_checks_its_input() -> None:
    pops = [Population("a", 3, 1.0), Population("b", 2, 1.0, trap_variance=0.1)]
    a = simulate_tracks(pops, n_frames=(5, 20), seed=3)
    pd.testing.assert_frame_equal(a, simulate_tracks(pops, n_frames=(5, 20), seed=3))
    assert not a.equals(simulate_tracks(pops, n_frames=(5, 20), seed=4))
    assert list(a.columns) == ["frame", "x", "y", "particle", "population"]
    assert a.groupby("particle")["population"].first().tolist() == ["a", "a", "a", "b", "b"]
    with pytest.raises(ValueError, match="diffusion must be a finite number > 0"):
        Population("c", 1, -1.0)
    with pytest.raises(ValueError, match="names must differ"):
        simulate_tracks([Population("a", 1, 1.0), Population("a", 1, 2.0)])
    with pytest.raises(ValueError, match="n_frames must be"):
        simulate_tracks(pops, n_frames=1)


# --- bad input ---------------------------------------------------------------------------------

BAD_CSV = [
    ("empty", b"", "the CSV file is empty"),
    ("header only", b"frame,x,y\n", "has a header but no rows"),
    ("missing y", b"frame,x\n0,1.0\n",
     "missing column y; needed: frame, x, y (and optionally particle); found: frame, x"),
    ("semicolons", b"frame;x;y\n0;1;2\n", "missing columns frame, x, y"),
    ("text in x", b"frame,x,y\n0,1.0,2.0\n1,abc,2.0\n", "column 'x' has a non-numeric value 'abc' at line 3"),
    ("empty cell", b"frame,x,y\n0,1.0,2.0\n1,,2.0\n", "column 'x' has a missing value (empty or NaN) at line 3"),
    ("NaN", b"frame,x,y\n0,1.0,NaN\n", "column 'y' has a missing value (empty or NaN) at line 2"),
    ("infinite", b"frame,x,y\n0,inf,2\n", "column 'x' has an infinite value at line 2"),
    ("negative frame", b"frame,x,y\n-1,1,2\n", "column 'frame' must hold integers >= 0; line 2 has -1"),
    ("fractional frame", b"frame,x,y\n0,1,2\n1.5,1,2\n", "column 'frame' must hold whole numbers; line 3 has 1.5"),
    ("fractional particle", b"frame,x,y,particle\n0,1,2,0.5\n", "column 'particle' must hold whole numbers"),
    ("duplicate", b"frame,x,y,particle\n0,1,2,7\n1,1,2,7\n1,3,4,7\n",
     "particle 7 appears more than once in frame 1 (line 3 and line 4)"),
    ("twice named", b"frame,x,X,y\n0,1,2,3\n", "column 'x' appears 2 times"),
    ("not text", b"\xff\xfe\x00\x00\x81\x82", "not a text CSV file"),
    ("ragged", b"frame,x,y\n0,1,2\n1,2,3,4,5\n", "not a readable CSV file"),
    ("absurd x", b"frame,x,y\n0,1,2\n1,1e308,2\n",
     "column 'x' has 1e+308 at line 3; positions must lie within ±1e+09"),
    ("absurd y", b"frame,x,y\n0,1,-2e9\n", "column 'y' has -2e+09 at line 2; positions must lie within ±1e+09"),
    ("frame beyond 2^53", b"frame,x,y\n0,1,2\n1e20,1,2\n",
     "column 'frame' must hold integers up to 2^53 = 9007199254740992; line 3 has 1e+20"),
]


@pytest.mark.parametrize(("content", "message"), [(c, m) for _, c, m in BAD_CSV], ids=[n for n, _, _ in BAD_CSV])
def test_every_bad_csv_gets_its_message(content: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        read_tracks(content)


def test_a_good_csv_is_read_with_extra_columns_and_loose_headers() -> None:
    text = " Frame , X ,y,mass,Particle\n1,1.5,2.5,10,4\n0,0.5,2.0,11,4\n0,9,9,12,2\n"
    table = read_tracks(io.StringIO(text))
    assert list(table.columns) == ["frame", "x", "y", "mass", "particle"]
    assert table[["particle", "frame"]].to_numpy().tolist() == [[2, 0], [4, 0], [4, 1]]
    assert table["frame"].dtype == np.int64 and table["x"].dtype == np.float64
    with pytest.raises(ValueError, match="missing column particle"):
        read_tracks(b"frame,x,y\n0,1,2\n", require_particle=True)
    with pytest.raises(ValueError, match="at most 1 are allowed"):
        read_tracks(b"frame,x,y\n0,1,2\n1,1,2\n", max_rows=1)


# --- frame spans and sizes that cannot be analysed ----------------------------------------------

def test_a_far_off_frame_number_is_refused_before_any_array_is_sized_by_it() -> None:
    """A corrupt row (frame 99999999999) made a (tracks × 10¹¹) array: 43.7 TiB."""
    tracks = simulate_tracks([Population("p", 3, 0.2)], n_frames=20, frame_interval=DT, seed=1)
    bad = pd.concat([tracks, pd.DataFrame({"frame": [99_999_999_999], "x": [1.0], "y": [1.0], "particle": [0]})])
    start = int(tracks.loc[tracks["particle"] == 0, "frame"].min())
    for call in (lambda: track_msd(bad, DT), lambda: analyse_tracks(bad, DT), lambda: track_features(bad, DT)):
        with pytest.raises(ValueError, match=f"particle 0 spans frames {start} to 99999999999 "
                                             r"\(99,999,999,\d+ frames .*at most 1,000,000 frames"):
            call()


def test_too_many_tracks_times_lags_are_refused_with_the_longest_track_named() -> None:
    """21 tracks, each two positions 10⁶ frames apart: 21 × 10⁶ MSD values > 2 × 10⁷."""
    far = pd.DataFrame({"frame": np.tile([0, 1_000_000], 21), "x": 1.0, "y": 2.0,
                        "particle": np.repeat(np.arange(21), 2)})
    with pytest.raises(ValueError, match="21 tracks × 1,000,000 lags make 21,000,000 MSD values; at most 20,000,000 "
                                         r"are allowed \(the longest track, particle 0, spans frames 0 to 1000000\)"):
        track_msd(far, DT)


def test_positions_scaled_beyond_the_limit_are_refused_not_overflowed() -> None:
    """x = 1e300 px × pixel_size 1e10 would be inf µm; step rms = inf was printed."""
    tracks = simulate_tracks([Population("p", 2, 0.2)], n_frames=20, frame_interval=DT, seed=1)
    with pytest.raises(ValueError, match="positions × pixel_size reach .* µm; they must lie within ±1e\\+09 µm"):
        track_msd(tracks, DT, pixel_size=1e300)
    with pytest.raises(ValueError, match="positions × pixel_size reach"):
        track_features(tracks, DT, pixel_size=1e300, msd=track_msd(tracks, DT))
