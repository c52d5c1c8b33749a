"""The Particle tracks page (AppTest): the example's populations found, bad files and settings refused visibly.

Truth from outside the page: the simulated populations (their true D, and the ``population``
column the analysis does not use).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.analysis.tracking.tracks.example import example_tracks

APP = str(Path(__file__).parents[1] / "ui" / "app.py")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, store_dir: Path) -> Path:
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    monkeypatch.setenv("MATLOOP_EXECUTOR", "local")
    return store_dir


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("views/tracks.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Particle tracks"
    return at


def widget(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def cluster(at: AppTest) -> AppTest:
    button = widget(at.button, "Cluster tracks")
    assert not button.disabled
    button.click().run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    widget(at.radio, "Source").set_value("Upload a CSV file").run()
    at.file_uploader[0].set_value((name, data, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def test_the_example_gives_three_clusters_with_the_true_diffusion_coefficients(env: Path) -> None:
    at = cluster(open_page())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Tracks": "180", "Clustered": "180", "Clusters": "3"}
    assert any(m.value.startswith("**Number of clusters.** 3 clusters: the tracks have structure") for m in at.markdown)
    counts = at.dataframe[1].value  # tracks of each true population in each cluster
    assert list(counts.columns) == ["cluster 0", "cluster 1", "cluster 2"]
    assert counts.loc["slow", "cluster 0"] >= 57 and counts.loc["trapped", "cluster 1"] >= 57
    assert counts.loc["fast", "cluster 2"] >= 57
    summary = at.dataframe[0].value
    assert summary["tracks"].sum() == 180 and len(summary) == 3
    assert {"D (µm²/s)", "D s.e. (µm²/s)", "alpha", "σ (µm)"} <= set(summary.columns)
    # clusters ordered by short-time D: slow free (0.05 µm²/s), trapped (α well below 1), fast free (0.5 µm²/s)
    assert summary["D (µm²/s)"].iloc[0] == pytest.approx(0.05, rel=0.05)
    assert summary["D (µm²/s)"].iloc[2] == pytest.approx(0.5, rel=0.05)
    assert summary["alpha"].iloc[1] < 0.6 and summary["motion"].iloc[1] == "confined or subdiffusive"
    agreement = next(m.value for m in at.markdown if "adjusted Rand index" in m.value)
    assert float(re.search(r"adjusted Rand index ([0-9.]+)", agreement).group(1)) >= 0.9
    assert len(at.get("plotly_chart")) == 3  # MSD, features, tracks in the plane
    labels = [b.label for b in at.get("download_button")]
    assert "Per-track results (CSV, 180 rows)" in labels and "Per-cluster summary (CSV)" in labels
    # another setting: the old result is not shown as if it were the new one
    widget(at.number_input, "Most clusters").set_value(4).run()
    assert not at.get("plotly_chart") and "settings changed" in at.info[0].value


@pytest.mark.parametrize(("name", "data", "message"), [
    ("columns.csv", b"frame,x\n0,1\n1,2\n", "Cannot use columns.csv: missing column y; needed: frame, x, y"),
    ("nan.csv", b"frame,x,y,particle\n0,1,2,0\n1,,2,0\n", "Cannot use nan.csv: column 'x' has a missing value"),
    ("twice.csv", b"frame,x,y,particle\n0,1,2,0\n0,1,3,0\n", "particle 0 appears more than once in frame 0"),
    ("picture.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "Cannot use picture.csv: not a"),
    ("empty.csv", b"", "Cannot use empty.csv: the CSV file is empty"),
    ("big.csv", b"frame,x,y\n" + b" " * (20 * 2**20 - 10 + 1), "the file has 20,971,521 bytes; at most 20,971,520 are"),
])
def test_a_bad_file_gives_an_error_box_with_the_reason(env: Path, name: str, data: bytes, message: str) -> None:
    at = upload(open_page(), name, data)
    assert len(at.error) == 1 and message in at.error[0].value, [e.value for e in at.error]
    assert widget(at.button, "Cluster tracks").disabled
    assert not at.metric and not at.get("plotly_chart")


def test_too_short_tracks_are_an_error_box_not_a_traceback(env: Path) -> None:
    rows = "".join(f"{f},{f},{f},{p}\n" for p in range(3) for f in range(4))
    at = cluster(upload(open_page(), "short.csv", ("frame,x,y,particle\n" + rows).encode()))
    assert len(at.error) == 1
    assert at.error[0].value == ("Cannot cluster these tracks: no track has 10 positions or more (longest: 4); "
                                 "lower the shortest track clustered (at least 5 positions)")
    assert not at.metric


@pytest.mark.parametrize(("label", "value", "message"), [
    ("Pixel size (µm/px)", -0.1, "Pixel size (µm/px) must be more than 0 and at most 100 µm/px, not -0.1 µm/px"),
    ("Pixel size (µm/px)", 0.0, "Pixel size (µm/px) must be more than 0 and at most 100 µm/px, not 0 µm/px"),
    ("Frame interval (s)", -1.0, "Frame interval (s) must be more than 0 and at most 3600 s, not -1 s"),
    ("Most clusters", 1, "Most clusters must be 2 to 12 (one cluster is always considered), not 1"),
    ("Shortest track clustered (positions)", 3, "must be 5 to 10000 positions, not 3 positions"),
])
def test_out_of_range_settings_are_refused_visibly(env: Path, label: str, value: float, message: str) -> None:
    at = open_page()
    widget(at.number_input, label).set_value(value).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(message in e for e in errors), errors
    assert any(e.startswith(f"Clustering waits for inputs in range: {label}") for e in errors), errors
    assert widget(at.button, "Cluster tracks").disabled


def test_detections_are_linked_with_the_search_range_then_clustered(env: Path) -> None:
    detections = example_tracks(seed=3).drop(columns=["particle", "population"]).sort_values("frame")
    at = upload(open_page(), "detections.csv", detections.to_csv(index=False).encode())
    assert any("no particle column: detections to link" in c.value for c in at.caption)
    search = widget(at.number_input, "Linking search range (px)")
    search.set_value(0.0).run()
    assert any("Linking search range (px) must be more than 0" in e.value for e in at.error)
    assert widget(at.button, "Cluster tracks").disabled
    widget(at.number_input, "Linking search range (px)").set_value(7.0).run()
    at = cluster(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Clusters"] == "3" and metrics["Tracks"] == "180"
    summary = at.dataframe[0].value
    assert summary["D (µm²/s)"].iloc[2] == pytest.approx(0.5, rel=0.05)


def test_a_job_id_in_the_url_is_a_warning_and_the_page_still_works(env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["job"] = "0" * 32
    at.run()
    at.switch_page("views/tracks.py").run()
    assert not at.exception
    assert "No job with id" in at.warning[0].value
    assert widget(at.button, "Cluster tracks") is not None
