"""Figures of the Particle tracks page: MSD curves, the feature plane, the tracks in the field of view.

Every figure colours cluster ``c`` with :func:`cluster_colour` (tracks too short to cluster, ``-1``,
in grey), so that one cluster has one colour on the whole page. Lengths in the analysis unit
(µm on the page), times in s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go

from engine.analysis.tracking.tracks import TrackAnalysis
from ui.axes import log_ticks

__all__ = ["MAX_DRAWN_POSITIONS", "MAX_DRAWN_TRACKS", "cluster_colour", "cluster_name", "feature_figure",
           "msd_figure", "plane_figure"]

_PALETTE = plotly.colors.qualitative.D3
_GREY = "#9e9e9e"
#: Per-track MSD curves drawn per cluster (a seeded sample beyond; the ensemble MSD uses all tracks).
MAX_DRAWN_TRACKS = 40
#: Positions drawn in the field of view at most (whole tracks, a seeded sample beyond; SVG lines).
MAX_DRAWN_POSITIONS = 100_000
#: Lags of a track's MSD drawn: up to a quarter of its positions (the time-averaged MSD at longer
#: lags averages few, strongly correlated pairs), at least this many.
MIN_DRAWN_LAGS = 10


def cluster_colour(cluster: int) -> str:
    """Colour of a cluster on every figure of the page (grey for −1, not clustered)."""
    return _GREY if cluster < 0 else _PALETTE[int(cluster) % len(_PALETTE)]


def cluster_name(cluster: int) -> str:
    return "not clustered" if cluster < 0 else f"cluster {int(cluster)}"


def _drawn_lags(n_points: np.ndarray) -> np.ndarray:
    return np.maximum(MIN_DRAWN_LAGS, n_points // 4)


def _lines(xs: list[np.ndarray], ys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Many polylines as one trace: the pieces joined by NaN gaps."""
    if not xs:
        return np.empty(0), np.empty(0)
    gap = np.array([np.nan])
    return (np.concatenate([p for x in xs for p in (x, gap)]), np.concatenate([p for y in ys for p in (y, gap)]))


