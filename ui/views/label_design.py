"""Label a design: draw or randomise a checkerboard, run the fracture solver as a job, look."""

from __future__ import annotations

import datetime
import io
import json
import zipfile

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from designs.checkerboard import Checkerboard
from designs.hierarchical import Hierarchical
from designs.registry import design_from_record
from designs.stl import plate_stl
from designs.threemf import plate_3mf
from engine.evaluators.fracture import FRACTURE_METRICS, FractureEvaluator
from engine.store import JobRecord, SolverKey
from fem.fracture import ENDED_AT, FIDELITIES, PlateSetup, crack_path_of
from fem.phasefield_crack import FAILURE_LEVEL, GRIP_BAND_ELLS, CrackPath
from ui.common import CheckedNumbers, job_manager, open_store, show_error, theme_safe_colours
from ui.design_figures import plate_figure
from ui.fracture_setup import setup_inputs
from ui.job_panel import attach_job, attached_job_id, job_panel

st.title("Label a design")
st.markdown(
    f"A soft/stiff block plate with an edge crack (from the left edge at mid-height, {PlateSetup().crack_length:g} of "
    f"the width in mode I, {PlateSetup(mode='II').crack_length:g} in mode II as in Miehe's shear test), held at its top "
    "and bottom edges through a thin bonded layer (so that the plate cracks at the notch, not at rigid grips), is "
    "pulled at the top (mode I) or sheared, the top free to rise (mode II), until it breaks (the stress falls below "
    f"{100 * PlateSetup().end_fraction:g} % of its peak in mode I, {100 * PlateSetup(mode='II').end_fraction:g} % in "
    "mode II, or, in mode II, the crack from the notch reaches an edge) or reaches the largest applied strain "
    f"({PlateSetup().max_strain:g} in mode I, {PlateSetup(mode='II').max_strain:g} in mode II; a plate that has not "
    "broken by then is flagged). "
    "The phase-field (AT2) solver gives the nominal stress–strain curve, strength (peak stress) "
    "and toughness (the work of fracture per unit volume: the area under the curve up to failure, "
    "MJ/m³); the *fast* fidelity is one linear solve (stiffness, and the energy release rate of the "
    "initial crack per unit stress squared). Soft E = 100 MPa, stiff E = 1000 MPa, ν = 0.33, both "
    "fail at 40 MPa in tension and crush at 400 MPa, unless changed under *Phases*. Method: the AT2 "
    "phase-field model of brittle fracture (Bourdin, Francfort & Marigo, J. Mech. Phys. Solids 48, 797, "
    "2000) with the history field and spectral tension/compression split of Miehe, Hofacker & Welschinger "
    "(Comput. Methods Appl. Mech. Eng. 199, 2765, 2010), staggered solves; checkerboard composites as in "
    "Yu, Qin & Buehler (Soft Matter 15, 2019)."
)


store = open_store()
manager = job_manager(store)
SOFT, STIFF = 0, 1
BLOCK_NAMES = {"checkerboard": ["soft", "stiff"], "hierarchical": ["isotropic", "stiff along x", "stiff along y"]}

with st.sidebar:
    st.subheader("Design")
    space = st.radio("Design space", ["checkerboard", "hierarchical"], horizontal=True)
    sizing = CheckedNumbers()
    fewest = 2 if space == "checkerboard" else 1
    rows = sizing.number("Rows", 8 if space == "checkerboard" else 4, fewest, 32, help="blocks along y")
    columns = sizing.number("Columns", 8 if space == "checkerboard" else 4, fewest, 32, help="blocks along x")
    seed = sizing.number("Seed", 0, 0, 2**31 - 1, help="of the random design drawn by Randomise")
    soft_fraction = symmetric = None
    if space == "checkerboard":
        soft_fraction = st.slider("Soft fraction", 0.0, 1.0, 0.5, 0.05)
        symmetric = st.checkbox("Mirror-symmetric about the crack plane")
    randomise = st.button("Randomise", disabled=not sizing.ok)
if not sizing.ok:
    st.stop()  # the sidebar says which input is out of range; the drawn design is kept as it is


