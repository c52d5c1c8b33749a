"""Campaigns page: configure a closed-loop campaign, run it as a job, watch it, stop, resume, compare, export.

The URL names the campaign shown (``?campaign=<name>``) and its newest job (``?job=<id>``), so a
reload or a shared link finds both. While a campaign job runs, the view polls the store
(``st.fragment(run_every=...)``); nothing long runs in the page script. Strategy settings are
drawn from the signature and numpydoc of whatever strategy class the registry names.

Campaigns of surrogate strategies get the curve of ``Campaign.surrogate_accuracy()``: Spearman
and R² of the surrogate on each batch before it learnt its labels.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from designs.base import Design
from designs.spinodal import Spinodoid
from designs.stl import spinodoid_mesh
from engine.campaigns.campaign import Campaign
from engine.campaigns.config import CampaignConfig
from engine.campaigns.objectives import Objective
from engine.campaigns.report import best_rows, export_best, plot_best_so_far
from engine.evaluators.fracture import FractureEvaluator
from engine.evaluators.protocol import Metric
from engine.evaluators.spinodoid import BOUNDARY_CONDITIONS, HomogenizationEvaluator
from engine.search.registry import STRATEGIES, strategy_class
from engine.store import JobRecord, Store
from fem.fracture import FIDELITIES
from ui.common import CheckedNumbers, job_manager, open_store, settings, show_error
from ui.job_panel import attach_job

CAMPAIGN_KEY = "campaign"
POLL_SECONDS = 1.0
SHOWN_DESIGNS = 6
METRIC_TABLES = {"checkerboard": FractureEvaluator.METRICS, "hierarchical": FractureEvaluator.METRICS,
                 "spinodoid": HomogenizationEvaluator.METRICS}
OBJECTIVE_KINDS = {"metric": "one metric", "pareto": "Pareto front of two metrics",
                   "target_stiffness": "target stiffness"}
#: Strategy constructor arguments the campaign fills in itself.
FIXED_ARGUMENTS = ("self", "space", "seed", "objective")
#: What a strategy module being written (or missing a dependency) raises on import.
UNLOADABLE = (ImportError, AttributeError, SyntaxError)
EXAMPLE_TARGET = "0.25 0.08 0.08 0.25 0.08 0.25 0.08 0.08 0.08"

st.title("Design campaigns")
st.markdown(
    "A campaign closes the loop: a search strategy proposes a batch of designs, the solver labels "
    "them (each label is one **solver call**), the strategy learns from the numbers and proposes the "
    "next batch, until the budget of solver calls is spent. Everything is kept in the store, so a "
    "campaign can be stopped and resumed without repeating a label. Configure one in the sidebar. "
    "Strategies: genetic with a CNN surrogate (Yu, Qin & Buehler, Soft Matter 15, 2019), self-learning "
    "(Gu, Chen & Buehler, Mater. Horiz. 5, 939, 2018), Bayesian optimisation by expected improvement "
    "(Jones, Schonlau & Welch, J. Global Optim. 13, 455, 1998), inverse spinodoid design (Kumar, Tan, "
    "Zheng & Kochmann, npj Comput. Mater. 6, 73, 2020) and random search as the baseline."
)
store = open_store()
manager = job_manager(store)


# ---------------------------------------------------------------------------------------------- helpers
def open_campaign(name: str) -> Campaign:
    """The campaign, reopened (its strategy replayed) only when it has proposed new candidates."""
    record = store.campaign(name)  # StoreError (a ValueError) naming the known campaigns
    count = len(store.candidates(record["id"]))
    cache = st.session_state.setdefault("campaign-cache", {})
    key = (str(store.path), name, record["id"])
    if key not in cache or cache[key][0] != count:
        cache[key] = (count, Campaign.open(store, name))
    return cache[key][1]


def campaign_jobs(name: str) -> list[JobRecord]:
    """The run-campaign jobs of ``name``, newest first."""
    return [job for job in store.jobs(limit=1000) if job.kind == "run-campaign" and job.params.get("name") == name]


def start_job(name: str) -> None:
    """Run (or resume) campaign ``name`` as a background job and name both in the URL."""
    job_id = manager.submit("run-campaign", {"name": name, "executor": settings().executor})
    st.query_params[CAMPAIGN_KEY] = name
    attach_job(job_id)


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
    figure.update_layout(height=360, title="best so far", xaxis_title="solver calls", yaxis_title=wrapped(title),
                         xaxis={"range": [0, campaign.config.budget + 1]}, margin={"t": 50},
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


@st.cache_data(show_spinner="Meshing the preview…", max_entries=16)
def spinodoid_surface(genome_json: str) -> tuple[np.ndarray, np.ndarray]:
    """A coarse closed surface of a spinodoid (unit cell edge) for the 3D preview."""
    design = Spinodoid.from_json(genome_json)
    mesh = spinodoid_mesh(design, design.min_resolution(), cell_size_mm=1.0)
    return mesh.vertices, mesh.faces


def spinodoid_preview(results: list, key: str) -> None:
    """On request, a 3D preview of one of the best spinodoids."""
    if not st.toggle("3D preview", key=f"preview-{key}"):
        return
    rank = st.selectbox("Design", range(1, len(results) + 1), format_func=lambda i: f"#{i}", key=f"preview-rank-{key}")
    vertices, faces = spinodoid_surface(results[rank - 1].candidate.design.to_json())
    figure = go.Figure(go.Mesh3d(x=vertices[:, 0], y=vertices[:, 1], z=vertices[:, 2], i=faces[:, 0], j=faces[:, 1],
                                 k=faces[:, 2], color="#4a7fb0", flatshading=True))
    figure.update_layout(height=420, title=f"design #{rank}, one cell (unit edge)", scene={"aspectmode": "data"},
                         margin={"l": 0, "r": 0, "t": 40, "b": 0})
    st.plotly_chart(figure)


def surrogate_figure(campaign: Campaign) -> go.Figure | None:
    """Accuracy of the strategy's surrogate on the newest labels, where the campaign reports one."""
    rows = campaign.surrogate_accuracy()
    if not rows:
        return None
    table = pd.DataFrame(rows)
    figure = go.Figure([go.Scatter(x=table["solver calls"], y=table[c], mode="lines+markers", name=c)
                        for c in table.columns if c != "solver calls"])
    figure.update_layout(height=360, title="surrogate accuracy on the newest labels", xaxis_title="solver calls",
                         yaxis_title="score", margin={"t": 50}, legend={"orientation": "h", "y": -0.25})
    return figure


