"""Drawings of designs shared by the pages: a block plate with its edge crack, a spinodoid's mid-plane.

The "Label a design" preview and the "Design library" comparison draw plates with
:func:`plate_figure`, so a design looks the same on both pages.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from designs.base import Design
from designs.checkerboard import Checkerboard
from designs.hierarchical import Hierarchical
from designs.spinodal import Spinodoid
from fem.fracture import PlateSetup

__all__ = ["PLATE_COLOURS", "design_figure", "plate_figure", "spinodoid_figure"]

#: Colour of each block type of a soft/stiff plate (yellow soft, blue stiff).
PLATE_COLOURS = ("#f2c14e", "#2d5d7b")
#: Colours of further block types of a checkerboard with a longer palette.
_MORE_COLOURS = ("#c05746", "#6a994e", "#8e7dbe", "#e07a5f", "#3d405b", "#81b29a")
PLATE_TITLE = "plate (yellow: soft, blue: stiff; red: crack)"


def plate_figure(design: Checkerboard | Hierarchical, title: str = PLATE_TITLE, height: int = 360,
                 width: int | None = 380, crack_length: float | None = None) -> go.Figure:
    """The 1 mm × 1 mm plate of a block design, blocks coloured by type, the edge crack in red.

    Parameters
    ----------
    design : Checkerboard or Hierarchical
        The plate (a hierarchical design is drawn as its soft/stiff blocks).
    title : str
        Figure title.
    height, width : int
        Size in pixels (``width`` None: the container's width).
    crack_length : float, optional
        Length of the edge crack, mm (default: mode I's, :class:`fem.fracture.PlateSetup`).

    Returns
    -------
    plotly.graph_objects.Figure
        Heat map of the blocks (row 0 at the bottom, x from the cracked left edge, mm) with a
        fixed colour per block type, so a plate of one type is drawn in that type's colour.
    """
    plate = design.expand() if isinstance(design, Hierarchical) else design
    shown = plate.as_array()
    names = plate.palette
    colours = [*PLATE_COLOURS, *_MORE_COLOURS][: max(len(names), 2)]
    top = len(colours) - 1
    # one flat band per block type: z = k maps to colours[k] whatever the design holds
    scale = [[max(0.0, min(1.0, (k + edge) / len(colours))), colour]
             for k, colour in enumerate(colours) for edge in (0.0, 1.0)]
    rows, columns = shown.shape
    text = np.asarray(names, dtype=object)[shown]
    figure = go.Figure(go.Heatmap(
        z=shown, x0=0.5 / columns, dx=1 / columns, y0=0.5 / rows, dy=1 / rows, zmin=-0.5, zmax=top + 0.5,
        colorscale=scale, showscale=False, text=text,
        hovertemplate="x %{x:.3f} mm, y %{y:.3f} mm: %{text}<extra></extra>"))
    crack = PlateSetup().crack_length if crack_length is None else float(crack_length)
    figure.add_shape(type="line", x0=0, x1=crack, y0=0.5, y1=0.5,
                     line={"color": "red", "width": 4})
    figure.update_layout(height=height, width=width, margin={"l": 45, "r": 10, "t": 30, "b": 40}, title=title,
                         xaxis={"range": [0, 1], "constrain": "domain", "title": {"text": "x (mm)", "font_size": 11}},
                         yaxis={"range": [0, 1], "scaleanchor": "x", "title": {"text": "y (mm)", "font_size": 11}})
    return figure


def spinodoid_figure(design: Spinodoid, resolution: int = 48, title: str = "spinodoid, mid-plane z = ½ cell",
                     height: int = 360, width: int | None = 380) -> go.Figure:
    """The solid (blue) and void (white) of a spinodoid's cell on its mid-plane z = ½ (unit lengths)."""
    solid = design.voxels(max(int(resolution), design.min_resolution()))
    cut = solid[:, :, solid.shape[2] // 2].astype(int).T  # rows along y
    n = cut.shape[0]
    length = design.cell_length
    figure = go.Figure(go.Heatmap(z=cut, x0=0.5 * length / n, dx=length / n, y0=0.5 * length / n, dy=length / n,
                                  zmin=0, zmax=1, colorscale=[[0, "#ffffff"], [1, PLATE_COLOURS[1]]],
                                  showscale=False, hoverinfo="skip"))
    figure.update_layout(height=height, width=width, margin={"l": 10, "r": 10, "t": 30, "b": 10}, title=title,
                         xaxis={"range": [0, length], "constrain": "domain"},
                         yaxis={"range": [0, length], "scaleanchor": "x"})
    return figure


def design_figure(design: Design, title: str, height: int = 300, width: int | None = None) -> go.Figure:
    """:func:`plate_figure` of a block plate, :func:`spinodoid_figure` of a spinodoid."""
    if isinstance(design, Spinodoid):
        return spinodoid_figure(design, title=title, height=height, width=width)
    return plate_figure(design, title=title, height=height, width=width)