def block_types(table: pd.DataFrame, names: list[str]) -> np.ndarray:
    """Block type indices of the edited table (top row first).

    Each cell must hold a block type: its number (0, 1, ...) or its name. An empty cell, a
    fraction or any other text raises ``ValueError`` naming the cells (row counted from the top
    of the table, column by its header) and the allowed types; nothing is read as another type.
    """
    allowed = {str(i): i for i in range(len(names))} | {name.lower(): i for i, name in enumerate(names)}
    types = np.zeros(table.shape, dtype=int)
    bad = []
    for row, column in np.ndindex(*table.shape):
        cell = table.iat[row, column]
        text = "" if pd.isna(cell) else str(cell).strip().lower()
        if text in allowed:
            types[row, column] = allowed[text]
        else:
            bad.append(f"row {row + 1}, column {table.columns[column]}: " + (repr(str(cell)) if text else "empty"))
    if bad:
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise ValueError(f"{len(bad)} cell(s) hold no block type ({'; '.join(bad[:5])}{more}); each block is one of "
                         + ", ".join(f"{i} = {name}" for i, name in enumerate(names)))
    return types


# The design drawn (block types, bottom row first) lives in the session under its space: edits are
# written back on every run, so leaving the page or changing the seed keeps them; Randomise and a
# new size replace it, and start a new editor (its key's version) so no old edit lands on the new grid.
state_key, version_key = f"grid-{space}", f"grid-version-{space}"
grid = st.session_state.get(state_key)
if randomise or grid is None or np.shape(grid) != (rows, columns):
    rng = np.random.default_rng(int(seed))
    if space == "checkerboard":
        grid = Checkerboard.random(int(rows), int(columns), soft_fraction, rng, symmetric=symmetric).as_array()
    else:
        grid = np.asarray(Hierarchical.random(int(rows), int(columns), seed=rng).grid)
    st.session_state[state_key] = grid
    st.session_state[version_key] = st.session_state.get(version_key, 0) + 1

names = BLOCK_NAMES[space]
st.subheader("Blocks")
st.caption("Top row of the table = top of the plate. Type a block's number or name: "
           + ", ".join(f"{i} = {name}" for i, name in enumerate(names))
           + ". The drawing stays when you change the seed or leave the page; Randomise or a new size replaces it.")
table = pd.DataFrame(np.asarray(grid)[::-1].astype(str), columns=[str(c) for c in range(int(columns))])
edited = st.data_editor(  # text cells: what is typed reaches block_types as typed, nothing is coerced
    table, hide_index=True, key=f"editor-{space}-{st.session_state[version_key]}",
    column_config={c: st.column_config.TextColumn(c) for c in table.columns},
)
try:
    values = block_types(edited, names)[::-1]
    if space == "checkerboard":
        design = Checkerboard.from_array(values)
    else:
        design = Hierarchical(tuple(tuple(int(v) for v in row) for row in values))
except ValueError as exc:
    show_error(f"Invalid design: {exc}")
    st.stop()
st.session_state[state_key] = values

shown = design.as_array() if space == "checkerboard" else design.expand().as_array()
left, right = st.columns([1, 1])
preview = left.empty()                  # drawn once the loading mode (and so the crack) is chosen
with left.expander("Printable plate (two-material 3MF / STL)"):
    printing = CheckedNumbers()
    block_mm = printing.number("Block edge (mm)", 5.0, 0.5, 50.0, "mm", help="edge of one printed block")
    thickness_mm = printing.number("Thickness (mm)", 2.0, 0.2, 50.0, "mm", help="of the printed plate")
    plate_name = f"plate-{design.content_hash()[:12]}"
    if printing.ok:  # no file of another size than the one typed
        # rows along x, columns along y; one closed body per material, named "soft" / "stiff"
        st.download_button("Download 3MF (one file, soft + stiff bodies)",
                           plate_3mf(shown.T, float(block_mm), float(thickness_mm), palette=("soft", "stiff")),
                           file_name=f"{plate_name}.3mf", mime="model/3mf")
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for value, data in plate_stl(shown.T, float(block_mm), float(thickness_mm)).items():
                zipped.writestr(f"{plate_name}-{('soft', 'stiff')[value]}.stl", data)
        st.download_button("Download STL bodies (zip)", archive.getvalue(),
                           file_name=f"{plate_name}.zip", mime="application/zip")
    st.caption("Prefer the 3MF for a multi-material printer: STL has no shared vertices, so blocks "
               "of one material that touch only at a corner look non-manifold to a slicer.")
