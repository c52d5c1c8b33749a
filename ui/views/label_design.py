"""Label a design: draw or randomise a checkerboard, run the fracture solver as a job, look."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from designs.checkerboard import Checkerboard
from designs.hierarchical import Hierarchical
from designs.stl import plate_stl
from designs.threemf import plate_3mf
from engine.evaluators.fracture import FractureEvaluator
from engine.store import JobRecord
from fem.fracture import DEFAULT_ELL, FIDELITIES, PlateSetup
from fem.phasefield_split import SPLITS
from ui.common import job_manager, open_store, show_error, theme_safe_colours
from ui.job_panel import attach_job, attached_job_id, job_panel

st.title("Label a design")
st.markdown(
    "A soft/stiff block plate with an edge crack (length 0.2 of the width, from the left edge "
    "at mid-height) is pulled at the top (mode I) or sheared (mode II) until it breaks or reaches "
    f"the largest applied strain ({PlateSetup().max_strain:g}; a plate that has not broken by then is flagged). "
    "The phase-field (AT2) solver gives the nominal stress–strain curve, strength (peak stress) "
    "and toughness (the work of fracture per unit volume: the area under the curve up to failure, "
    "MJ/m³); the *fast* fidelity is one linear solve (stiffness, and the energy release rate of the "
    "initial crack per unit stress squared). Soft E = 100 MPa, stiff E = 1000 MPa, ν = 0.33, both "
    "fail at 40 MPa."
)
store = open_store()
manager = job_manager(store)
SOFT, STIFF = 0, 1
BLOCK_NAMES = {"checkerboard": ["soft", "stiff"], "hierarchical": ["isotropic", "stiff along x", "stiff along y"]}

with st.sidebar:
    st.subheader("Design")
    space = st.radio("Design space", ["checkerboard", "hierarchical"], horizontal=True)
    rows = st.number_input("Rows", min_value=2 if space == "checkerboard" else 1, max_value=32,
                           value=8 if space == "checkerboard" else 4)
    columns = st.number_input("Columns", min_value=2 if space == "checkerboard" else 1, max_value=32,
                              value=8 if space == "checkerboard" else 4)
    seed = st.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0)
    soft_fraction = symmetric = None
    if space == "checkerboard":
        soft_fraction = st.slider("Soft fraction", 0.0, 1.0, 0.5, 0.05)
        symmetric = st.checkbox("Mirror-symmetric about the crack plane")
    randomise = st.button("Randomise")

state_key = f"grid-{space}"
size_changed = state_key in st.session_state and np.asarray(st.session_state[state_key]).shape != (rows, columns)
if randomise or state_key not in st.session_state or size_changed:
    rng = np.random.default_rng(int(seed))
    if space == "checkerboard":
        grid = Checkerboard.random(int(rows), int(columns), soft_fraction, rng, symmetric=symmetric).as_array()
    else:
        grid = np.asarray(Hierarchical.random(int(rows), int(columns), seed=rng).grid)
    st.session_state[state_key] = grid

names = BLOCK_NAMES[space]
st.subheader("Blocks")
st.caption("Top row of the table = top of the plate. Block types: "
           + ", ".join(f"{i} = {name}" for i, name in enumerate(names)))
table = pd.DataFrame(np.asarray(st.session_state[state_key])[::-1], columns=[str(c) for c in range(int(columns))])
edited = st.data_editor(
    table, hide_index=True, key=f"editor-{space}-{rows}-{columns}-{seed}-{randomise}",
    column_config={c: st.column_config.NumberColumn(c, min_value=0, max_value=len(names) - 1, step=1)
                   for c in table.columns},
)
try:
    values = edited.to_numpy()[::-1]
    if np.isnan(values.astype(float)).any():
        raise ValueError("every block needs a type; empty cells are not allowed")
    if space == "checkerboard":
        design = Checkerboard.from_array(values.astype(int))
    else:
        design = Hierarchical(tuple(tuple(int(v) for v in row) for row in values))
except ValueError as exc:
    show_error(f"Invalid design: {exc}")
    st.stop()

shown = design.as_array() if space == "checkerboard" else design.expand().as_array()
preview = go.Figure(go.Heatmap(z=shown, x0=0.5 / shown.shape[1], dx=1 / shown.shape[1],
                               y0=0.5 / shown.shape[0], dy=1 / shown.shape[0],
                               colorscale=[[0, "#f2c14e"], [1, "#2d5d7b"]], showscale=False))
preview.add_shape(type="line", x0=0, x1=PlateSetup().crack_length, y0=0.5, y1=0.5, line={"color": "red", "width": 4})
preview.update_layout(height=360, width=380, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      title="plate (yellow: soft, blue: stiff; red: crack)",
                      xaxis={"range": [0, 1], "constrain": "domain"}, yaxis={"range": [0, 1], "scaleanchor": "x"})
left, right = st.columns([1, 1])
left.plotly_chart(preview)
with left.expander("Printable plate (two-material 3MF / STL)"):
    block_mm = st.number_input("Block edge (mm)", min_value=0.5, max_value=50.0, value=5.0)
    thickness_mm = st.number_input("Thickness (mm)", min_value=0.2, max_value=50.0, value=2.0)
    plate_name = f"plate-{design.content_hash()[:12]}"
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
    plane = st.radio("2D model", ["stress", "strain"], horizontal=True, format_func=lambda p: f"plane {p}")
    ell = st.number_input("Phase-field length ℓ (mm)", min_value=0.0, value=DEFAULT_ELL, step=1 / 256, format="%.5f",
                          help="a physical length: the same on every grid drawn on the 1 mm plate")
    mesh = st.radio("Mesh", ["element size", "elements per block"], horizontal=True,
                    help="elements may be at most ℓ/2 in either direction")
    if mesh == "element size":
        size = st.number_input("Element size (mm)", min_value=0.0, value=None, step=1 / 512, format="%.5f",
                               placeholder="ℓ/2", help="largest element edge; empty: ℓ/2")
        mesh_option = {} if size is None else {"element_size": float(size)}
    else:
        mesh_option = {"elements_per_block": int(st.number_input("Elements per block side", min_value=1,
                                                                 max_value=256, value=8))}
    split = st.selectbox("Energy split", ["default", *SPLITS],
                         help="what drives the damage; default: none in mode I, spectral in mode II")
    st.caption(f"Design hash `{design.content_hash()[:16]}`")
    if st.button("Label design", type="primary"):
        options = {"mode": mode, "plane": plane, "ell": float(ell), **mesh_option}
        if split != "default":
            options["split"] = split
        try:
            FractureEvaluator.from_options(fidelity, options).check_design(design)
        except ValueError as exc:
            show_error(f"This solver set-up cannot label the design: {exc}")
        else:
            params = {"space": space, "genome": design.genome(), "fidelity": fidelity, "options": options}
            attach_job(manager.submit("label-fracture", params))


#: Curve axis titles and CSV columns by loading mode: σ = F/width, ε = u/height (mode II: the top
#: grip moves along x, so these are the nominal shear stress τ and engineering shear strain γ).
CURVE_AXES = {"I": ("nominal strain ε (dimensionless)", "nominal stress σ (MPa)"),
              "II": ("nominal shear strain γ (dimensionless)", "nominal shear stress τ (MPa)")}
CURVE_COLUMNS = {"I": ("strain", "stress_MPa"), "II": ("shear_strain", "shear_stress_MPa")}
#: Where a run ended that did not meet its end criterion (``end_criterion`` of fem.fracture).
ENDED = {"max_displacement": "at the largest applied strain", "max_steps": "at its load-step limit"}
#: Metrics in the result's top row: the fast fidelity's linear-elastic crack numbers, or the run's.
SHOWN_METRICS = {"fast": ("stiffness", "energy_release_rate_per_stress_squared", "stress_intensity_per_stress",
                          "wall_time"),
                 "phase-field": ("stiffness", "strength", "toughness", "wall_time")}
#: Short names of metrics whose table names are long (σ: the nominal stress; τ in mode II).
SHORT_NAMES = {"energy_release_rate_per_stress_squared": "G/σ²", "stress_intensity_per_stress": "|K|/σ"}


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
    where = ENDED.get(metrics.get("end_criterion"), "before its end criterion")
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
        f"with the stress at {share:.0f} % of its peak, and breaking means falling below {100 * end_fraction:.0f} %. "
        "The toughness shown is the work up to that strain, a lower bound (≥)"
        + ("; the stress had not fallen from its highest value, so the strength is a lower bound too."
           if rising else "."))


def show_result(job: JobRecord) -> None:
    """Numbers, stress–strain curve, damage field and downloads of a finished label."""
    result = job.result
    metrics = result["metrics"]
    options = job.params.get("options") or {}
    mode = metrics.get("mode") or options.get("mode", "I")
    fidelity = job.params.get("fidelity") or metrics.get("fidelity", "full")
    if result["status"] != "ok":
        st.error(f"The solver did not finish: {result['reason']}")
    bounds, message = lower_bounds(fidelity, metrics, result["strain"], result["stress"],
                                   float(options.get("end_fraction", PlateSetup().end_fraction)),
                                   "shear strain" if mode == "II" else "strain")
    if message:
        st.warning(message, icon=":material/warning:")
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
    strain_title, stress_title = CURVE_AXES[mode]
    curve = go.Figure(go.Scatter(x=result["strain"], y=result["stress"], mode="lines+markers"))
    curve.update_layout(xaxis_title=strain_title, yaxis_title=stress_title, height=360,
                        title="linear elastic response (fast: one linear solve)" if fidelity == "fast"
                        else ("shear " if mode == "II" else "") + "stress–strain curve")
    a, b = st.columns(2)
    a.plotly_chart(curve)
    if fidelity == "fast":
        b.info("The fast fidelity is one linear solve of the initial crack: it computes no damage field.")
    else:
        damage = go.Figure(go.Heatmap(z=result["damage"], x=result["x"], y=result["y"], zmin=0, zmax=1,
                                      colorscale="Inferno", colorbar={"title": "damage d"},
                                      hovertemplate="x %{x:.3f} mm, y %{y:.3f} mm, d = %{z:.2f}<extra></extra>"))
        crack = metrics.get("crack_length") or PlateSetup().crack_length  # mm, from the left edge at mid-height
        damage.add_shape(type="line", x0=0, x1=crack, y0=0.5, y1=0.5, line={"color": "#00d5ff", "width": 3})
        damage.update_layout(height=360, title="damage d at the end of the run (cyan: initial crack)",
                             xaxis={"title": "x (mm)", "constrain": "domain"},
                             yaxis={"title": "y (mm)", "scaleanchor": "x"})
        b.plotly_chart(theme_safe_colours(damage))
    with st.expander("All numbers"):
        st.json(metrics)
    strain_column, stress_column = CURVE_COLUMNS[mode]
    curve_csv = pd.DataFrame({strain_column: result["strain"], stress_column: result["stress"]}).to_csv(index=False)
    d1, d2, d3 = st.columns(3)
    d1.download_button("Curve (CSV)", curve_csv, file_name=f"curve-{result['design_hash'][:12]}.csv")
    d2.download_button("Metrics (JSON)", json.dumps(metrics, indent=2),
                       file_name=f"metrics-{result['design_hash'][:12]}.json")
    d3.download_button("Design (JSON)", json.dumps({"space": job.params["space"], "genome": job.params["genome"]}),
                       file_name=f"design-{result['design_hash'][:12]}.json")


job_id = attached_job_id()
if job_id:
    job_panel(store, manager, job_id, show_result, kinds=("label-fracture",))
