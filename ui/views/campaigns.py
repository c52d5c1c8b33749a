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

from designs.spinodal import Spinodoid
from designs.stl import spinodoid_mesh
from engine.campaigns.campaign import CANNOT_RESUME, Campaign, is_outdated
from engine.campaigns.config import MAX_PRETRAIN, CampaignConfig
from engine.campaigns.objectives import TARGET_MATCHED, Objective
from engine.campaigns.report import best_rows, export_best, grip_note, plot_best_so_far, target_note, unbroken_note
from engine.evaluators.fracture import FractureEvaluator
from engine.evaluators.spinodoid import BOUNDARY_CONDITIONS, HomogenizationEvaluator
from engine.search.registry import STRATEGIES, strategy_class
from engine.store import JobRecord, Store, StoreError
from fem.fracture import FIDELITIES
from ui.campaign_figures import (best_so_far_figure, best_so_far_trace, best_table, calls_axis, grid_figure,
                                 objective_axis, pareto_figure, surrogate_figure, value_axis_type, wrapped)
from ui.common import CheckedNumbers, job_manager, open_store, settings, show_error
from ui.fracture_setup import setup_inputs
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
    """The campaign, reopened only when it has proposed new candidates (so a campaign of an older store,
    which replays its strategy once for the surrogate accuracy, does so once per page session)."""
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
    try:
        vertices, faces = spinodoid_surface(results[rank - 1].candidate.design.to_json())
    except ValueError as exc:
        show_error(f"Cannot mesh design #{rank}: {exc}")
        return
    figure = go.Figure(go.Mesh3d(x=vertices[:, 0], y=vertices[:, 1], z=vertices[:, 2], i=faces[:, 0], j=faces[:, 1],
                                 k=faces[:, 2], color="#4a7fb0", flatshading=True))
    figure.update_layout(height=420, title=f"design #{rank}, one cell (unit edge)", scene={"aspectmode": "data"},
                         margin={"l": 0, "r": 0, "t": 40, "b": 0})
    st.plotly_chart(figure)


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
    """The values of a numpydoc set type such as ``{None, "mirror_rows"}`` (empty for other types);
    ``{"a", "b"} or None`` (the strategy decides unless told) gives ``[None, "a", "b"]``."""
    inner = re.fullmatch(r"\s*\{(.*)\}\s*(or None)?\s*", kind)
    if not inner:
        return []
    values = [item.strip() for item in inner.group(1).split(",")]
    return [None] * bool(inner.group(2)) + [None if v == "None" else v.strip("\"'") for v in values if v]


def setting_widget(strategy: str, parameter: inspect.Parameter, doc: tuple[str, str]) -> Callable[[], Any]:
    """A widget for one strategy setting; returns a function giving its value at submit time."""
    kind, text = doc
    default = None if parameter.default is parameter.empty else parameter.default
    hint = f"{kind} {parameter.annotation}"
    label, key = parameter.name.replace("_", " "), f"setting-{strategy}-{parameter.name}"
    allowed = choices(kind)
    if allowed:
        unset = "default" if re.search(r"\bor None\s*$", kind) else "none"  # None: the strategy decides, or a value
        value = st.selectbox(label, allowed, index=allowed.index(default) if default in allowed else 0, help=text,
                             format_func=lambda v: unset if v is None else str(v), key=key)
    elif isinstance(default, bool):
        value = st.checkbox(label, value=default, help=text, key=key)
    elif default is None and re.search(r"\bbool\b", hint):  # the strategy decides unless told
        value = st.selectbox(label, [None, True, False], help=text, key=key,
                             format_func=lambda v: "default" if v is None else str(v).lower())
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