def design_columns(design: Design) -> dict[str, float]:
    """What a scientist reads off a design: ρ and the cone angles, or the soft share of the plate."""
    if design.space == "spinodoid":
        return {"ρ": design.rho, **{f"θ{axis} (°)": t for axis, t in zip("xyz", design.theta)}}
    plate = design if design.space == "checkerboard" else design.expand()
    return {"soft fraction": plate.fraction("soft")}


def best_table(campaign: Campaign) -> pd.DataFrame:
    """The best designs as rows: solver calls counted from 1 as on the plots, metrics in their units."""
    table = pd.DataFrame(best_rows(campaign, SHOWN_DESIGNS))
    table.insert(1, "solver call", table.pop("candidate") + 1)
    parameters = pd.DataFrame([design_columns(r.candidate.design) for r in campaign.best(SHOWN_DESIGNS)])
    for position, column in enumerate(parameters.columns, start=4):
        table.insert(position, column, parameters[column])
    if campaign.objective.kind == "target_stiffness":
        table.insert(4, "max error (%)", -100.0 * table.pop("objective"))
        for column in [c for c in table.columns if c.startswith("error ")]:
            table[f"{column} (%)"] = 100.0 * table.pop(column)
    elif campaign.objective.kind != "weighted":  # the signed objective values repeat the metrics' own columns
        signed = [m for m in campaign.objective.metrics if campaign.evaluator.metric(m).label != m]
        table = table.drop(columns=["objective", *signed], errors="ignore")
    return table