def msd_figure(result: TrackAnalysis, time_unit: str = "s", seed: int = 0) -> go.Figure:
    """Log–log MSD against lag time: thin per-track curves and each cluster's ensemble MSD.

    Each track is drawn up to a quarter of its positions (at least :data:`MIN_DRAWN_LAGS` lags),
    each ensemble up to a quarter of the median track length of its cluster; a dashed line of
    slope 1 (free diffusion) guides the eye.
    """
    unit = result.unit
    msd = result.msd
    labels = result.features["cluster"].reindex(msd.particles).to_numpy()
    rng = np.random.default_rng(seed)
    figure = go.Figure()
    lag_times = msd.lag_times
    smallest = np.inf
    for cluster in sorted(set(labels.tolist())):
        rows = np.flatnonzero(labels == cluster)
        if len(rows) > MAX_DRAWN_TRACKS:
            rows = np.sort(rng.choice(rows, MAX_DRAWN_TRACKS, replace=False))
        xs, ys = [], []
        for row in rows:
            keep = np.arange(len(lag_times)) < _drawn_lags(msd.n_points[row:row + 1])[0]
            keep &= np.isfinite(msd.msd[row]) & (msd.msd[row] > 0)
            xs.append(lag_times[keep])
            ys.append(msd.msd[row, keep])
        x, y = _lines(xs, ys)
        figure.add_trace(go.Scattergl(x=x, y=y, mode="lines", line={"color": cluster_colour(cluster), "width": 1},
                                      opacity=0.3, legendgroup=str(cluster), showlegend=cluster < 0,
                                      name=cluster_name(cluster), hoverinfo="skip"))
    population = result.population_msd
    for cluster, part in population.groupby("cluster"):
        members = labels == cluster
        last = max(MIN_DRAWN_LAGS, int(np.median(msd.n_points[members])) // 4)
        part = part[(part["lag"] <= last) & (part["msd"] > 0)]
        smallest = min(smallest, float(part["msd"].min()))
        figure.add_trace(go.Scatter(
            x=part["lag_time"], y=part["msd"], mode="lines+markers", legendgroup=str(cluster),
            name=f"{cluster_name(cluster)} · {int(members.sum())} tracks",
            line={"color": cluster_colour(cluster), "width": 3}, marker={"size": 5},
            hovertemplate=f"{cluster_name(cluster)}<br>τ = %{{x:.3g}} {time_unit}<br>MSD = %{{y:.3g}} {unit}²"
                          "<extra>ensemble</extra>"))
    if np.isfinite(smallest):
        span = lag_times[[0, min(len(lag_times), 4 * MIN_DRAWN_LAGS) - 1]]
        figure.add_trace(go.Scatter(x=span, y=smallest / 3 * span / span[0], mode="lines", name="∝ τ (α = 1)",
                                    line={"color": "#555555", "dash": "dash", "width": 1.5}, hoverinfo="skip"))
    xs = np.concatenate([np.asarray(t.x, dtype=float) for t in figure.data])
    ys = np.concatenate([np.asarray(t.y, dtype=float) for t in figure.data])
    figure.update_layout(
        title="Mean squared displacement",
        xaxis={"type": "log", "title": f"lag time τ ({time_unit})", **log_ticks(xs)},
        yaxis={"type": "log", "title": f"MSD ({unit}²)", **log_ticks(ys)},
        height=500, margin={"t": 60, "l": 10, "r": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0, "title": "ensemble MSD of"})
    return figure


def feature_figure(result: TrackAnalysis, time_unit: str = "s") -> go.Figure:
    """Short-time D (log axis) against the MSD exponent α, one point per track."""
    f = result.features
    d_unit = f"{result.unit}²/{time_unit}"
    figure = go.Figure()
    for cluster in sorted(f["cluster"].unique()):
        part = f[(f["cluster"] == cluster) & f["log10_D"].notna() & f["alpha"].notna()]
        if part.empty:
            continue
        figure.add_trace(go.Scattergl(
            x=10 ** part["log10_D"], y=part["alpha"], mode="markers", name=f"{cluster_name(cluster)} · {len(part)}",
            marker={"color": cluster_colour(cluster), "size": 6, "opacity": 0.8},
            customdata=np.stack([part.index.to_numpy(), part["n_points"].to_numpy()], axis=1),
            hovertemplate=f"track %{{customdata[0]}} (%{{customdata[1]}} positions)<br>D = %{{x:.3g}} {d_unit}"
                          "<br>α = %{y:.2f}<extra></extra>"))
    figure.add_hline(y=1.0, line={"color": "#555555", "dash": "dot", "width": 1},
                     annotation_text="α = 1: free diffusion", annotation_position="top left")
    xs = np.concatenate([np.asarray(t.x, dtype=float) for t in figure.data]) if figure.data else np.empty(0)
    figure.update_layout(
        title="Track features",
        xaxis={"type": "log", "title": f"short-time diffusion coefficient D ({d_unit})", **log_ticks(xs)},
        yaxis={"title": "MSD exponent α (first 10 lags)"},
        height=500, margin={"t": 60, "l": 10, "r": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0, "title": "tracks"})
    return figure


def plane_figure(result: TrackAnalysis, pixel_size: float | None, seed: int = 0) -> go.Figure:
    """The tracks in the field of view (y downward, as in the image), coloured by cluster.

    ``pixel_size`` (µm/px) is the analysis's: its track table keeps the positions as given. At most
    :data:`MAX_DRAWN_POSITIONS` positions, whole tracks drawn in a seeded random order.
    """
    tracks = result.tracks
    scale = 1.0 if pixel_size is None else float(pixel_size)
    sizes = tracks.groupby("particle", sort=True).size()
    order = np.random.default_rng(seed).permutation(sizes.index.to_numpy())
    drawn = order[np.cumsum(sizes.loc[order].to_numpy()) <= MAX_DRAWN_POSITIONS]
    shown = tracks[tracks["particle"].isin(drawn)]
    figure = go.Figure()
    for cluster, part in shown.groupby("cluster", sort=True):
        xs, ys = [], []
        for _, track in part.groupby("particle", sort=False):
            xs.append(track["x"].to_numpy() * scale)
            ys.append(track["y"].to_numpy() * scale)
        x, y = _lines(xs, ys)
        # SVG, not WebGL: Streamlit 1.67's plotly.js draws Scattergl on a reversed axis as a flat line at the edge
        figure.add_trace(go.Scatter(x=x, y=y, mode="lines", line={"color": cluster_colour(cluster), "width": 1.2},
                                    name=f"{cluster_name(cluster)} · {len(xs)} tracks", hoverinfo="skip"))
    figure.update_layout(
        title="Tracks in the field of view" + ("" if len(drawn) == len(sizes) else
                                              f" ({len(drawn)} of {len(sizes)} tracks drawn)"),
        xaxis={"title": f"x ({result.unit})", "constrain": "domain"},
        yaxis={"title": f"y ({result.unit})", "autorange": "reversed", "scaleanchor": "x", "scaleratio": 1},
        height=620, margin={"t": 50, "l": 10, "r": 10, "b": 10}, legend={"title": "tracks"})
    return figure