def free_name(stem: str) -> str:
    """The first of ``stem-1``, ``stem-2``, ... that no campaign in the store has."""
    taken = {c["name"] for c in store.campaigns()}
    return next(f"{stem}-{i}" for i in range(1, len(taken) + 2) if f"{stem}-{i}" not in taken)


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
    labels = {m.name: m.display for m in objectives}
    numbers = CheckedNumbers()
    with st.form("new-campaign", enter_to_submit=False):
        name = st.text_input("Name", value=free_name("campaign"), max_chars=100, key="name")
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
                                   help="orthotropic stiffness in units of the solid's Young's modulus; "
                                        + TARGET_MATCHED)
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
            plane = st.radio("2D model", ["stress", "strain"], format_func=lambda p: f"plane {p}", key="plane",
                             horizontal=True)
            evaluator = {"kind": "fracture", "fidelity": fidelity,
                         "options": {"mode": mode, "plane": plane, **setup_inputs(numbers, in_form=True, key="setup-")}}
            # only strategies with a surrogate can pre-train (the strategy is chosen outside the form)
            pretrain = numbers.number("Pre-train on fast labels", 0, 0, MAX_PRETRAIN, key="pretrain",
                                      help="multi-fidelity: label this many random designs at the fast fidelity "
                                           "first (about 0.1 s each, stored, not in the budget); a CNN fitted to them "
                                           "adds its predictions to every surrogate. Genetic, or self-learning with "
                                           "model cnn or linear; strength or full fidelity; 0: none") \
                if hasattr(cls, "pretrain") else 0
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
        if space != "spinodoid" and pretrain:
            config["pretrain"] = int(pretrain)
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
    elsewhere = active is None and campaign.state == "running"  # run by `matloop campaign run` or another app

    @st.fragment(run_every=POLL_SECONDS if active or elsewhere else None)
    def live() -> None:
        current = open_campaign(name)
        job = store.get_job(active.id) if active else None
        if active and job.finished or elsewhere and current.state != "running":
            st.rerun()  # the whole page redraws once: Resume, the outcome, no more polling
        status = current.status()
        state = status["state"]
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
        if status["pretrain"]:
            done, total = status["pretrain"]["labelled"], status["pretrain"]["designs"]
            st.caption(f"Surrogate pre-trained on {total} fast labels (stored, not counted in the budget)."
                       if done == total else f"Pre-training: {done}/{total} fast labels labelled.")
        if elsewhere:
            st.caption(f"Run by process {status['runner']} outside this app (`matloop campaign run`, or another app on this "
                       "store): this page follows it; stop it where it runs.")
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
        try:
            surrogate, unreadable = surrogate_figure(current), None
        except StoreError as exc:  # an older store's campaign, whose predictions were not kept, that cannot replay
            surrogate, unreadable = None, exc
        charts = [best_so_far_figure(current), pareto_figure(current) if current.objective.n_values == 2 else None,
                  surrogate]
        charts = [chart for chart in charts if chart is not None]
        for column, chart in zip(st.columns(len(charts)) if len(charts) > 1 else [st.container()], charts):
            column.plotly_chart(chart)
        if unreadable is not None:
            st.caption(f"No surrogate accuracy: {unreadable}.")
        elif surrogate is None and current.config.strategy == "random":
            st.caption("Random search has no surrogate, so there is no surrogate accuracy to show.")
        elif surrogate is None:
            st.caption(f"No surrogate accuracy yet: the {current.config.strategy} strategy's surrogate has not "
                       "ranked a labelled batch of three or more designs (its first batches are drawn at random).")
        results = current.best(SHOWN_DESIGNS)
        if results:
            if current.config.space != "spinodoid":
                st.plotly_chart(grid_figure(current, results))
            rows = best_rows(current, SHOWN_DESIGNS)
            table = best_table(current, rows)
            st.dataframe(table, hide_index=True, column_config={
                c: st.column_config.NumberColumn(c, format="%.4g") for c in table.columns if table[c].dtype == float})
            records = table.to_dict("records")
            for note in (unbroken_note(records), grip_note(records), target_note(rows)):
                if note is not None:
                    st.caption(note)
            if current.config.space == "spinodoid":
                spinodoid_preview(results, name)

    live()
    last = jobs[0] if jobs else None
    failed = active is None and last is not None and last.status == "failed"
    # its history no longer replays (the strategy's code changed): found by the run that tried to resume it
    stuck = failed and last.error.endswith(CANNOT_RESUME)
    if failed and not stuck:
        st.error(f"The last run of this campaign failed: {last.error}")
    if campaign.outdated or stuck:
        why = campaign.outdated or (last.error.partition(": ")[2].removesuffix(CANNOT_RESUME)
                                    + "it cannot resume, but it can be shown and exported")
        st.warning(why[0].upper() + why[1:] + ".", icon=":material/history:")
        again = free_name(f"{name[:86]}-again")  # names have at most 100 characters
        if st.button(f"Start a new campaign '{again}' with this configuration", icon=":material/replay:",
                     help="the same design space, objective, strategy, budget and seed, labelled by this matloop; "
                          "this campaign stays as it is"):
            try:
                Campaign.create(store, again, campaign.config.to_json())
            except ValueError as exc:
                show_error(f"Cannot start a new campaign {again!r}: {exc}")
            else:
                start_job(again)
                st.rerun()
    elif active is None and campaign.state not in ("finished", "running"):
        if st.button("Resume" if campaign.spent else "Start", type="primary", icon=":material/play_arrow:"):
            start_job(name)
            st.rerun()
    if campaign.state == "finished":
        st.success(f"Campaign finished: {campaign.spent} solver calls spent.")
    exports(name, campaign)