# ---------------------------------------------------------------------------------------------- configure
def parameter_docs(cls: type) -> dict[str, tuple[str, str]]:
    """Numpydoc ``Parameters`` of a class and its bases (a subclass's own entry wins): name → (type, text)."""
    docs: dict[str, tuple[str, str]] = {}
    for klass in reversed(cls.__mro__):
        section = re.search(r"Parameters\n-+\n(.*?)(?:\n\n[A-Z][a-z]+\n-+\n|\Z)", inspect.getdoc(klass) or "", re.S)
        name = None
        for line in (section.group(1) if section else "").splitlines():
            head = re.match(r"^(\w+)\s*:\s*(.*)$", line)
            if head:
                name = head.group(1)
                docs[name] = (head.group(2), "")
            elif re.match(r"^\w+(, \w+)+\s*$", line):
                name = None  # "a, b, c: see the base class": the base's entries stand
            elif name and line.strip():
                docs[name] = (docs[name][0], (docs[name][1] + " " + line.strip()).strip())
    return {name: (kind, re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text)) for name, (kind, text) in docs.items()}


def choices(kind: str) -> list[Any]:
    """The values of a numpydoc set type such as ``{None, "mirror_rows"}`` (empty for other types)."""
    inner = re.fullmatch(r"\s*\{(.*)\}\s*", kind)
    if not inner:
        return []
    values = [item.strip() for item in inner.group(1).split(",")]
    return [None if v == "None" else v.strip("\"'") for v in values if v]


def setting_widget(strategy: str, parameter: inspect.Parameter, doc: tuple[str, str]) -> Callable[[], Any]:
    """A widget for one strategy setting; returns a function giving its value at submit time."""
    kind, text = doc
    default = None if parameter.default is parameter.empty else parameter.default
    hint = f"{kind} {parameter.annotation}"
    label, key = parameter.name.replace("_", " "), f"setting-{strategy}-{parameter.name}"
    allowed = choices(kind)
    if allowed:
        value = st.selectbox(label, allowed, index=allowed.index(default) if default in allowed else 0, help=text,
                             format_func=lambda v: "none" if v is None else str(v), key=key)
    elif isinstance(default, bool):
        value = st.checkbox(label, value=default, help=text, key=key)
    elif isinstance(default, int) or (default is None and re.search(r"\bint\b", hint)):
        value = st.number_input(label, value=default, step=1, help=text, key=key, placeholder="default")
    elif isinstance(default, float) or (default is None and re.search(r"\bfloat\b", hint)):
        value = st.number_input(label, value=default, format="%g", help=text, key=key, placeholder="default")
    elif isinstance(default, str):
        value = st.text_input(label, value=default, help=text, key=key)
    else:
        raw = st.text_input(f"{label} (JSON)", value="" if default is None else json.dumps(default), help=text,
                            key=key, placeholder="default")

        def parse() -> Any:
            try:
                return json.loads(raw) if raw.strip() else None
            except json.JSONDecodeError as exc:
                raise ValueError(f"the {strategy} setting {parameter.name} is not JSON ({exc.msg}): {raw!r}") from None

        return parse
    return lambda: value


