"""Spinodoid page: set ρ and the cone angles, preview, homogenise as a job, download an STL."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from designs.registry import design_from_record
from designs.spinodal import Spinodoid
from designs.stl import CELL_MM_RANGE, checked_stl, part_warnings, spinodoid_header, spinodoid_mesh, spinodoid_part
from engine.evaluators.spinodoid import BOUNDARY_CONDITIONS, HomogenizationEvaluator, check_stl_export
from engine.store import JobRecord
from fem.homogenize import BASE_MATERIAL, ORTHOTROPIC_CONSTANTS
from ui.common import CheckedNumbers, job_manager, open_store, show_error
from ui.design_figures import spinodoid_figure
from ui.job_panel import attach_job, attached_job_id, job_panel

st.title("Spinodoid metamaterials")
st.markdown(
    "Spinodoids (Kumar et al. 2020) are the solid phase of an anisotropic Gaussian random field: "
    "waves of wave number β whose directions lie in double cones of half-angle θx, θy, θz around "
    "the axes (0° closes a cone). Narrow cones give columnar or lamellar structures, 90° cones an "
    "isotropic one. Homogenisation gives the effective stiffness (solid E = "
    f"{BASE_MATERIAL[0]:g}, ν = {BASE_MATERIAL[1]:g}; stiffness in units of that E)."
)
store = open_store()
manager = job_manager(store)

with st.sidebar:
    st.subheader("Design")
    rho = st.slider("Solid fraction ρ", 0.30, 0.90, 0.50, 0.01)
    tx = st.slider("θx (°)", 0, 90, 90, 1)
    ty = st.slider("θy (°)", 0, 90, 90, 1)
    tz = st.slider("θz (°)", 0, 90, 90, 1)
    seed = CheckedNumbers().number("Seed", 0, 0, 2**31 - 1, help="of the random field's wave directions and phases")
    periodic = st.checkbox("Exactly periodic (for tiling and printing)", value=False)
if seed is None:
    st.stop()  # the sidebar says why; no design is drawn with another seed

try:
    design = Spinodoid(rho=rho, theta=(float(tx), float(ty), float(tz)), seed=int(seed), periodic=periodic)
except ValueError as exc:
    show_error(f"Invalid spinodoid: {exc}")
    st.stop()


@st.cache_data(show_spinner="Meshing the preview…", max_entries=16)
def preview_mesh(genome_json: str, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and faces of a coarse surface for the 3D preview, in unit lengths."""
    design = Spinodoid.from_json(genome_json)
    mesh = spinodoid_mesh(design, resolution, cell_size_mm=float(design.cell_length))
    return mesh.vertices, mesh.faces


@st.cache_data(show_spinner="Writing the STL…", max_entries=8)
def stl_bytes(genome_json: str, resolution: int, cell_mm: float, tiles: int) -> tuple[bytes, list[str]]:
    """Binary STL of the design and what makes it unfit to print or test (:func:`designs.stl.part_warnings`)."""
    design = Spinodoid.from_json(genome_json)
    mesh, connectivity = spinodoid_part(design, resolution, cell_mm, tiles)
    return checked_stl(mesh, spinodoid_header(design, tiles)), part_warnings(mesh, connectivity)


def voxel_choices(least: int) -> list[int]:
    """Voxels per side offered for homogenisation, four sizes from 24 up, or from the design's least
    (:meth:`Spinodoid.min_resolution`) where that is more."""
    usual = (24, 32, 48, 64, 96, 128, 192, 256)
    if least <= usual[0]:
        return list(usual[:4])
    return [least] + [v for v in usual if v > least][:3]


structure_warning = design.structure_warning()
if structure_warning is not None:
    st.warning(structure_warning[0].upper() + structure_warning[1:] + ".")
if design.cell_length > 1:
    st.info(f"Within these narrow cones a periodic cell needs {design.cell_length} unit lengths a side to hold enough "
            f"wave directions; it is homogenised and printed with at least {design.min_resolution()} voxels a side.")

left, right = st.columns([3, 2])
with left:
    preview_resolution = max(design.min_resolution(), 32)
    try:
        vertices, faces = preview_mesh(design.to_json(), preview_resolution)
    except ValueError as exc:
        show_error(f"Cannot mesh this design: {exc}")
        st.stop()
    figure = go.Figure(go.Mesh3d(x=vertices[:, 0], y=vertices[:, 1], z=vertices[:, 2],
                                 i=faces[:, 0], j=faces[:, 1], k=faces[:, 2], color="#4a7fb0",
                                 flatshading=True, lighting={"ambient": 0.45, "diffuse": 0.8}))
    cell = design.cell_length
    figure.update_layout(height=480, margin={"l": 0, "r": 0, "t": 30, "b": 0}, scene={"aspectmode": "data"},
                         title="one cell (unit edge)" if cell == 1 else f"one periodic cell ({cell} units a side)")
    st.plotly_chart(figure)