with right:
    st.subheader("Solver")
    fidelity = st.selectbox("Fidelity", FIDELITIES, index=FIDELITIES.index("strength"),
                            help="fast: one linear solve; strength: to the peak; full: to failure")
    mode = st.radio("Loading", ["I", "II"], horizontal=True, format_func=lambda m: f"mode {m}")
    preview.plotly_chart(plate_figure(design, crack_length=PlateSetup(mode=mode).crack_length))
    plane = st.radio("2D model", ["stress", "strain"], horizontal=True, format_func=lambda p: f"plane {p}")
    solver_numbers = CheckedNumbers()
    setup = setup_inputs(solver_numbers)
    st.caption(f"Design hash `{design.content_hash()[:16]}`")
    options = {"mode": mode, "plane": plane, **setup}
    try:  # what the run will cost; a set-up that cannot run is explained when the button is pressed
        if solver_numbers.ok:
            st.caption(f"Estimate: {FractureEvaluator.from_options(fidelity, options).cost(design).describe()}.")
    except ValueError:
        pass
    if st.button("Label design", type="primary", disabled=not solver_numbers.ok) and solver_numbers.ok:
        try:
            FractureEvaluator.from_options(fidelity, options).check_design(design)
        except ValueError as exc:
            show_error(f"This solver set-up cannot label the design: {exc}")
        else:
            stored = store.get_label(design.content_hash(), FractureEvaluator.from_options(fidelity, options).key())
            if stored is None:
                params = {"space": space, "genome": design.genome(), "fidelity": fidelity, "options": options}
                attach_job(manager.submit("label-fracture", params))
            else:  # shown below, from the store: the same physics is never solved twice
                st.session_state["stored-label"] = {"hash": design.content_hash(), "fidelity": fidelity,
                                                    "options": options}


#: Curve axis titles and CSV columns by loading mode: σ = F/width, ε = u/height (mode II: the top
#: grip moves along x, so these are the nominal shear stress τ and engineering shear strain γ).
CURVE_AXES = {"I": ("nominal strain ε (dimensionless)", "nominal stress σ (MPa)"),
              "II": ("nominal shear strain γ (dimensionless)", "nominal shear stress τ (MPa)")}
CURVE_COLUMNS = {"I": ("strain", "stress_MPa"), "II": ("shear_strain", "shear_stress_MPa")}
#: Metrics in the result's top row: the fast fidelity's linear-elastic crack numbers, or the run's.
SHOWN_METRICS = {"fast": ("stiffness", "energy_release_rate_per_stress_squared", "stress_intensity_per_stress",
                          "wall_time"),
                 "phase-field": ("stiffness", "strength", "toughness", "wall_time")}
#: Short names of metrics whose table names are long (σ: the nominal stress; τ in mode II).
SHORT_NAMES = {m.name: m.symbol for m in FRACTURE_METRICS if m.symbol}


def lower_bounds(fidelity: str, metrics: dict, strain: list[float], stress: list[float],
                 end_fraction: float, strain_name: str = "strain") -> tuple[set[str], str | None]:
    """Metrics that are only lower bounds because the plate did not break, and the message that says so.

    A full run breaks when the stress falls below ``end_fraction`` of its peak; a strength run
    once it is past its peak (``broke`` False otherwise). Without that, toughness (full) is the
    work up to the last strain, and strength the highest stress so far when the last stress is
    the highest (at fidelity strength always: the peak was not confirmed). ``strain_name``:
    "strain" or "shear strain" (mode II).
    """
    if metrics.get("broke") is not False or not stress:
        return set(), None
    where = ENDED_AT.get(metrics.get("end_criterion"), "before its end criterion")
    peak = max(stress)
    rising = stress[-1] >= peak  # the stress had not fallen from its highest value
    if fidelity == "strength":
        return {"strength"}, (
            f"The plate did not pass its peak stress within the applied strain: the run ended {where} "
            f"({strain_name} {strain[-1]:.3g}) with the stress "
            f"{'still rising' if rising else 'near its highest value'}. "
            "The strength shown is the highest stress reached, a lower bound (≥).")
    share = 100 * stress[-1] / peak if peak > 0 else 100.0
    return {"toughness", *(("strength",) if rising else ())}, (
        f"The plate did not break within the applied strain: the run ended {where} ({strain_name} {strain[-1]:.3g}) "
        f"with the stress at {share:.2g} % of its peak, and breaking means falling below {100 * end_fraction:g} %. "
        "The toughness shown is the work up to that strain, a lower bound (≥)"
        + ("; the stress had not fallen from its highest value, so the strength is a lower bound too."
           if rising else "."))


