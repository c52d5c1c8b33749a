"""Particle tracks page: upload tracks (or use the example), measure D, cluster the tracks into populations.

Thin over :func:`engine.analysis.tracking.tracks.analyse_tracks`, which takes well under a second
for a few hundred tracks (about 1000 tracks/s), so it runs in the page, under a spinner, not as a
job. The page runs no jobs: a ``?job=`` id in the URL gets a message naming the job's own page.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from engine.analysis.tracking.tracks import TrackAnalysis, analyse_tracks, read_tracks
from engine.analysis.tracking.tracks.example import (EXAMPLE_FRAME_INTERVAL, EXAMPLE_PIXEL_SIZE, example_populations,
                                                     example_tracks)
from engine.analysis.tracking.tracks.report import CONFINED_ALPHA, cluster_choice, summary_table, track_table
from ui.common import CheckedNumbers, open_store, show_error
from ui.job_panel import attached_job_id, no_jobs_here
from ui.tracks_figures import MAX_DRAWN_POSITIONS, MAX_DRAWN_TRACKS, feature_figure, msd_figure, plane_figure

#: Largest upload, bytes (about 600 000 positions), and most rows read.
MAX_UPLOAD_BYTES = 20 * 2**20
MAX_ROWS = 1_000_000
EXAMPLE = "Example: three simulated populations"
UPLOAD = "Upload a CSV file"
#: Engine option names in messages → the page's labels.
_LABELS = {"search_range": "the linking search range", "min_points": "the shortest track clustered"}


@st.cache_data(show_spinner=False, max_entries=4)
def example_table(seed: int) -> pd.DataFrame:
    return example_tracks(seed=seed)


@st.cache_data(show_spinner=False, max_entries=4)
def read_upload(data: bytes) -> pd.DataFrame:
    return read_tracks(data, max_rows=MAX_ROWS)


def friendly(message: str, linking: bool) -> str:
    """An engine message in the page's words (its settings by their labels)."""
    if message.startswith("no track has"):  # the engine's advice names keyword arguments
        advice = "raise the linking search range or memory, or " if linking else ""
        return f"{message.split(';')[0]}; {advice}lower the shortest track clustered (at least 5 positions)"
    for name, label in _LABELS.items():
        message = message.replace(name, label)
    return message


def show_result(result: TrackAnalysis, pixel_size: float, truth: pd.Series | None, name: str) -> None:
    """Numbers, the reason for k, the per-cluster table, the figures and the downloads."""
    n_tracks = len(result.features)
    clustered = int((result.features["cluster"] >= 0).sum())
    cols = st.columns(3)
    cols[0].metric("Tracks", f"{n_tracks:,}")
    cols[1].metric("Clustered", f"{clustered:,}", help="tracks with at least the shortest length clustered; the "
                   "others are measured but not clustered (grey)")
    cols[2].metric("Clusters", result.clusters.n_clusters, help="chosen from the data: the gap statistic decides "
                   "whether there is structure at all, then the BIC how many clusters")
    st.markdown(f"**Number of clusters.** {cluster_choice(result.clusters)}.")
    summary = summary_table(result)
    d = "µm²/s"
    st.dataframe(summary, hide_index=True, column_config={
        "cluster": st.column_config.NumberColumn("cluster", help="ordered by short-time D, slowest first"),
        "tracks": st.column_config.NumberColumn("tracks"),
        f"D ({d})": st.column_config.NumberColumn(f"D ({d})", format="%.4g", help="line through the first points of "
                                                  "the cluster's ensemble MSD, Michalet's (2010) optimal number"),
        f"D s.e. ({d})": st.column_config.NumberColumn(f"± s.e. ({d})", format="%.2g", help="standard error of D"),
        f"D spread ({d})": st.column_config.NumberColumn(f"spread ({d})", format="%.3g",
                                                         help="standard deviation of the per-track D"),
        f"D short-time ({d})": st.column_config.NumberColumn(f"short-time D ({d})", format="%.4g",
                                                             help="median over tracks of D from the first 4 lags"),
        "alpha": st.column_config.NumberColumn("α", format="%.2f", help="MSD exponent (first 10 lags), mean over "
                                               "tracks: 1 free diffusion, < 1 confined or subdiffusive, > 1 directed"),
        "alpha spread": st.column_config.NumberColumn("α spread", format="%.2f",
                                                      help="standard deviation over tracks"),
        "σ (µm)": st.column_config.NumberColumn("σ (µm)", format="%.3g", help="localisation error per coordinate, "
                                                "from the offset of the MSD line"),
        "motion": st.column_config.TextColumn("motion", help=f"confined or subdiffusive: α < {CONFINED_ALPHA}; "
                                              "directed: α > 1.3")})
    if (summary["alpha"] < CONFINED_ALPHA).any():
        st.caption(f"Clusters with α < {CONFINED_ALPHA} are confined or subdiffusive: their MSD bends within the "
                   "fitted lags, so their D and σ are apparent values; read them from α and the MSD curve.")
    if truth is not None:
        from sklearn.metrics import adjusted_rand_score

        known = result.features["cluster"] >= 0
        labels = truth.reindex(result.features.index)[known]
        if labels.notna().all() and labels.nunique() > 1:
            score = adjusted_rand_score(labels.astype(str), result.features.loc[known, "cluster"])
            st.markdown(f"**Agreement with the file's `population` column** (not used by the analysis): adjusted "
                        f"Rand index {score:.3f} (1: the clusters are the populations).")
            counts = pd.crosstab(labels.rename("population"), result.features.loc[known, "cluster"])
            st.dataframe(counts.rename(columns=lambda c: f"cluster {c}"), column_config={"population": "population"})
    left, right = st.columns(2)
    left.plotly_chart(msd_figure(result), key="tracks-msd")
    right.plotly_chart(feature_figure(result), key="tracks-features")
    st.caption(f"Left: time-averaged MSD of single tracks (at most {MAX_DRAWN_TRACKS} per cluster, each to a quarter "
               "of its length) and the time-and-ensemble average of each cluster. Right: one point per track; the "
               "third clustering feature, the radius of gyration over √(4DT), is not drawn.")
    st.plotly_chart(plane_figure(result, pixel_size), key="tracks-plane")
    st.caption(f"Positions × pixel size; y increases downward, as in the image. At most {MAX_DRAWN_POSITIONS:,} "
               "positions are drawn (whole tracks, a seeded random choice).")
    per_track = track_table(result)
    a, b = st.columns(2)
    stem = name.rsplit(".", 1)[0]
    a.download_button(f"Per-track results (CSV, {len(per_track)} rows)", per_track.to_csv(index=False),
                      file_name=f"{stem}-per-track.csv", mime="text/csv",
                      help="particle, cluster (-1: not clustered), positions, duration, D and its standard error, "
                           "σ, the clustering features; units in the column names")
    b.download_button("Per-cluster summary (CSV)", summary.to_csv(index=False), file_name=f"{stem}-clusters.csv",
                      mime="text/csv")


