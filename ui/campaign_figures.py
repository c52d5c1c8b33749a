"""Figures and tables of a campaign for the Campaigns page: best so far, Pareto front, best plates,
surrogate accuracy, the best designs as a table (plotly figures and pandas tables, no Streamlit)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.campaigns.campaign import Campaign
from engine.evaluators.protocol import Metric

__all__ = ["best_so_far_figure", "best_so_far_trace", "best_table", "grid_figure", "metric_title", "objective_axis",
           "pareto_figure", "surrogate_figure", "value_axis_type", "value_text", "wrapped"]


def metric_title(metric: Metric) -> str:
    """A metric in words with its unit, e.g. ``energy release rate per stress squared (mm/MPa)``."""
    unit = {"1": "", "E_s": "units of the solid's E"}.get(metric.unit, metric.unit)
    return metric.name.replace("_", " ") + (f" ({unit})" if unit else "")


def wrapped(title: str, width: int = 32) -> str:
    """A plotly axis title broken before its unit when it is long."""
    return title.replace(" (", "<br>(", 1) if len(title) > width else title


def objective_axis(campaign: Campaign) -> tuple[str, Callable[[np.ndarray], np.ndarray]]:
    """Title with units of the (first) objective value, and the map from values (to maximise) to what is shown."""
    objective, evaluator = campaign.objective, campaign.evaluator
    if objective.kind == "target_stiffness":
        return "max error of C11, C22, C33 (%)", lambda v: -100.0 * v
    if objective.kind == "weighted":
        return objective.describe().split(" ", 1)[1], lambda v: v
    metric = evaluator.metric(objective.metrics[0])
    sign = 1.0 if metric.larger_is_better else -1.0
    return metric_title(metric), lambda v: sign * v


def value_text(campaign: Campaign, values: np.ndarray) -> str:
    """Objective values of one design in their units, e.g. ``886.8 MPa, 0.000578 mm/MPa``."""
    objective, evaluator = campaign.objective, campaign.evaluator
    if objective.kind == "target_stiffness":
        return f"{-100.0 * values[0]:.3g} % off"
    if objective.kind == "weighted":
        return f"{values[0]:.4g}"
    metrics = [evaluator.metric(name) for name in objective.metrics]
    shown = values * objective.signs(evaluator)
    return ", ".join(f"{v:.4g} {m.unit if m.unit != '1' else ''}".strip() for v, m in zip(shown, metrics))


def finite_or_none(values: np.ndarray) -> list[float | None]:
    """Plotly points: non-finite values (no label yet) as gaps."""
    return [float(v) if np.isfinite(v) else None for v in values]


def value_axis_type(campaign: Campaign) -> str:
    """Plotly axis type for the shown values: logarithmic for errors of a target stiffness (they span
    decades, from a few hundred per cent at the start to about one at the end), else linear."""
    return "log" if campaign.objective.kind == "target_stiffness" else "linear"


def calls_axis(budget: int) -> dict:
    """Plotly x axis of solver calls 0 .. ``budget`` + 1, ticked at whole calls (Plotly puts ticks at
    half calls on a short axis)."""
    return {"title": "solver calls", "range": [0, budget + 1], **({"dtick": 1} if budget <= 10 else {})}


def best_so_far_trace(campaign: Campaign, label: str | None = None) -> go.Scatter:
    """Best value against solver calls, as a step line through the labelled calls only."""
    _, shown = objective_axis(campaign)
    calls = np.array(sorted(r.candidate.id for r in campaign.results()), dtype=int)
    best = shown(campaign.best_so_far()[calls]) if calls.size else np.array([])
    return go.Scatter(x=calls + 1, y=finite_or_none(best), mode="lines+markers", line_shape="hv",
                      name=label or "best so far")


def best_so_far_figure(campaign: Campaign) -> go.Figure:
    """Every label's value and the best so far, against solver calls."""
    title, shown = objective_axis(campaign)
    results = campaign.results()
    values = shown(np.array([r.values[0] for r in results])) if results else np.array([])
    figure = go.Figure([
        go.Scatter(x=[r.candidate.id + 1 for r in results], y=finite_or_none(values), mode="markers",
                   name="each design", marker={"color": "#9aa5b1", "size": 7}),
        best_so_far_trace(campaign),
    ])
    figure.update_layout(height=360, title="best so far", yaxis_title=wrapped(title),
                         xaxis=calls_axis(campaign.config.budget), yaxis_type=value_axis_type(campaign),
                         margin={"t": 50},
                         legend={"orientation": "h", "y": -0.25})
    return figure