def through_crack_note(metrics: dict, stress: list[float], strain_name: str) -> str | None:
    """Why a curve stops above its end fraction of the peak: the crack from the notch reached an edge (mode II's end).
    ``strain_name``: "strain" or "shear strain" (mode II)."""
    if metrics.get("end_criterion") != "through_crack" or not stress or max(stress) <= 0:
        return None
    return (f"The run ended when the crack from the notch reached an edge of the plate ({strain_name} "
            f"{metrics.get('failure_strain', 0.0):.3g}, stress at {100 * stress[-1] / max(stress):.0f} % of its peak): "
            "the plate has failed from the crack. The toughness is the work up to that point.")


def crack_path_notes(metrics: dict, result: dict) -> tuple[str | None, str | None]:
    """How a full label's plate failed (:func:`fem.fracture.crack_path_of`): a warning where a band runs
    along a grip, and a caption on the band from the notch tip (None each where there is nothing to
    say: other fidelities, a failed run). The job's own reading of the whole damage grid; for a label
    without a job (``result`` empty), the reading its metrics carry (which grip is not kept there); for a
    job recorded before either was read, a reading of the stored grid."""
    recorded = result.get("crack_path")
    if recorded:
        path = CrackPath(**recorded)
    elif not result and isinstance(metrics.get("crack_tip_to_edge"), bool):
        path = CrackPath(level=FAILURE_LEVEL[metrics.get("mode", "I")], at_tip=metrics["crack_tip_to_edge"],
                         tip_to_edge=metrics["crack_tip_to_edge"], grip_edge=None,
                         grip_length=float(metrics.get("grip_band") or 0.0), along_grip=bool(metrics.get("along_grip")))
    else:
        path = crack_path_of(metrics, result.get("damage") or [], result.get("x") or [], result.get("y") or [])
    if path is None:
        return None, None
    ell = metrics["ell"]
    warning = None
    if path.along_grip:
        grip = "a" if path.grip_edge is None else f"the {path.grip_edge}"
        warning = (f"A crack band (d > {path.level:g}) runs {path.grip_length:.3g} mm along {grip} grip, "
                   f"more than {GRIP_BAND_ELLS:g}ℓ ({GRIP_BAND_ELLS * ell:.3g} mm): the plate failed partly at the "
                   "grip, so its strength and toughness describe the grip as well as the plate.")
    if path.tip_to_edge:  # a run that ended on its through crack says so already (through_crack_note)
        caption = (None if metrics.get("end_criterion") == "through_crack" else
                   f"Crack path: a band of d > {path.level:g} runs from the notch tip to an edge of the plate.")
    elif metrics.get("broke"):
        caption = (f"Crack path: no band of d > {path.level:g} joins the notch tip to an edge. The plate broke along "
                   "another path: a crack that formed away from the tip, where the blocks concentrate the load "
                   "more than the notch does, crossed the plate, or the tip's crack arrested on the way.")
    else:
        caption = (f"Crack path: no band of d > {path.level:g} joins the notch tip to an edge; "
                   "the plate still carries load.")
    return warning, caption


def metric_row(fidelity: str, metrics: dict, mode: str, bounds: set[str]) -> None:
    """The four headline metrics with units; ``bounds``: those shown as lower bounds (≥)."""
    evaluator = FractureEvaluator(fidelity) if fidelity in FIDELITIES else FractureEvaluator()
    cols = st.columns(4)
    for col, name in zip(cols, SHOWN_METRICS["fast" if fidelity == "fast" else "phase-field"]):
        metric = evaluator.metric(name)
        value = metrics.get(name)
        shear = mode == "II" and name in ("stiffness", "strength", *SHORT_NAMES)
        label = SHORT_NAMES.get(name, name.replace("_", " "))
        if shear:
            label = label.replace("σ", "τ") if name in SHORT_NAMES else f"shear {label}"
        label += "" if metric.unit == "1" else f" ({metric.unit})"
        text = "–" if value is None else ("≥ " if name in bounds else "") + f"{value:.4g}"
        note = "" if evaluator.provides(name) else f" (not computed at the {fidelity} fidelity)"
        col.metric(label, text, help=metric.description + note
                   + (" (mode II: of the shear stress τ and shear strain γ)" if shear else ""))