def exports(name: str, campaign: Campaign) -> None:
    """Download buttons; each file is made when its button is pressed (from the store as it is then)."""
    if not campaign.best(1):  # nothing with a value of the objective: nothing to export
        return
    st.subheader("Export")
    st.caption("Each file names the solver that labelled its designs (version, fidelity, a hash of its settings)"
               + (" and says that the campaign is outdated." if campaign.outdated else "."))
    k = CheckedNumbers().number("Best designs to export", 10, 1, 1000, key=f"export-k-{name}",
                                help="the best by the campaign's objective")
    if k is None:
        return  # no file of another length is offered
    path = str(store.path)

    def make(fmt: str) -> Callable[[], bytes]:
        return lambda: export_best(Campaign.open(Store(path, create=False), name), fmt, k)

    files = [("Best designs (JSON lines)", make("jsonl"), "jsonl", "application/jsonl"),
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
                                "budget": r["config"].get("budget"), "outdated": is_outdated(store, r)}
                               for r in records]), hide_index=True,
                 column_config={"outdated": st.column_config.CheckboxColumn(
                     "outdated", help="labelled by another solver version or settings: shown, not resumed")})


# ---------------------------------------------------------------------------------------------- compare
@st.fragment
def compare() -> None:
    """Best-so-far curves of several campaigns with the same objective on one plot."""
    groups: dict[str, list[str]] = {}
    for record in records:
        try:
            config = CampaignConfig.from_json(record["config"])
            described = Objective.from_config(config.objective).describe(config.make_evaluator())
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
    figure.update_layout(height=400, title=f"best so far: {campaigns[0].objective.describe(campaigns[0].evaluator)}",
                         xaxis=calls_axis(max(c.config.budget for c in campaigns)), yaxis_title=wrapped(title),
                         yaxis_type=value_axis_type(campaigns[0]),
                         legend={"orientation": "h", "y": -0.2})
    st.plotly_chart(figure)
    path = str(store.path)
    st.download_button("Comparison plot (PNG)", lambda: plot_best_so_far([Campaign.open(Store(path, create=False), n)
                                                                         for n in chosen]),
                       file_name="campaigns-best-so-far.png", mime="image/png", on_click="ignore")


if len(records) > 1:
    st.divider()
    st.subheader("Compare strategies")
    compare()