def strategy_settings(strategy: str) -> dict[str, Callable[[], Any]]:
    """Widgets for every setting of the strategy's constructor."""
    cls = strategy_class(strategy)
    docs = parameter_docs(cls)
    parameters = [p for p in inspect.signature(cls.__init__).parameters.values()
                  if p.name not in FIXED_ARGUMENTS and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if not parameters:
        st.caption(f"The {strategy} strategy has no settings.")
    return {p.name: setting_widget(strategy, p, docs.get(p.name, ("", ""))) for p in parameters}


def parse_target(text: str) -> list[float]:
    """Nine stiffness components from text (spaces or commas)."""
    try:
        return [float(v) for v in re.split(r"[,\s]+", text.strip()) if v]
    except ValueError:
        raise ValueError(f"the target stiffness must be 9 numbers (C11 C12 C13 C22 C23 C33 C44 C55 C66), "
                         f"got {text!r}") from None


def default_name() -> str:
    """The first free name campaign-1, campaign-2, ..."""
    taken = {c["name"] for c in store.campaigns()}
    return next(f"campaign-{i}" for i in range(1, len(taken) + 2) if f"campaign-{i}" not in taken)


def configure() -> None:
    """The sidebar: a new campaign's configuration; Start checks it, records it and submits its job."""
    st.header("New campaign")
    space = st.selectbox("Design space", list(METRIC_TABLES), key="space",
                         help="checkerboard: soft/stiff blocks; hierarchical: building blocks of sub-grids; "
                              "spinodoid: 3D metamaterials (ρ and three cone angles)")
    strategy = st.selectbox("Strategy", list(STRATEGIES), key="strategy")
    try:
        cls = strategy_class(strategy)
    except UNLOADABLE as exc:
        show_error(f"The {strategy} strategy cannot be loaded here ({type(exc).__name__}: {exc}); choose another one.")
        return
    summary = re.sub(r"\s*\(see [^)]*\)", "", (inspect.getdoc(cls) or "").split("\n", 1)[0])
    st.caption(f"{summary} Searches {', '.join(getattr(cls, 'spaces', ()))} designs.")
    kinds = [k for k in OBJECTIVE_KINDS if k != "target_stiffness" or space == "spinodoid"]
    kind = st.radio("Objective", kinds, format_func=OBJECTIVE_KINDS.get, key="objective-kind")
    objectives = [m for m in METRIC_TABLES[space] if m.larger_is_better is not None]
    labels = {m.name: m.label for m in objectives}
    numbers = CheckedNumbers()
    with st.form("new-campaign"):
        name = st.text_input("Name", value=default_name(), max_chars=100, key="name")
        if space == "spinodoid":
            rho = st.slider("Solid fraction ρ range", 0.05, 0.95, (0.3, 0.9), 0.01, key="rho")
            space_settings = {"rho": list(rho),
                              "geometry_seed": numbers.number("Geometry seed", 0, 0, 2**31 - 1, key="geometry-seed",
                                                              help="of the random fields the designs are cut from")}
        else:
            low = 2 if space == "checkerboard" else 1
            a, b = st.columns(2)
            rows = numbers.number("Rows", 8 if space == "checkerboard" else 4, low, 64, where=a, key="rows",
                                  help="blocks along y")
            columns = numbers.number("Columns", 8 if space == "checkerboard" else 4, low, 64, where=b, key="columns",
                                     help="blocks along x")
            space_settings = {"rows": rows, "columns": columns}
            if space == "checkerboard":
                space_settings["soft_fraction"] = list(st.slider("Soft fraction range", 0.0, 1.0, (0.0, 1.0), 0.05,
                                                                 key="soft-fraction"))
            else:
                space_settings["sub"] = numbers.number("Fine cells per block side", 2, 2, 32, key="sub",
                                                       help="of each building block")
        if kind == "target_stiffness":
            target = st.text_input("Target C11 C12 C13 C22 C23 C33 C44 C55 C66", EXAMPLE_TARGET, key="target",
                                   help="orthotropic stiffness in units of the solid's Young's modulus")
        else:
            names = list(labels)
            preferred = [names.index(n) for n in ("strength", "stiffness") if n in names] or [0, 1]
            first = st.selectbox("Metric" if kind == "metric" else "First metric", names, index=preferred[0],
                                 format_func=labels.get, key="metric")
            second = (st.selectbox("Second metric", names, index=preferred[1], format_func=labels.get, key="metric-2")
                      if kind == "pareto" else None)
        if space == "spinodoid":
            a, b = st.columns(2)
            evaluator = {"kind": "homogenization",
                         "resolution": int(a.selectbox("Voxels per side", [24, 32, 48, 64], index=1, key="resolution")),
                         "bc": b.selectbox("Boundary conditions", BOUNDARY_CONDITIONS, key="bc")}
        else:
            fidelity = st.selectbox("Fidelity", FIDELITIES, index=FIDELITIES.index("strength"), key="fidelity",
                                   help="fast: one linear solve of the initial crack (stiffness, G/σ², |K|/σ); "
                                        "strength: to the peak stress (+ strength); full: to failure (+ toughness)")
            mode = st.radio("Loading", ["I", "II"], format_func=lambda m: f"mode {m}", key="mode", horizontal=True)
            evaluator = {"kind": "fracture", "fidelity": fidelity, "options": {"mode": mode}}
        a, b, c = st.columns(3)
        budget = numbers.number("Budget", 20, 1, 100_000, where=a, key="budget", help="solver calls (labelled designs)")
        batch = numbers.number("Batch", 4, 1, 10_000, where=b, key="batch", help="designs proposed and labelled together")
        seed = numbers.number("Seed", 0, 0, 2**31 - 1, where=c, key="seed", help="of the search")
        with st.expander(f"{strategy} settings"):
            values = strategy_settings(strategy)
        if not st.form_submit_button("Start campaign", type="primary"):
            return
        if not numbers.ok:
            numbers.summary("Start campaign")
            return
    try:
        if kind == "target_stiffness":
            objective = {"kind": kind, "target": parse_target(target)}
        else:
            objective = {"kind": kind, "metrics": [first] if kind == "metric" else [first, second]}
        chosen = {key: value() for key, value in values.items()}
        config = {"space": space, "strategy": strategy, "objective": objective, "budget": int(budget),
                  "batch_size": int(batch), "seed": int(seed), "space_settings": space_settings,
                  "strategy_settings": {k: v for k, v in chosen.items() if v is not None}, "evaluator": evaluator}
        campaign = Campaign.create(store, name, config)
    except (ValueError, TypeError) as exc:  # TypeError: a strategy setting of the wrong kind (JSON settings)
        show_error(f"Cannot start this campaign: {exc}")
        return
    start_job(campaign.name)
    st.rerun()


with st.sidebar:
    configure()


# ---------------------------------------------------------------------------------------------- watch
def watch(name: str) -> None:
    """Live view of a campaign, with Stop / Resume and downloads."""
    try:
        campaign = open_campaign(name)
    except (ValueError, *UNLOADABLE) as exc:
        st.warning(f"Cannot show campaign {name!r}: {exc}. Pick another one or start a new one in the sidebar.",
                   icon=":material/warning:")
        return
    jobs = campaign_jobs(name)
    active = next((job for job in jobs if not job.finished), None)

    @st.fragment(run_every=POLL_SECONDS if active else None)
    def live() -> None:
        current = open_campaign(name)
        job = store.get_job(active.id) if active else None
        if active and job.finished:
            st.rerun()  # the whole page redraws once: Resume, the outcome, no more polling
        status = current.status()
        state = status["state"] if active or status["state"] != "running" else "interrupted"
        title, shown = objective_axis(current)
        quantity, _, unit = title.removesuffix(")").partition(" (")
        unit = {"units of the solid's E": "E_s"}.get(unit, unit)
        best = "–" if status["best"] is None else f"{shown(np.array(status['best']))[0]:.4g} {unit}".strip()
        cols = st.columns(4)
        cols[0].metric("State", state)
        cols[1].metric("Solver calls", f"{status['labelled']} / {status['budget']}",
                       help=f"labelled designs / budget; {status['pending']} in flight")
        cols[2].metric("Failed labels", status["failed"])
        note = "" if current.objective.n_values == 1 else "; of the first objective, the Pareto front shows both"
        cols[3].metric(f"Best {quantity}" if len(quantity) < 28 else "Best value", best, help=f"{title}{note}")
        st.progress(status["labelled"] / status["budget"],
                    text=f"{status['labelled']}/{status['budget']} solver calls · {status['objective']} · "
                         f"{current.config.strategy} over {current.config.space} designs")
        if job is not None:
            st.caption(f"Job `{job.id}` · {job.status} · {job.message}")
            if st.button("Stop campaign", key="stop", disabled=job.cancel_requested, icon=":material/pause:",
                         help="pause after the labels in flight; Resume continues where it stopped"):
                manager.cancel(job.id)
                st.toast("Stopping after the labels in flight…")
            if job.cancel_requested:
                st.info("Stopping after the labels in flight…")
        if status["labelled"] and status["best"] is None:
            st.warning(f"None of the {status['labelled']} labelled designs has a value of the objective "
                       f"({status['objective']}); {status['failed']} labels failed. "
                       + "; ".join(sorted({r.evaluation.reason for r in current.results() if r.evaluation.reason})[:3]))
        surrogate = surrogate_figure(current)
        charts = [best_so_far_figure(current), pareto_figure(current) if current.objective.n_values == 2 else None,
                  surrogate]
        charts = [chart for chart in charts if chart is not None]
        for column, chart in zip(st.columns(len(charts)) if len(charts) > 1 else [st.container()], charts):
            column.plotly_chart(chart)
        if surrogate is None and current.config.strategy == "random":
            st.caption("Random search has no surrogate, so there is no surrogate accuracy to show.")
        elif surrogate is None:
            st.caption(f"No surrogate accuracy yet: the {current.config.strategy} strategy's surrogate has not "
                       "ranked a labelled batch of three or more designs (its first batches are drawn at random).")
        results = current.best(SHOWN_DESIGNS)
        if results:
            if current.config.space != "spinodoid":
                st.plotly_chart(grid_figure(current, results))
            table = best_table(current)
            st.dataframe(table, hide_index=True, column_config={
                c: st.column_config.NumberColumn(c, format="%.4g") for c in table.columns if table[c].dtype == float})
            if current.config.space == "spinodoid":
                spinodoid_preview(results, name)

    live()
    last = jobs[0] if jobs else None
    if active is None and last is not None and last.status == "failed":
        st.error(f"The last run of this campaign failed: {last.error}")
    if active is None and campaign.state != "finished":
        if st.button("Resume" if campaign.spent else "Start", type="primary", icon=":material/play_arrow:"):
            start_job(name)
            st.rerun()
    if campaign.state == "finished":
        st.success(f"Campaign finished: {campaign.spent} solver calls spent.")
    exports(name, campaign)


def exports(name: str, campaign: Campaign) -> None:
    """Download buttons; each file is made when its button is pressed (from the store as it is then)."""
    if not campaign.results():
        return
    st.subheader("Export")
    k = CheckedNumbers().number("Best designs to export", 10, 1, 1000, key=f"export-k-{name}",
                                help="the best by the campaign's objective")
    if k is None:
        return  # no file of another length is offered
    path = str(store.path)

    def make(fmt: str) -> Callable[[], bytes]:
        return lambda: export_best(Campaign.open(Store(path, create=False), name), fmt, k)

    files = [("Best designs (JSON lines)", make("json"), "jsonl", "application/jsonl"),
             ("Best designs (CSV)", make("csv"), "csv", "text/csv"),
             ("Best-so-far plot (PNG)", lambda: plot_best_so_far([Campaign.open(Store(path, create=False), name)]),
              "png", "image/png"),
             ("Printable STL (zip)", make("stl"), "stl.zip", "application/zip")]
    if campaign.config.space != "spinodoid":
        files.append(("Printable 3MF (zip)", make("3mf"), "3mf.zip", "application/zip"))
    for col, (label, data, suffix, mime) in zip(st.columns(len(files)), files):
        col.download_button(label, data, file_name=f"{name}-best.{suffix}", mime=mime, on_click="ignore")


records = store.campaigns()
names = [record["name"] for record in records]
wanted = st.query_params.get(CAMPAIGN_KEY)
if wanted in names:
    st.session_state["watch"] = wanted  # the URL wins: a reload, a link, a new campaign, the picker (via pick)


def pick() -> None:
    """A campaign chosen in the picker goes into the URL (its job is looked up, not the URL's)."""
    st.query_params.pop("job", None)
    if st.session_state["watch"] is None:
        st.query_params.pop(CAMPAIGN_KEY, None)
    else:
        st.query_params[CAMPAIGN_KEY] = st.session_state["watch"]


if names:
    st.selectbox("Campaign", names, key="watch", index=None, placeholder="choose a campaign", on_change=pick)
if wanted and wanted not in names:
    st.warning(f"No campaign named {wanted!r} in this store"
               + (f"; campaigns: {', '.join(names)}." if names else ", and none yet: start one in the sidebar."),
               icon=":material/warning:")
elif st.session_state.get("watch"):
    watch(st.session_state["watch"])
elif not names:
    st.info("No campaigns in this store yet: configure one in the sidebar and press **Start campaign**.")
else:
    st.dataframe(pd.DataFrame([{"campaign": r["name"], "state": r["state"], "strategy": r["config"].get("strategy"),
                                "space": r["config"].get("space"), "designs": r["designs"],
                                "budget": r["config"].get("budget")} for r in records]), hide_index=True)


# ---------------------------------------------------------------------------------------------- compare
@st.fragment
def compare() -> None:
    """Best-so-far curves of several campaigns with the same objective on one plot."""
    groups: dict[str, list[str]] = {}
    for record in records:
        try:
            config = CampaignConfig.from_json(record["config"])
            described = Objective.from_config(config.objective).describe()
        except ValueError:  # a configuration this version cannot read: the campaign's own view says why
            continue
        spec = {k: v for k, v in config.evaluator.items() if k not in ("kind", "options")}
        spec.update(config.evaluator.get("options") or {})
        solver = ", ".join(f"{k} {v}" for k, v in sorted(spec.items()))
        group = f"{described} · {config.space} · {solver}"
        groups.setdefault(group, []).append(record["name"])
    groups = {group: members for group, members in groups.items() if len(members) > 1}
    if not groups:
        st.caption("Campaigns that share a design space and an objective can be compared here (none yet).")
        return
    group = st.selectbox("Objective, design space and solver", list(groups), key="compare-group")
    chosen = st.multiselect("Campaigns", groups[group], default=groups[group][:4], key=f"compare-{group}")
    if not chosen:
        return
    try:
        campaigns = [open_campaign(n) for n in chosen]
    except (ValueError, *UNLOADABLE) as exc:
        show_error(f"Cannot compare: {exc}")
        return
    title, _ = objective_axis(campaigns[0])
    figure = go.Figure([best_so_far_trace(c, f"{c.name} ({c.config.strategy})") for c in campaigns])
    figure.update_layout(height=400, title=f"best so far: {campaigns[0].objective.describe()}",
                         xaxis_title="solver calls", yaxis_title=wrapped(title), legend={"orientation": "h", "y": -0.2})
    st.plotly_chart(figure)
    path = str(store.path)
    st.download_button("Comparison plot (PNG)", lambda: plot_best_so_far([Campaign.open(Store(path, create=False), n)
                                                                         for n in chosen]),
                       file_name="campaigns-best-so-far.png", mime="image/png", on_click="ignore")


if len(records) > 1:
    st.divider()
    st.subheader("Compare strategies")
    compare()