def show_design_of(space: str, genome: object, design_hash: str, crack_length: float | None = None) -> None:
    """The design a result belongs to: a small drawing (as the preview draws it, with the label's
    crack, mm) and its hash."""
    drawing, text = st.columns([1, 3])
    try:
        labelled = design_from_record(space, genome)
    except (ValueError, TypeError, KeyError) as exc:
        text.warning(f"The design of this result cannot be drawn: {exc}")
    else:
        drawing.plotly_chart(plate_figure(labelled, title="the labelled design", height=200, width=200,
                                          crack_length=crack_length))
        if labelled.content_hash() != design_hash:
            text.warning(f"The job's design has hash {labelled.content_hash()[:16]}, not the result's: the drawing "
                         "may not be the labelled design.")
    other = ("" if design_hash == design.content_hash() else
             f"; not the design above (`{design.content_hash()[:16]}`), which **Label design** would label")
    text.caption(f"Result of the {space} design `{design_hash}` (drawn left, as the preview draws it){other}")


#: How a phase setting reads under a result.
PHASE_TEXT = {"E": "E = {:g} MPa", "nu": "ν = {:g}", "failure_strain": "ε_f = {:g}", "Gc": "G_c = {:g} N/mm",
              "compressive_strength": "crushing at {:g} MPa"}


def phases_caption(options: dict) -> None:
    """A caption naming the phases of a result labelled under other than the default ones."""
    phases = options.get("materials")
    if phases:
        st.caption("Phases: " + "; ".join(
            f"{name} " + ", ".join("never crushes" if phase[key] is None else PHASE_TEXT[key].format(phase[key])
                                   for key in PHASE_TEXT if key in phase)
            for name, phase in phases.items()) + ".")


def show_result(job: JobRecord) -> None:
    """Design, numbers, stress–strain curve, damage field and downloads of a finished label."""
    result = job.result
    metrics = result["metrics"]
    options = job.params.get("options") or {}
    mode = metrics.get("mode") or options.get("mode", "I")
    fidelity = job.params.get("fidelity") or metrics.get("fidelity", "full")
    show_design_of(job.params.get("space", "checkerboard"), job.params.get("genome"), result["design_hash"],
                   metrics.get("crack_length") or PlateSetup(mode=mode).crack_length)
    phases_caption(options)
    if result["status"] != "ok":
        st.error(f"The solver did not finish: {result['reason']}")
    bounds, message = lower_bounds(fidelity, metrics, result["strain"], result["stress"],
                                   float(options.get("end_fraction", PlateSetup(mode=mode).end_fraction)),
                                   "shear strain" if mode == "II" else "strain")
    if message:
        st.warning(message, icon=":material/warning:")
    metric_row(fidelity, metrics, mode, bounds)
    strain_title, stress_title = CURVE_AXES[mode]
    curve = go.Figure(go.Scatter(x=result["strain"], y=result["stress"], mode="lines+markers"))
    curve.update_layout(xaxis_title=strain_title, yaxis_title=stress_title, height=360,
                        title="linear elastic response (fast: one linear solve)" if fidelity == "fast"
                        else ("shear " if mode == "II" else "") + "stress–strain curve")
    a, b = st.columns(2)
    a.plotly_chart(curve)
    note = through_crack_note(metrics, result["stress"], "shear strain" if mode == "II" else "strain")
    if note:
        a.caption(note)
    if fidelity == "fast":
        b.info("The fast fidelity is one linear solve of the initial crack: it computes no damage field.")
    else:
        damage = go.Figure(go.Heatmap(z=result["damage"], x=result["x"], y=result["y"], zmin=0, zmax=1,
                                      colorscale="Inferno", colorbar={"title": "damage d"},
                                      hovertemplate="x %{x:.3f} mm, y %{y:.3f} mm, d = %{z:.2f}<extra></extra>"))
        crack = metrics.get("crack_length") or PlateSetup(mode=mode).crack_length  # mm, from the left edge at mid-height
        damage.add_shape(type="line", x0=0, x1=crack, y0=0.5, y1=0.5, line={"color": "#00d5ff", "width": 3})
        damage.update_layout(height=360, title="damage d at the end of the run (cyan: initial crack)",
                             xaxis={"title": "x (mm)", "constrain": "domain"},
                             yaxis={"title": "y (mm)", "scaleanchor": "x"})
        b.plotly_chart(theme_safe_colours(damage))
        warning, caption = crack_path_notes(metrics, result)
        if warning:
            b.warning(warning, icon=":material/warning:")
        if caption:
            b.caption(caption)
    with st.expander("All numbers"):
        st.json({name: value for name, value in metrics.items() if name != "curve"})  # the curve is drawn
    strain_column, stress_column = CURVE_COLUMNS[mode]
    curve_csv = pd.DataFrame({strain_column: result["strain"], stress_column: result["stress"]}).to_csv(index=False)
    d1, d2, d3 = st.columns(3)
    d1.download_button("Curve (CSV)", curve_csv, file_name=f"curve-{result['design_hash'][:12]}.csv")
    d2.download_button("Metrics (JSON)", json.dumps(metrics, indent=2),
                       file_name=f"metrics-{result['design_hash'][:12]}.json")
    d3.download_button("Design (JSON)", json.dumps({"space": job.params["space"], "genome": job.params["genome"]}),
                       file_name=f"design-{result['design_hash'][:12]}.json")


