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
from ui.common import job_manager, open_store, show_error
from ui.job_panel import attach_job, attached_job_id, job_panel

st.title("Label a design")
st.markdown(
    "A soft/stiff block plate with an edge crack (length 0.2 of the width, from the left edge "
    "at mid-height) is pulled at the top (mode I) or sheared (mode II) until it breaks. "
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


def show_result(job: JobRecord) -> None:
    """Numbers, stress–strain curve, damage field and downloads of a finished label."""
    result = job.result
    metrics = result["metrics"]
    if result["status"] != "ok":
        st.error(f"The solver did not finish: {result['reason']}")
    cols = st.columns(4)
    for col, name in zip(cols, ("stiffness", "strength", "toughness", "wall_time")):
        metric = FractureEvaluator().metric(name)
        value = metrics.get(name)
        col.metric(metric.label, "–" if value is None else f"{value:.4g}", help=metric.description)
    curve = go.Figure(go.Scatter(x=result["strain"], y=result["stress"], mode="lines+markers"))
    curve.update_layout(xaxis_title="nominal strain", yaxis_title="nominal stress (MPa)", height=360,
                        title="stress–strain curve")
    damage = go.Figure(go.Heatmap(z=result["damage"], x=result["x"], y=result["y"], zmin=0, zmax=1,
                                  colorscale="Inferno", colorbar={"title": "d"}))
    damage.update_layout(height=360, title="damage field", yaxis={"scaleanchor": "x"})
    a, b = st.columns(2)
    a.plotly_chart(curve)
    b.plotly_chart(damage)
    with st.expander("All numbers"):
        st.json(metrics)
    curve_csv = pd.DataFrame({"strain": result["strain"], "stress_MPa": result["stress"]}).to_csv(index=False)
    d1, d2, d3 = st.columns(3)
    d1.download_button("Curve (CSV)", curve_csv, file_name=f"curve-{result['design_hash'][:12]}.csv")
    d2.download_button("Metrics (JSON)", json.dumps(metrics, indent=2),
                       file_name=f"metrics-{result['design_hash'][:12]}.json")
    d3.download_button("Design (JSON)", json.dumps({"space": job.params["space"], "genome": job.params["genome"]}),
                       file_name=f"design-{result['design_hash'][:12]}.json")


job_id = attached_job_id()
if job_id:
    job_panel(store, manager, job_id, show_result, kinds=("label-fracture",))
