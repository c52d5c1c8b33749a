"""Figures and phrases of the crystal-order page, from the classification job's per-particle table (pure functions).

Lengths are in the units of the data: nearest-neighbour distances for generated configurations
(their nearest-neighbour distance is 1), the file's own unit for uploads. Steinhardt q4, q6 and
the confidences are dimensionless; shares are in per cent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go

__all__ = ["MAX_DRAWN", "COLOURS", "GENERATED_UNIT", "FILE_UNIT", "plural", "colour_map", "box_text",
           "scene_figure", "fraction_figure", "histogram", "neighbor_words", "embedding_figure"]

#: Most particles drawn in the 3D view (a seeded sample beyond).
MAX_DRAWN = 20_000
#: Fixed colours of structure names; clusters take a qualitative palette.
COLOURS = {"fcc": "#2ca02c", "hcp": "#d62728", "bcc": "#1f77b4", "liquid": "#a0a0a0", "other": "#ff7f0e",
           "ico": "#9467bd", "noise": "#a0a0a0"}
CLUSTER_COLOURS = plotly.colors.qualitative.Bold
#: Length units in words: of generated configurations, and of uploaded files.
GENERATED_UNIT = "nearest-neighbour distances"
FILE_UNIT = "the file's length unit"
#: Bins of a histogram, shared by all classes so that their bars have one width.
_BINS = 40
#: Smallest share of the longest box edge drawn for an edge of the 3D scene (a flat slab stays visible).
_MIN_ASPECT = 0.05
_IRREGULAR = {"class": "classes", "particle": "particles"}


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """A count with its noun in the right number: ``1 class``, ``2 classes``, ``1,728 particles``.

    Parameters
    ----------
    count : int
        How many.
    singular : str
        The noun for one ("class", "particle", "component").
    plural_form : str, optional
        The noun for other counts; default ``singular`` + "es" for nouns ending in s, x, ch or sh, else + "s".
    """
    if count == 1:
        return f"1 {singular}"
    if plural_form is None:
        plural_form = _IRREGULAR.get(singular) or (
            singular + "es" if singular.endswith(("s", "x", "ch", "sh")) else singular + "s")
    return f"{count:,} {plural_form}"


def colour_map(classes: Sequence[str]) -> dict[str, str]:
    """A colour per class, in the order given: fixed ones for structures, a qualitative palette for clusters."""
    clusters = sorted(c for c in classes if c not in COLOURS)
    palette = {c: CLUSTER_COLOURS[k % len(CLUSTER_COLOURS)] for k, c in enumerate(clusters)}
    return {c: COLOURS.get(c, palette.get(c)) for c in classes}


def _number(value: float) -> str:
    return f"{value:.3g}"


def box_text(lengths: Sequence[float], periodic: Sequence[bool], tilts: Sequence[float] | None = None,
             unit: str = "") -> str:
    """The box in words: edges, the tilt factors that are not zero, and the periodic axes.

    Parameters
    ----------
    lengths : sequence of float
        Box edges Lx, Ly (, Lz), in ``unit``.
    periodic : sequence of bool
        Periodicity along x, y (, z).
    tilts : sequence of float, optional
        freud tilt factors (dimensionless): ``[xy]`` in 2D, ``[xy, xz, yz]`` in 3D.
    unit : str
        The length unit in words ("" to leave it out).

    Returns
    -------
    str
        E.g. ``"3D box 10 × 10 × 40 (nearest-neighbour distances), tilt factors xy 0.5, yz -0.2
        (dimensionless), periodic along x, y, z"``.
    """
    dim = len(lengths)
    text = f"{dim}D box " + " × ".join(_number(v) for v in lengths) + (f" ({unit})" if unit else "")
    names = ("xy",) if dim == 2 else ("xy", "xz", "yz")
    tilted = [f"{n} {_number(t)}" for n, t in zip(names, tilts or ()) if t != 0]
    if tilted:
        text += f", tilt {'factor' if len(tilted) == 1 else 'factors'} {', '.join(tilted)} (dimensionless)"
    axes = [a for a, p in zip("xyz", periodic) if p]
    text += ", periodic along " + ", ".join(axes) if axes else ", not periodic"
    return text


def _sample(table: pd.DataFrame) -> pd.DataFrame:
    return table.sample(MAX_DRAWN, random_state=0) if len(table) > MAX_DRAWN else table


def scene_figure(table: pd.DataFrame, colours: dict[str, str], dim: int, unit: str = GENERATED_UNIT) -> go.Figure:
    """Particles coloured by class (a seeded sample of :data:`MAX_DRAWN` when there are more).

    3D: the scene's edges are in proportion to the particles' extent, the longest edge the
    scene's default size, so that tall or flat boxes fit the view; axis titles are the bare
    axis names and the title states the length unit. 2D systems are drawn flat with equal axes.
    """
    shown = _sample(table)
    size = float(np.clip(14.0 / max(len(shown), 1) ** (1 / 3) * 3, 2.0, 8.0))
    title = {"text": f"particles by class (lengths in {unit})", "font": {"size": 14}}
    legend = {"itemsizing": "constant", "title": {"text": "class (particles)"}}  # shown for one class too
    names = {n: f"{n} ({int((shown.label == n).sum()):,})" for n in colours}
    if dim == 2:  # a flat picture, not a 3D scene with an empty z axis
        figure = go.Figure([go.Scattergl(x=shown.loc[shown.label == n, "x"], y=shown.loc[shown.label == n, "y"],
                                         mode="markers", name=names[n],
                                         marker={"size": 2 * size, "color": c, "opacity": 0.85})
                            for n, c in colours.items()])
        figure.update_layout(height=520, margin={"l": 50, "r": 10, "t": 40, "b": 40}, title=title, legend=legend,
                             showlegend=True,
                             xaxis_title="x", yaxis={"title": "y", "scaleanchor": "x", "scaleratio": 1})
        return figure
    extent = np.array([float(np.ptp(table[a])) if len(table) else 0.0 for a in "xyz"])
    aspect = np.maximum(extent / extent.max(), _MIN_ASPECT) if extent.max() > 0 else np.ones(3)
    # a tall narrow box is seen from closer than a cube: the scene fills the height either way
    eye = 0.8 + 0.3 * float(np.mean(aspect[:2]))
    axes = {f"{a}axis": {"title": a, "nticks": int(np.clip(round(8 * r), 3, 8))} for a, r in zip("xyz", aspect)}
    figure = go.Figure([go.Scatter3d(x=shown.loc[shown.label == n, "x"], y=shown.loc[shown.label == n, "y"],
                                     z=shown.loc[shown.label == n, "z"], mode="markers", name=names[n],
                                     marker={"size": size, "color": c, "opacity": 0.85, "line": {"width": 0}})
                        for n, c in colours.items()])
    figure.update_layout(
        height=560, margin={"l": 0, "r": 0, "t": 40, "b": 10}, title=title, showlegend=True,
        legend={**legend, "orientation": "h", "x": 0, "y": 0, "yanchor": "top"},
        scene={"aspectmode": "manual", "aspectratio": dict(zip("xyz", aspect.tolist())), **axes,
               "camera": {"eye": {"x": 1.5 * eye, "y": 1.5 * eye, "z": 1.1 * eye}}})
    return figure


def fraction_figure(fractions: dict[str, float], colours: dict[str, str]) -> go.Figure:
    """Horizontal bars of the share of particles in each class (%), in the order given, each labelled."""
    shares = [100 * f for f in fractions.values()]
    figure = go.Figure(go.Bar(x=shares, y=list(fractions), orientation="h", text=[f"{s:.1f} %" for s in shares],
                              textposition="outside", cliponaxis=False,
                              marker_color=[colours[c] for c in fractions]))
    figure.update_layout(height=60 + 40 * max(len(fractions), 2),
                         title={"text": "class fractions", "font": {"size": 14}},
                         xaxis={"title": "share of particles (%)", "range": [0, 115]},
                         yaxis={"autorange": "reversed"}, margin={"t": 40, "l": 0, "r": 10, "b": 40})
    return figure


def neighbor_words(neighbors: int | str) -> str:
    """``12`` → "12 nearest neighbours", ``"voronoi"`` → "voronoi neighbours"."""
    return f"{neighbors} nearest neighbours" if isinstance(neighbors, int) else f"{neighbors} neighbours"


def histogram(table: pd.DataFrame, colours: dict[str, str], column: str, neighbors: int | str = 12,
              axis_title: str | None = None) -> go.Figure:
    """Distribution of ``column`` in each class, each normalised to unit area, on bins shared by all classes.

    Shared bins keep a small class (a few "other" particles) from being drawn as tall narrow
    spikes beside the wide bars of a large one.
    """
    values = table[column].to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    width = (high - low) / _BINS if high > low else max(abs(low), 1.0) * 1e-3
    bins = {"start": low - width / 2 if high == low else low, "end": high + width * 1e-6, "size": width}
    figure = go.Figure([go.Histogram(x=table.loc[table.label == name, column], name=name, marker_color=colour,
                                     opacity=0.6, histnorm="probability density", xbins=bins, autobinx=False)
                        for name, colour in colours.items()])
    figure.update_layout(barmode="overlay", height=320, title={"text": f"{column} per class", "font": {"size": 14}},
                         xaxis_title=axis_title or f"{column} ({neighbor_words(neighbors)}, dimensionless)",
                         yaxis_title="probability density", margin={"t": 40, "b": 40},
                         legend={"title": {"text": "class"}})
    return figure


def embedding_figure(table: pd.DataFrame, colours: dict[str, str], axes: Sequence[str]) -> go.Figure:
    """The 2D embedding by class; a histogram of the first axis when the second is undefined."""
    if table["embedding_2"].isna().all():  # a one-column descriptor has one principal component
        figure = histogram(table, colours, "embedding_1", axis_title=axes[0])
        figure.update_layout(title={"text": "embedding (one descriptor: one component)"}, height=360)
        return figure
    shown = _sample(table)
    figure = go.Figure([go.Scattergl(x=shown.loc[shown.label == n, "embedding_1"],
                                     y=shown.loc[shown.label == n, "embedding_2"], mode="markers", name=n,
                                     marker={"color": c, "size": 4, "opacity": 0.7})
                        for n, c in colours.items()])
    figure.update_layout(height=420, xaxis_title=axes[0], yaxis_title=axes[1],
                         title={"text": "2D embedding of the descriptors", "font": {"size": 14}},
                         legend={"itemsizing": "constant", "title": {"text": "class"}}, margin={"t": 40, "b": 40})
    return figure