st.title("Particle tracks")
st.markdown(
    "Upload tracks of particles — a CSV file with columns `frame`, `x`, `y` (px) and, when the tracks are already "
    "linked, `particle` — or use a simulated example. For every track the page computes the time-averaged mean "
    "squared displacement (MSD) and the diffusion coefficient D from a line through its first points, with the "
    "optimal number of points of Michalet (2010), the MSD exponent α and step statistics. In a heterogeneous "
    "material tracks fall into statistically distinct groups (Valentine et al. 2001; Mellnik et al. 2014): the "
    "tracks are clustered by Ward's hierarchical agglomerative clustering of log D, α and the radius-of-gyration "
    "ratio, the number of clusters chosen from the data (the gap statistic decides whether there is structure at "
    "all, then the Bayesian information criterion how many clusters). Detections without track ids are linked "
    "into tracks with trackpy (Crocker & Grier 1996).")
st.caption("X. Michalet, Phys. Rev. E 82, 041914 (2010) · M. T. Valentine et al., Phys. Rev. E 64, 061506 (2001) · "
           "J. K. G. Mellnik et al., Soft Matter 10, 7781 (2014) · J. C. Crocker & D. G. Grier, J. Colloid "
           "Interface Sci. 179, 298 (1996). The same analysis from the command line: `matloop track tracks FILE.csv`.")
store = open_store()
job_id = attached_job_id()
if job_id:
    no_jobs_here(store, job_id)