def pareto_figure(campaign: Campaign) -> go.Figure:
    """Both objective values of every labelled design, the non-dominated ones joined."""
    metrics = [campaign.evaluator.metric(name) for name in campaign.objective.metrics]
    signs = campaign.objective.signs(campaign.evaluator)
    ok = np.array([r.values * signs for r in campaign.results() if np.isfinite(r.values).all()]).reshape(-1, 2)
    front = np.array([r.values * signs for r in campaign.pareto_front()]).reshape(-1, 2)
    front = front[np.argsort(front[:, 0])]
    figure = go.Figure([
        go.Scatter(x=ok[:, 0], y=ok[:, 1], mode="markers", name="labelled designs", marker={"color": "#9aa5b1"}),
        go.Scatter(x=front[:, 0], y=front[:, 1], mode="lines+markers", name="Pareto front",
                   marker={"color": "#c0392b", "size": 10}),
    ])
    figure.update_layout(height=360, title="Pareto front", xaxis_title=wrapped(metric_title(metrics[0])),
                         yaxis_title=wrapped(metric_title(metrics[1])),
                         margin={"t": 50}, legend={"orientation": "h", "y": -0.25})
    return figure


def grid_figure(campaign: Campaign, results: list) -> go.Figure:
    """The best plates side by side (yellow soft, blue stiff; red: the initial crack)."""
    names = [f"#{rank}<br>" + value_text(campaign, r.values).replace(", ", "<br>")
             for rank, r in enumerate(results, start=1)]
    figure = make_subplots(rows=1, cols=len(results), subplot_titles=names, horizontal_spacing=0.03)
    crack = getattr(getattr(campaign.evaluator, "setup", None), "crack_length", None)
    for col, result in enumerate(results, start=1):
        design = result.candidate.design
        grid = (design if design.space == "checkerboard" else design.expand()).as_array()
        ny, nx = grid.shape
        figure.add_trace(go.Heatmap(z=grid, x0=0.5 / nx, dx=1 / nx, y0=0.5 / ny, dy=1 / ny, zmin=0, zmax=1,
                                    colorscale=[[0, "#f2c14e"], [1, "#2d5d7b"]], showscale=False,
                                    hovertemplate="x %{x:.2f} mm, y %{y:.2f} mm<extra></extra>"), 1, col)
        if crack is not None:
            figure.add_trace(go.Scatter(x=[0, crack], y=[0.5, 0.5], mode="lines", showlegend=False,
                                        line={"color": "red", "width": 3}, hoverinfo="skip"), 1, col)
        axis = "" if col == 1 else str(col)
        figure.update_layout({f"xaxis{axis}": {"range": [0, 1], "visible": False},
                              f"yaxis{axis}": {"range": [0, 1], "visible": False, "scaleanchor": f"x{axis}"}})
    figure.update_annotations(font_size=12)
    top = 30 + 16 * campaign.objective.n_values
    figure.update_layout(height=230 + top, margin={"l": 5, "r": 5, "t": top + 10, "b": 5},
                         title={"text": "best designs (yellow: soft, blue: stiff, red: crack; 1 mm plate)",
                                "font": {"size": 14}, "y": 0.99})
    return figure


def surrogate_figure(campaign: Campaign) -> go.Figure | None:
    """Accuracy of the strategy's surrogate on the newest labels, where the campaign reports one."""
    rows = campaign.surrogate_accuracy()
    if not rows:
        return None
    table = pd.DataFrame(rows)
    figure = go.Figure([go.Scatter(x=table["solver calls"], y=table[c], mode="lines+markers", name=c)
                        for c in table.columns if c != "solver calls"])
    figure.update_layout(height=360, title="surrogate accuracy on the newest labels",
                         xaxis=calls_axis(campaign.config.budget), yaxis_title="score", margin={"t": 50},
                         legend={"orientation": "h", "y": -0.25})
    return figure


#: Column names of :func:`engine.campaigns.report.design_parameters` as the page shows them.
PARAMETER_NAMES = {"rho": "ρ", **{f"theta_{axis} (deg)": f"θ{axis} (°)" for axis in "xyz"}}


def best_table(campaign: Campaign, rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The best designs' rows (:func:`engine.campaigns.report.best_rows`) as the page shows them: solver calls
    counted from 1 as on the plots, metrics in their units, errors in per cent."""
    table = pd.DataFrame(rows).rename(columns=PARAMETER_NAMES)
    table.insert(1, "solver call", table.pop("candidate") + 1)
    if campaign.objective.kind == "target_stiffness":
        table.insert(4, "max error (%)", -100.0 * table.pop("objective"))
        for column in [c for c in table.columns if c.startswith("error ")]:
            table[f"{column} (%)"] = 100.0 * table.pop(column)
    elif campaign.objective.kind != "weighted":  # the signed objective values repeat the metrics' own columns
        signed = [m for m in campaign.objective.metrics if campaign.evaluator.metric(m).label != m]
        table = table.drop(columns=["objective", *signed], errors="ignore")
    return table


# ---------------------------------------------------------------------------------------------- configure
