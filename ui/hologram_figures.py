"""Figures of the Holograms page: the frame with what was found on it, and one particle's radial profile.

Positions in px of the frame (x = column, y = row, y downward as in the image); intensities are
the normalised hologram (background 1).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from engine.analysis.tracking.instrument import Instrument
from engine.analysis.tracking.svr_estimator import frame_profiles, model_profiles

__all__ = ["MAX_DRAWN_SIDE", "frame_figure", "profile_figure"]

# open symbols are drawn in ``marker.color`` (not ``marker.line.color``): both are set
#: Longest side of the frame as drawn, px: larger frames are shown as block means (the overlay
#: keeps the frame's own pixel coordinates).
MAX_DRAWN_SIDE = 640
_FOUND = "#ff7f0e"       # orange: detections, crop boxes and fitted centres
_FAILED = "#d62728"      # red: fits that failed
_TRUTH = "#17becf"       # cyan: the true particles of a synthetic frame


def _binned(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Block means of ``frame`` (factor ``f``) and the frame coordinates of their centres."""
    factor = max(1, math.ceil(max(frame.shape) / MAX_DRAWN_SIDE))
    rows, cols = (frame.shape[0] // factor) * factor, (frame.shape[1] // factor) * factor
    blocks = frame[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor).mean(axis=(1, 3))
    centre = (factor - 1) / 2
    return blocks, np.arange(blocks.shape[1]) * factor + centre, np.arange(blocks.shape[0]) * factor + centre, factor


def frame_figure(frame: np.ndarray, table: pd.DataFrame, truth: pd.DataFrame | None = None) -> go.Figure:
    """The normalised frame in grey with crop boxes, detected and fitted centres (and the truth).

    Parameters
    ----------
    frame : ndarray of float, shape (rows, columns)
    table : pandas.DataFrame
        The job's particle table (``particle, x, y, x_detected, y_detected, size, success``).
    truth : pandas.DataFrame, optional
        True particles (``x, y, z, a_p, n_p``) of a synthetic frame.
    """
    blocks, xs, ys, factor = _binned(np.asarray(frame, dtype=float))
    spread = float(np.nanmax(np.abs(np.percentile(blocks, [0.5, 99.5]) - 1.0))) if blocks.size else 0.5
    spread = min(max(spread, 0.05), 2.0)
    figure = go.Figure(go.Heatmap(
        z=np.round(blocks, 4), x=xs, y=ys, colorscale=[[0.0, "rgb(0, 0, 0)"], [1.0, "rgb(255, 255, 255)"]],
        zmin=max(1.0 - spread, 0.0), zmax=1.0 + spread,
        colorbar={"title": {"text": "b (normalised)", "side": "right"}, "thickness": 14},
        hovertemplate="x %{x:.0f} px, y %{y:.0f} px<br>b = %{z:.3f}<extra></extra>"))
    for _, row in table.iterrows():
        half = int(row["size"]) / 2
        cx, cy = round(float(row["x_detected"])), round(float(row["y_detected"]))
        figure.add_shape(type="rect", x0=cx - half, x1=cx + half, y0=cy - half, y1=cy + half,
                         line={"color": _FOUND if row["success"] else _FAILED, "width": 1.5, "dash": "dot"})
    if len(table):
        ok = table["success"].to_numpy(bool)
        label = table["particle"].astype(int).astype(str)
        figure.add_trace(go.Scatter(
            x=table["x_detected"], y=table["y_detected"], mode="markers", text=label,
            name="detected centre (crop box dotted)",
            marker={"symbol": "x-thin", "size": 14, "color": _FOUND, "line": {"width": 2, "color": _FOUND}},
            hovertemplate="particle %{text}: detected at (%{x:.1f}, %{y:.1f}) px<extra></extra>"))
        for x, y, text in zip(table["x_detected"], table["y_detected"], label):
            figure.add_annotation(x=x, y=y, text=f"#{text}", showarrow=False, xshift=16, yshift=16,
                                  font={"color": "white", "size": 13}, bgcolor="rgba(0, 0, 0, 0.6)", borderpad=2)
        fitted = table[ok]
        if len(fitted):
            figure.add_trace(go.Scatter(
                x=fitted["x"], y=fitted["y"], mode="markers", name="fitted centre",
                marker={"symbol": "circle-open", "size": 11, "color": _FOUND, "line": {"width": 2}},
                customdata=np.stack([fitted["particle"], fitted["z"], fitted["a_p"], fitted["n_p"]], axis=1),
                hovertemplate="particle %{customdata[0]:.0f}: (%{x:.2f}, %{y:.2f}) px<br>z = %{customdata[1]:.2f} µm, "
                              "a_p = %{customdata[2]:.3f} µm, n_p = %{customdata[3]:.4f}<extra>fit</extra>"))
        if not ok.all():
            figure.add_trace(go.Scatter(x=table.loc[~ok, "x_detected"], y=table.loc[~ok, "y_detected"], mode="markers",
                                        name="fit failed", marker={"symbol": "square-open", "size": 14,
                                                                    "color": _FAILED, "line": {"width": 2}},
                                        hoverinfo="skip"))
    if truth is not None and len(truth):
        figure.add_trace(go.Scatter(
            x=truth["x"], y=truth["y"], mode="markers", name="true centre",
            marker={"symbol": "diamond-open", "size": 18, "color": _TRUTH, "line": {"width": 2}},
            customdata=np.stack([truth["z"], truth["a_p"], truth["n_p"]], axis=1),
            hovertemplate="true (%{x:.2f}, %{y:.2f}) px<br>z = %{customdata[0]:.2f} µm, a_p = %{customdata[1]:.3f} µm, "
                          "n_p = %{customdata[2]:.4f}<extra>truth</extra>"))
    rows, cols = np.shape(frame)
    shown = f" (drawn as {factor}×{factor} block means)" if factor > 1 else ""
    figure.update_layout(
        title=f"Normalised hologram, {rows}×{cols} px{shown}",
        xaxis={"title": "x (px)", "range": [-0.5, cols - 0.5], "constrain": "domain", "showgrid": False},
        yaxis={"title": "y (px)", "range": [rows - 0.5, -0.5], "scaleanchor": "x", "scaleratio": 1,
               "constrain": "domain", "showgrid": False},
        height=min(760, max(380, int(460 * rows / max(cols, 1)) + 150)), margin={"t": 50, "l": 10, "r": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0})
    return figure


def profile_figure(frame: np.ndarray, row: pd.Series, instrument: Instrument, radius: int = 150) -> go.Figure:
    """Radial profile of one particle: the frame's ring averages against the fitted and estimated models.

    Parameters
    ----------
    frame : ndarray of float, shape (rows, columns)
    row : pandas.Series
        One row of the particle table.
    instrument : Instrument
    radius : int, default 150
        Rings drawn, px.
    """
    success = bool(row["success"])
    cx, cy = (row["x"], row["y"]) if success else (row["x_detected"], row["y_detected"])
    data = frame_profiles(frame, np.array([[cx, cy]]), radius)[0]
    r = np.arange(radius) + 0.5
    scale = instrument.magnification
    figure = go.Figure(go.Scatter(x=r, y=data, mode="markers", name="frame (ring means about the centre)",
                                  marker={"size": 5, "color": "#444444"},
                                  hovertemplate="r = %{x:.1f} px<br>b = %{y:.4f}<extra>frame</extra>"))
    curves = [("estimate (start of the fit)", "z_estimate", "a_p_estimate", "n_p_estimate", "#1f77b4", "dash")]
    if success:
        curves.insert(0, ("fit", "z", "a_p", "n_p", _FOUND, "solid"))
    for name, z, a, n, colour, dash in curves:
        values = (float(row[z]), float(row[a]), float(row[n]))
        if not all(math.isfinite(v) for v in values) or values[0] <= values[1] or values[1] <= 0 or values[2] <= 0:
            continue
        model = model_profiles(pd.DataFrame({"z_p": [values[0]], "a_p": [values[1]], "n_p": [values[2]]}),
                               instrument, radius)[0]
        figure.add_trace(go.Scatter(
            x=r, y=model, mode="lines", line={"color": colour, "dash": dash, "width": 2},
            name=f"{name}: z {values[0]:.2f} µm, a_p {values[1]:.3f} µm, n_p {values[2]:.4f}",
            hovertemplate="r = %{x:.1f} px<br>b = %{y:.4f}<extra>" + name.split(" ")[0] + "</extra>"))
    figure.update_layout(
        title=f"Particle {int(row['particle'])}: radial profile",
        xaxis={"title": f"distance from the centre r (px; 1 px = {scale:g} µm)"},
        yaxis={"title": "ring mean of b (normalised)"}, height=430, margin={"t": 50, "l": 10, "r": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0})
    return figure