numbers = CheckedNumbers()
data_column, settings_column = st.columns(2)
table, source_id, name, upload = None, None, "tracks.csv", None
with data_column:
    st.subheader("Tracks")
    origin = st.radio("Source", [EXAMPLE, UPLOAD], horizontal=True, label_visibility="collapsed")
    if origin == EXAMPLE:
        seed = numbers.number("Example seed", 0, 0, 2**31 - 1, help="of the simulated tracks")
        kinds = "; ".join(f"{p.name}: D = {p.diffusion:g} µm²/s"
                          + (f" in harmonic traps (⟨x²⟩ = {p.trap_variance:g} µm²)" if p.trap_variance
                             else ", free")
                          for p in example_populations())
        st.caption(f"180 simulated tracks of 50–300 positions, {1000 * EXAMPLE_FRAME_INTERVAL:g} ms apart, positions "
                   f"in px at {EXAMPLE_PIXEL_SIZE:g} µm/px with a 20 nm localisation error; 60 tracks of each "
                   f"population ({kinds}). The file's `population` column holds the truth; the analysis does not "
                   "use it.")
        if seed is not None:
            table, source_id, name = example_table(int(seed)), f"example-{int(seed)}", f"example-{int(seed)}.csv"
            st.download_button("Example file (CSV)", table.to_csv(index=False), file_name=name, mime="text/csv",
                               help="the example as a tracks file: frame, x, y (px), particle, population")
    else:
        upload = st.file_uploader(
            "Tracks file (CSV)", type=["csv", "txt"], max_upload_size=MAX_UPLOAD_BYTES // 2**20,
            help="Comma-separated, a header line naming the columns (any order, any case): frame (integer ≥ 0), "
                 "x, y (px) and optionally particle (integer track id); extra columns are kept. Without "
                 "particle the detections are linked into tracks (settings on the right).")
        st.caption(f"At most {MAX_UPLOAD_BYTES // 2**20} MiB and {MAX_ROWS:,} rows; read as text, never executed.")
        if upload is not None:
            data = upload.getvalue()
            try:
                if len(data) > MAX_UPLOAD_BYTES:
                    raise ValueError(f"the file has {len(data):,} bytes; at most {MAX_UPLOAD_BYTES:,} are accepted")
                table = read_upload(data)
            except ValueError as exc:
                show_error(f"Cannot use {upload.name}: {exc}")
            else:
                source_id, name = f"upload-{hashlib.sha256(data).hexdigest()[:16]}", upload.name
                linked = "particle" in table.columns
                st.caption(f"Read {upload.name}: {len(table):,} positions in frames {table['frame'].min()}–"
                           f"{table['frame'].max()}, " + (f"{table['particle'].nunique():,} tracks." if linked
                                                          else "no particle column: detections to link."))

with settings_column:
    st.subheader("Settings")
    a, b = st.columns(2)
    pixel_size = numbers.number("Pixel size (µm/px)", EXAMPLE_PIXEL_SIZE, 0.0, 100.0, "µm/px", where=a, open_low=True,
                                step=0.01, format="%.4g", help="µm per px of x and y; 1 when they are already in µm")
    frame_interval = numbers.number("Frame interval (s)", EXAMPLE_FRAME_INTERVAL, 0.0, 3600.0, "s", where=b,
                                    open_low=True, step=0.001, format="%.4g", help="time between frames")
    search_range, memory = None, 0
    if table is not None and "particle" not in table.columns:
        search_range = numbers.number("Linking search range (px)", 5.0, 0.0, 1000.0, "px", where=a, open_low=True,
                                      step=0.5, help="largest distance a particle moves between frames (trackpy's "
                                      "search_range): a few times the rms step, below half the distance between "
                                      "neighbours")
        memory = numbers.number("Linking memory (frames)", 0, 0, 100, "frames", where=b,
                                help="frames a particle may go undetected and keep its track")
    max_clusters = numbers.number("Most clusters", 6, 2, 12, where=a, reason="one cluster is always considered",
                                  help="largest number of clusters tried")
    min_points = numbers.number("Shortest track clustered (positions)", 10, 5, 10_000, "positions", where=b,
                                help="shorter tracks are measured but not clustered")
    numbers.summary("Clustering")
    start = st.button("Cluster tracks", type="primary", disabled=not numbers.ok or table is None)

request = (source_id, pixel_size, frame_interval, search_range, memory, max_clusters, min_points)
if start and numbers.ok and table is not None:
    st.session_state.pop("tracks-result", None)
    try:
        with st.spinner(f"Measuring and clustering the tracks of {len(table):,} positions…"):
            result = analyse_tracks(table, float(frame_interval), pixel_size=float(pixel_size),
                                    search_range=None if search_range is None else float(search_range),
                                    memory=int(memory or 0), min_points=int(min_points), k_max=int(max_clusters))
    except ValueError as exc:
        show_error(f"Cannot cluster these tracks: {friendly(str(exc), search_range is not None)}")
    else:
        st.session_state["tracks-result"] = (request, result, name)

stored = st.session_state.get("tracks-result")
if stored is not None and stored[0] == request:
    st.subheader("Result")
    result = stored[1]
    truth = None
    if "population" in result.tracks.columns:
        groups = result.tracks.groupby("particle")["population"]
        if (groups.nunique(dropna=False) <= 1).all():
            truth = groups.first()
    show_result(result, float(pixel_size), truth, stored[2])
elif stored is not None:
    st.info("The tracks or settings changed: press **Cluster tracks** to see the result for them.")
elif origin == UPLOAD and upload is None:
    st.info("Upload a tracks file, or choose the example.")