def stored_run(design_hash: str, key: SolverKey) -> JobRecord | None:
    """The newest finished job of this store that labelled ``design_hash`` under ``key`` (it kept the
    curve and damage map), or None."""
    for job in store.jobs(limit=1000):
        if job.kind != "label-fracture" or job.status != "done" or (job.result or {}).get("design_hash") != design_hash:
            continue
        try:
            if FractureEvaluator.from_options(job.params.get("fidelity", "full"), job.params.get("options")).key() == key:
                return job
        except (ValueError, TypeError):
            continue
    return None


def show_stored_label(fidelity: str, options: dict) -> None:
    """The label the store holds for the design drawn under this set-up, with a note that it is not recomputed.

    A job of this page that made it is opened (curve, damage map); a label from elsewhere (command
    line, batch, campaign) kept only its numbers, which are shown.
    """
    key = FractureEvaluator.from_options(fidelity, options).key()
    label = store.get_label(design.content_hash(), key)
    if label is None:
        return
    when = datetime.datetime.fromtimestamp(label.created_at).strftime("%Y-%m-%d %H:%M")
    run = stored_run(design.content_hash(), key)
    st.info(f"This design is already labelled under this solver set-up (stored {when}): the stored label is shown "
            "and the solver is not run again." + ("" if run else " It was labelled outside this page, so its "
                                                                  "numbers and curve were kept, not its damage map."),
            icon=":material/inventory_2:")
    if run is not None:
        if attached_job_id() != run.id:
            attach_job(run.id)
        return
    show_design_of(space, design.genome(), label.design_hash,
                   label.metrics.get("crack_length") or PlateSetup(mode=options.get("mode", "I")).crack_length)
    phases_caption(options)
    if label.status != "ok":
        st.error(f"The solver did not finish: {label.reason}")
    metrics = dict(label.metrics)
    unbroken = metrics.get("broke") is False
    if unbroken:
        st.warning("The plate did not break within the applied strain: the "
                   + ("strength shown is" if fidelity == "strength" else "toughness shown is")
                   + " a lower bound (≥).", icon=":material/warning:")
    metric_row(fidelity, metrics, metrics.get("mode") or options.get("mode", "I"),
               ({"strength"} if fidelity == "strength" else {"toughness"}) if unbroken else set())
    curve = metrics.pop("curve", None)
    if isinstance(curve, dict) and curve.get("strain"):
        shear = (metrics.get("mode") or options.get("mode", "I")) == "II"
        figure = go.Figure(go.Scatter(x=curve["strain"], y=curve["stress"], mode="lines+markers"))
        figure.update_layout(height=360, title=("shear " if shear else "") + "stress–strain curve (stored)",
                             xaxis_title="nominal shear strain γ (dimensionless)" if shear
                             else "nominal strain ε (dimensionless)",
                             yaxis_title="nominal shear stress τ (MPa)" if shear else "nominal stress σ (MPa)")
        st.plotly_chart(figure)
        note = through_crack_note(metrics, curve["stress"], "shear strain" if shear else "strain")
        if note:
            st.caption(note)
    warning, caption = crack_path_notes(metrics, {})
    if warning:
        st.warning(warning, icon=":material/warning:")
    if caption:
        st.caption(caption)
    with st.expander("All numbers"):
        st.json(metrics)


asked = st.session_state.get("stored-label")
if asked and solver_numbers.ok and asked == {"hash": design.content_hash(), "fidelity": fidelity, "options": options}:
    show_stored_label(fidelity, options)
job_id = attached_job_id()
if job_id:
    job_panel(store, manager, job_id, show_result, kinds=("label-fracture",))