with right:
    st.subheader("Homogenise")
    # the choices live in plain session keys too: an invalid design stops the page before these widgets, and
    # Streamlit forgets the state of a widget that a run did not draw
    voxels = voxel_choices(design.min_resolution())
    kept = st.session_state.get("kept-voxels", 32)
    resolution = st.selectbox("Voxels per side", voxels, index=next((i for i, v in enumerate(voxels) if v >= kept), 0),
                              help=f"at least {design.min_resolution()} for β = {design.beta:.1f} on a cell of "
                                   f"{design.cell_length} unit{'s' if design.cell_length > 1 else ''} (4 per wavelength)")
    bc = st.radio("Boundary conditions", BOUNDARY_CONDITIONS, horizontal=True,
                  index=BOUNDARY_CONDITIONS.index(st.session_state.get("kept-bc", BOUNDARY_CONDITIONS[0])),
                  help="affine: displacements prescribed on the faces (reproduces the published data); "
                       "periodic: true effective properties of a periodic structure")
    st.session_state["kept-voxels"], st.session_state["kept-bc"] = resolution, bc
    if st.button("Compute stiffness", type="primary"):
        try:  # before the job: a resolution this machine cannot solve is refused with its estimate
            HomogenizationEvaluator(int(resolution), bc).check_design(design)
        except ValueError as exc:
            show_error(f"Cannot homogenise at this resolution: {exc}")
        else:
            attach_job(manager.submit("homogenize-spinodoid",
                                      {"genome": design.genome(), "resolution": int(resolution), "bc": bc}))
    st.subheader("Print")
    printing = CheckedNumbers()
    cell_mm = printing.number("Cell edge (mm)", 10.0, *CELL_MM_RANGE, "mm", format="%.4g",
                              help="edge of one printed cell (0.05 mm: two-photon lithography; 10 mm: desktop "
                                   "printers)")
    tiles = printing.number("Cells per axis", 1, 1, 4 if periodic else 1, help="tiling needs the periodic variant",
                            reason=None if periodic else "tiling needs the periodic variant")
    samples = max(design.min_resolution(), 48, int(resolution))  # the homogenised voxels, where that many
    if st.button("Prepare STL", disabled=not printing.ok,
                 help=f"the part is drawn round the load-bearing voxels at {samples} per side (the voxels per side "
                      "above, at least 48): from 48 on it is the structure homogenised there") and printing.ok:
        try:
            check_stl_export(samples, int(tiles))
            data, warnings = stl_bytes(design.to_json(), samples, float(cell_mm), int(tiles))
        except ValueError as exc:
            show_error(f"Cannot export: {exc}")
        else:
            if warnings:
                st.warning("; ".join(warnings).capitalize() + ".")
            st.download_button(f"Download STL ({len(data) / 1e6:.1f} MB)", data,
                               file_name=f"spinodoid-{design.content_hash()[:12]}.stl", mime="model/stl")


def show_result(job: JobRecord) -> None:
    """The design (mid-plane drawing, hash), stiffness matrix, orthotropic constants, E(n) surface."""
    metrics = job.result["metrics"]
    drawing, text = st.columns([1, 3])
    try:
        drawing.plotly_chart(spinodoid_figure(design_from_record("spinodoid", job.params["genome"]),
                                              title="the homogenised design", height=200, width=200))
    except (ValueError, TypeError, KeyError) as exc:
        text.warning(f"The design of this result cannot be drawn: {exc}")
    text.caption(f"Result of design `{job.result['design_hash']}` at {job.params.get('resolution')} voxels per side, "
                 f"{job.params.get('bc')} boundary conditions")
    if job.result["status"] != "ok":
        st.error(f"No stiffness: {job.result['reason']}")
        return
    names = ["11", "22", "33", "23", "13", "12"]
    st.markdown("**Effective stiffness C (Voigt notation, units of E)**")
    st.dataframe(pd.DataFrame(np.round(metrics["C"], 5), index=names, columns=names))
    constants = {k: metrics[k] for k in ORTHOTROPIC_CONSTANTS}
    st.dataframe(pd.DataFrame([constants]).round(4), hide_index=True)
    st.caption("E and G in units of the solid's Young's modulus; ν_ij: strain along j per strain along i.")
    st.caption(f"symmetry error {metrics['symmetry_error']:.1e} · solid fraction {metrics['solid_fraction']:.3f} · "
               f"load-bearing {metrics['connected_fraction']:.3f} in {metrics.get('kept_clusters')} cluster(s) · "
               f"percolates x/y/z {metrics['percolates']}")
    surface = job.result["surface"]
    figure = go.Figure(go.Surface(x=surface["x"], y=surface["y"], z=surface["z"], surfacecolor=surface["E"],
                                  colorscale="Viridis", colorbar={"title": "E(n) / E_s"}))
    axes = {f"{a}axis": {"title": f"E n_{a} / E_s"} for a in "xyz"}
    figure.update_layout(height=480, margin={"l": 0, "r": 0, "t": 40, "b": 0},
                         title="directional Young's modulus E(n): distance from the origin along n",
                         scene={"aspectmode": "data", "camera": {"eye": {"x": 1.35, "y": 1.35, "z": 1.0}}, **axes})
    st.plotly_chart(figure)
    st.download_button("Stiffness (JSON)", json.dumps(metrics, indent=2),
                       file_name=f"stiffness-{job.result['design_hash'][:12]}.json")


job_id = attached_job_id()
if job_id:
    job_panel(store, manager, job_id, show_result, kinds=("homogenize-spinodoid",))
