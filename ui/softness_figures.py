"""Figures of the glass-softness page, from the prediction job's per-particle table (pure functions).

Lengths are in the units of the data (σ for Kob–Andersen); softness S is a signed distance in the
standardised descriptor space (dimensionless).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

__all__ = ["MAX_DRAWN", "scene_figure", "softness_histograms", "rearrangement_figure", "propensity_figure"]

#: Most particles drawn in the scene (a seeded sample beyond).
MAX_DRAWN = 20_000
_LABELS = {"softness": "softness S", "predicted_propensity": "predicted propensity (σ)"}


def scene_figure(table: pd.DataFrame, dim: int, column: str = "softness") -> go.Figure:
    """Particles of the model's species coloured by ``column``; the others small and grey.

    A trajectory's table shows its first analysed frame; 2D data are drawn flat, with equal axes.
    """
    title = f"particles by {_LABELS[column].split(' (')[0]}"
    if "frame" in table:
        first = int(table.frame.min())
        table = table[table.frame == first]
        title += f" (frame {first})"
    shown = table.sample(MAX_DRAWN, random_state=0) if len(table) > MAX_DRAWN else table
    scored, other = shown[shown[column].notna()], shown[shown[column].isna()]
    values = scored[column]
    if column == "softness":
        limit = float(np.nanpercentile(np.abs(values), 98)) or 1.0
        colour = {"colorscale": "RdBu_r", "cmin": -limit, "cmax": limit}
    else:
        colour = {"colorscale": "Viridis", "cmin": float(values.quantile(0.02)), "cmax": float(values.quantile(0.98))}
    colour.update(color=values, colorbar={"title": "S" if column == "softness" else "σ"})
    if dim == 2:
        size = float(np.clip(600 / max(np.sqrt(len(shown)), 1), 3, 12))
        figure = go.Figure([
            go.Scattergl(x=other.x, y=other.y, mode="markers", name=f"other species ({len(other)})",
                         marker={"size": 0.7 * size, "color": "#c8c8c8"}),
            go.Scattergl(x=scored.x, y=scored.y, mode="markers", name=_LABELS[column].split(" (")[0],
                         marker={"size": size, **colour}),
        ])
        figure.update_layout(height=560, margin={"l": 0, "r": 0, "t": 40, "b": 60}, title=title, xaxis_title="x (σ)",
                             yaxis={"title": "y (σ)", "scaleanchor": "x", "scaleratio": 1},
                             legend={"itemsizing": "constant", "x": 0, "y": -0.1, "yanchor": "top", "orientation": "h"})
        return figure
    figure = go.Figure([
        go.Scatter3d(x=other.x, y=other.y, z=other.z, mode="markers", name=f"other species ({len(other)})",
                     marker={"size": 2, "color": "#c8c8c8", "opacity": 0.4}),
        go.Scatter3d(x=scored.x, y=scored.y, z=scored.z, mode="markers", name=_LABELS[column].split(" (")[0],
                     marker={"size": 3.5, "opacity": 0.9, **colour}),
    ])
    figure.update_layout(height=540, margin={"l": 0, "r": 0, "t": 30, "b": 0}, title=title,
                         scene={"aspectmode": "data", "xaxis_title": "x (σ)", "yaxis_title": "y (σ)",
                                "zaxis_title": "z (σ)"}, legend={"itemsizing": "constant", "x": 0, "y": 1})
    return figure


def softness_histograms(table: pd.DataFrame, rearranging: str = "rearranging") -> go.Figure:
    """P(S) of all scored particles, and of the rearranging ones (named ``rearranging``) when known."""
    scored = table[table.softness.notna()]
    traces = [go.Histogram(x=scored.softness, histnorm="probability density", nbinsx=40, name="all",
                           marker_color="#7f7f7f", opacity=0.6)]
    if "rearranging" in table:
        traces.append(go.Histogram(x=scored.softness[scored.rearranging.astype(bool)], histnorm="probability density",
                                   nbinsx=30, name=rearranging, marker_color="#d62728", opacity=0.6))
    figure = go.Figure(traces)
    figure.add_vline(x=0, line_dash="dot")
    figure.update_layout(barmode="overlay", height=340, title="P(S)", xaxis_title="softness S (dimensionless)",
                         yaxis_title="probability density", margin={"t": 40},
                         legend={"orientation": "h", "x": 0, "y": -0.2, "yanchor": "top"})  # below: clear of the peaks
    return figure


def rearrangement_figure(table: pd.DataFrame, min_count: int = 30) -> go.Figure:
    """P(rearrange | S) in 12 bins of softness, log scale (bins with ``min_count`` particles and a hit).

    Error bars: the Wilson score interval of a binomial share at one standard deviation (z = 1).
    """
    scored = table[table.softness.notna()]
    edges = np.linspace(scored.softness.quantile(0.005), scored.softness.quantile(0.995), 13)
    bins = np.clip(np.digitize(scored.softness, edges) - 1, 0, len(edges) - 2)
    counts = np.bincount(bins, minlength=len(edges) - 1)
    hits = np.bincount(bins, weights=scored.rearranging.to_numpy(float), minlength=len(edges) - 1)
    keep = (counts >= min_count) & (hits > 0)
    centres = (edges[:-1] + edges[1:]) / 2
    n = np.maximum(counts, 1)
    p = hits / n
    # Wilson score interval (z = 1, ~68 %): asymmetric and inside (0, 1], so it stays drawable on a log axis
    centre = (p + 1 / (2 * n)) / (1 + 1 / n)
    half = np.sqrt(p * (1 - p) / n + 1 / (4 * n ** 2)) / (1 + 1 / n)
    figure = go.Figure(go.Scatter(
        x=centres[keep], y=p[keep], mode="lines+markers", name="P(R|S)",
        error_y={"type": "data", "symmetric": False, "array": (centre + half - p)[keep],
                 "arrayminus": (p - (centre - half))[keep], "visible": True}))
    figure.update_layout(height=340, title="P(rearrange | S), ±1σ Wilson interval", xaxis_title="softness S (dimensionless)",
                         yaxis={"type": "log", "title": "probability (log scale)", "exponentformat": "power"},
                         margin={"t": 40})
    return figure


def propensity_figure(table: pd.DataFrame) -> go.Figure:
    """Ridge prediction against measured propensity of the model's species."""
    scored = table[table.predicted_propensity.notna()]
    figure = go.Figure(go.Scattergl(x=scored.propensity, y=scored.predicted_propensity, mode="markers",
                                    marker={"size": 3, "opacity": 0.4, "color": "#1f77b4"}))
    figure.update_layout(height=340, title="ridge prediction against measured propensity",
                         xaxis_title="propensity (σ)", yaxis_title="predicted propensity (σ)", margin={"t": 40})
    return figure
