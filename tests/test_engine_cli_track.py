"""``matloop track``: simulate tracks with known populations, cluster them, read the per-track CSV back.

Truth from outside the analysis: the simulator's ``population`` column (which the analysis does not
use), the populations' true diffusion coefficients, and the exact change of units between px and
frames and µm and s.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from engine.cli import main

TRUE_D = {"slow": 0.05, "fast": 0.5}  # µm²/s, engine.analysis.tracking.tracks.example


def _clusters_printed(printed: str) -> int:
    found = re.findall(r"^(\d+) clusters?: ", printed, flags=re.MULTILINE)
    assert len(found) == 1, printed
    return int(found[0])


def _truth(simulated: Path) -> pd.Series:
    return pd.read_csv(simulated).groupby("particle")["population"].first()


def test_three_simulated_populations_give_three_clusters_that_match_the_truth(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tracks, out = tmp_path / "tracks.csv", tmp_path / "per_track.csv"
    assert main(["track", "simulate", "--out", str(tracks), "--seed", "5"]) == 0
    assert "180 tracks" in capsys.readouterr().out
    assert main(["track", "tracks", str(tracks), "--pixel-size", "0.1", "--frame-interval", "0.01",
                 "--csv", str(out)]) == 0
    printed = capsys.readouterr().out
    assert _clusters_printed(printed) == 3
    assert "D ± s.e. (µm²/s)" in printed and "wrote" in printed
    table = pd.read_csv(out)
    assert len(table) == 180 and table["particle"].is_unique
    assert {"cluster", "D (µm²/s)", "alpha", "log10_rg_ratio", "duration (s)"} <= set(table.columns)
    truth = _truth(tracks).loc[table["particle"]].to_numpy()
    assert adjusted_rand_score(truth, table["cluster"]) >= 0.9
    # each cluster is mostly one population, and the free ones have their true D (median of the per-track D)
    for cluster, members in table.groupby("cluster"):
        name = pd.Series(truth[members.index]).mode()[0]
        if name in TRUE_D:
            assert members["D (µm²/s)"].median() == pytest.approx(TRUE_D[name], rel=0.1)
        else:  # trapped: MSD exponent well below free diffusion's 1
            assert members["alpha"].mean() < 0.6
    # the table printed has one line per cluster, with the number of tracks found in the CSV
    for cluster, count in table["cluster"].value_counts().items():
        assert re.search(rf"^\s+{cluster}\s+{count}\s+\d", printed, flags=re.MULTILINE), printed


def test_units_change_exactly_between_pixels_and_frames_and_micrometres_and_seconds(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pixel, dt = 0.2, 0.02
    tracks = tmp_path / "tracks.csv"
    assert main(["track", "simulate", "--out", str(tracks), "--tracks", "20", "--frames", "100",
                 "--pixel-size", str(pixel), "--frame-interval", str(dt)]) == 0
    assert main(["track", "tracks", str(tracks), "--csv", str(tmp_path / "px.csv")]) == 0
    assert "D ± s.e. (px²/frame)" in capsys.readouterr().out
    assert main(["track", "tracks", str(tracks), "--pixel-size", str(pixel), "--frame-interval", str(dt),
                 "--csv", str(tmp_path / "um.csv")]) == 0
    px, um = pd.read_csv(tmp_path / "px.csv"), pd.read_csv(tmp_path / "um.csv")
    np.testing.assert_allclose(px["D (px²/frame)"] * pixel**2 / dt, um["D (µm²/s)"], rtol=1e-9)
    np.testing.assert_allclose(px["step rms (px)"] * pixel, um["step rms (µm)"], rtol=1e-9)
    np.testing.assert_allclose(px["duration (frame)"] * dt, um["duration (s)"], rtol=1e-9)
    np.testing.assert_allclose(px["alpha"], um["alpha"], rtol=1e-9)  # dimensionless
    np.testing.assert_array_equal(px["cluster"], um["cluster"])


def test_detections_without_particle_ids_are_linked_then_clustered(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    detections, out = tmp_path / "detections.csv", tmp_path / "per_track.csv"
    assert main(["track", "simulate", "--out", str(detections), "--detections", "--seed", "2"]) == 0
    assert "particle" not in pd.read_csv(detections, nrows=1).columns
    suggested = re.search(r"--link (\S+)", capsys.readouterr().out).group(1)
    assert main(["track", "tracks", str(detections), "--pixel-size", "0.1", "--frame-interval", "0.01",
                 "--link", suggested, "--csv", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "linked with search range" in printed and _clusters_printed(printed) == 3
    table = pd.read_csv(out)
    # trackpy finds the 180 tracks (a few swap identities where two particles meet, so the per-track
    # table carries no population column), and the clusters hold about 60 tracks each, as simulated
    assert len(table) == 180
    assert np.all(np.abs(table["cluster"].value_counts().to_numpy() - 60) <= 6), table["cluster"].value_counts()


def test_one_population_gives_one_cluster_with_the_gap_statistic_as_the_reason(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from engine.analysis.tracking.tracks import Population, simulate_tracks

    tracks = tmp_path / "one.csv"
    simulate_tracks([Population("free", 120, 20.0)], n_frames=(50, 300), frame_interval=0.01, sigma=0.2, field=500,
                    seed=4).to_csv(tracks, index=False)  # px: D = 0.2 µm²/s at 0.1 µm/px
    assert main(["track", "tracks", str(tracks), "--pixel-size", "0.1", "--frame-interval", "0.01",
                 "--csv", str(tmp_path / "out.csv")]) == 0
    printed = capsys.readouterr().out
    assert _clusters_printed(printed) == 1
    assert "1 cluster: no structure (gap statistic: Gap(1) = " in printed
    table = pd.read_csv(tmp_path / "out.csv")
    assert (table["cluster"] == 0).all() and "adjusted Rand index" not in printed
    assert table["D (µm²/s)"].median() == pytest.approx(0.2, rel=0.1)


@pytest.mark.parametrize(("args", "message"), [
    (["missing.csv"], "missing.csv: no such file"),
    (["."], ".: is a directory; give a tracks CSV file"),
    (["empty.csv"], "empty.csv: the CSV file is empty"),
    (["nocolumns.csv"], "nocolumns.csv: missing column y; needed: frame, x, y (and optionally particle); found: "
                        "frame, x"),
    (["nan.csv"], "nan.csv: column 'x' has a missing value (empty or NaN) at line 3"),
    (["text.csv"], "text.csv: column 'y' has a non-numeric value 'abc' at line 2"),
    (["good.csv", "--pixel-size", "-0.1"], "--pixel-size must be a finite number > 0 (µm per px), got -0.1"),
    (["good.csv", "--pixel-size", "0"], "--pixel-size must be a finite number > 0"),
    (["good.csv", "--frame-interval", "-1"], "--frame-interval must be a finite number > 0 (s), got -1"),
    (["good.csv", "--frame-interval", "inf"], "--frame-interval must be a finite number > 0"),
    (["good.csv", "--frame-interval", "soon"], "argument --frame-interval: invalid float value: 'soon'"),
    (["good.csv", "--csv", "nodir/out.csv"], "cannot write nodir/out.csv: directory nodir does not exist"),
    (["good.csv", "--csv", "adir"], "cannot write adir: it is a directory"),
    (["good.csv", "--csv", "good.csv"], "cannot write good.csv: it is the input file"),
    (["good.csv", "--csv", "out.txt"], "cannot write out.txt: give a file name ending in .csv"),
    (["good.csv", "--csv", "/proc/out.csv"], "cannot write /proc/out.csv"),
    (["good.csv", "--max-clusters", "1"], "--max-clusters must be 2 to 20, got 1"),
    (["good.csv", "--min-points", "4"], "--min-points must be at least 5 (positions), got 4"),
    (["good.csv", "--min-points", "500"], "good.csv: no track has 500 positions or more (longest: 20)"),
    (["good.csv", "--link", "3"], "--link and --memory apply to files without a particle column; good.csv has one"),
    (["detections.csv"], "detections.csv has no particle column: give --link SEARCH_RANGE"),
    (["detections.csv", "--link", "-2"], "--link must be a finite number > 0"),
    (["detections.csv", "--link", "2", "--memory", "-1"], "--memory must be an integer >= 0 (frames), got -1"),
    (["detections.csv", "--memory", "2"], "--memory applies with --link"),
])
def test_bad_input_is_one_error_line_without_traceback(tmp_path: Path, args: list[str], message: str,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    rows = "".join(f"{f},{f * 0.1},{1 + f * 0.2},0\n" for f in range(20))
    (tmp_path / "good.csv").write_text("frame,x,y,particle\n" + rows)
    (tmp_path / "detections.csv").write_text("frame,x,y\n" + "".join(f"{f},{f * 0.1},1\n" for f in range(20)))
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "nocolumns.csv").write_text("frame,x\n0,1\n")
    (tmp_path / "nan.csv").write_text("frame,x,y,particle\n0,1,2,0\n1,nan,2,0\n")
    (tmp_path / "text.csv").write_text("frame,x,y\n0,1,abc\n")
    (tmp_path / "adir").mkdir()
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    try:
        code = main(["track", "tracks", *args])
    except SystemExit as exc:  # argparse's own errors exit through the parser
        code = exc.code
    captured = capsys.readouterr()
    assert code == 2, captured.out + captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("matloop: error: ") and message in lines[0], captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    assert (tmp_path / "good.csv").read_text().endswith(rows)


@pytest.mark.parametrize(("args", "message"), [
    (["--frames", "3"], "argument --frames: positions per track must be at least 5"),
    (["--frames", "300-50"], "argument --frames: positions per track must be at least 5 (and LOW <= HIGH)"),
    (["--frames", "many"], "expected N or LOW-HIGH positions per track, got 'many'"),
    (["--tracks", "0"], "--tracks must be 1 to 100000 (per population), got 0"),
    (["--pixel-size", "-1"], "--pixel-size must be a finite number > 0"),
    (["--sigma", "-0.1"], "--sigma must be a finite number >= 0 (µm), got -0.1"),
])
def test_bad_simulate_settings_are_one_error_line(tmp_path: Path, args: list[str], message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["track", "simulate", "--out", str(tmp_path / "x.csv"), *args])
    except SystemExit as exc:
        code = exc.code
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "x.csv").exists()


def test_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("frame,x,y,particle\n0,1,2,0\n0,3,4,0\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATLOOP_")}
    result = subprocess.run([sys.executable, "-m", "engine.cli", "track", "tracks", "bad.csv"], capture_output=True,
                            text=True, cwd=tmp_path, env=env, timeout=180)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "matloop: error: bad.csv: particle 0 appears more than once in frame 0 (line 2 and line 3); each particle "
        "may have one position per frame"]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(("extra_row", "message"), [
    ("99999999999,1,1,0", "corrupt.csv: particle 0 spans frames 0 to 99999999999 (99,999,999,999 frames from its "
                          "first to its last position); a track may span at most 1,000,000 frames"),
    ("20,1e308,1,0", "corrupt.csv: column 'x' has 1e+308 at line 22; positions must lie within ±1e+09"),
])
def test_a_corrupt_row_is_one_error_line_not_a_memory_error_or_inf(tmp_path: Path, extra_row: str, message: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A far-off frame number sized a dense array by the frame span (43.7 TiB, a traceback); x = 1e308
    overflowed to ``step rms = inf`` with exit status 0."""
    rows = "".join(f"{f},{f * 0.1},{1 + f * 0.2},0\n" for f in range(20))
    (tmp_path / "corrupt.csv").write_text("frame,x,y,particle\n" + rows + extra_row + "\n")
    assert main(["track", "tracks", str(tmp_path / "corrupt.csv")]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("matloop: error: ") and message in lines[0], captured.err
    assert "inf" not in captured.out


@pytest.mark.parametrize("action", [["simulate", "--out", "x.csv"], ["tracks", "x.csv"]])
def test_a_negative_seed_names_the_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, action: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("frame,x,y,particle\n" + "".join(f"{f},{f * 0.1},1,0\n" for f in range(20)))
    assert main(["track", *action, "--seed", "-1"]) == 2
    assert capsys.readouterr().err.strip() == "matloop: error: --seed must be an integer >= 0, got -1"


def test_long_tracks_get_their_msd_up_to_the_lags_that_fit(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Tracks × lags above MAX_MSD_VALUES were refused with advice only Python could take; now the MSD
    stops at the lags that fit (never fewer than the fits read) or at --max-lag, and D is right. The
    bound is lowered a hundredfold (2e5) so that the file stays small."""
    from engine.analysis.tracking.tracks import analysis, msd

    monkeypatch.setattr(msd, "MAX_MSD_VALUES", 200_000)
    monkeypatch.setattr(analysis, "MAX_MSD_VALUES", 200_000)
    rng = np.random.default_rng(5)
    frames = np.r_[np.arange(40), 9_000]         # 41 positions; the last one 9 000 frames on
    rows = []
    for particle in range(25):                   # 25 tracks × 9 000 lags: 225 000 MSD values
        steps = rng.normal(0.0, 0.3, (len(frames), 2))
        steps[-1] *= np.sqrt(9_000 - 39)          # the same diffusion over the long gap
        xy = 100 + np.cumsum(steps, axis=0)
        rows += [f"{f},{x:.4f},{y:.4f},{particle}\n" for f, (x, y) in zip(frames, xy)]
    (tmp_path / "long.csv").write_text("frame,x,y,particle\n" + "".join(rows))
    assert main(["track", "tracks", str(tmp_path / "long.csv"), "--max-lag", "9000"]) == 2
    err = capsys.readouterr().err
    assert "25 tracks × 9,000 lags make 225,000 MSD values; at most 200,000" in err
    assert "give a smaller --max-lag" in err
    assert main(["track", "tracks", str(tmp_path / "long.csv"), "--max-lag", "5"]) == 2
    assert "--max-lag must be an integer >= 10" in capsys.readouterr().err
    for extra, last in (([], 8_000), (["--max-lag", "30"], 30)):
        assert main(["track", "tracks", str(tmp_path / "long.csv"), *extra, "--csv", str(tmp_path / "out.csv")]) == 0
        assert f"MSD computed up to a lag of {last:,} frames (the longest track spans 9,000" in capsys.readouterr().out
        table = pd.read_csv(tmp_path / "out.csv")
        assert len(table) == 25
        # steps of 0.3 px per coordinate: MSD(1 frame) = 2 × 0.3² = 4 D, D = 0.045 px²/frame
        assert np.median(table.filter(like="D (").iloc[:, 0]) == pytest.approx(0.045, rel=0.25)
