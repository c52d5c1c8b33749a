"""Glass softness page: a configuration in, softness and predicted propensity of each particle out.

The configuration (an example Kob–Andersen configuration, or an uploaded isoconfigurational
``.npz`` or XYZ/CSV file with species, kept beside the store) goes to a ``glass-softness`` job,
which applies the shipped models; the page draws the job's per-particle CSV: particles coloured
by softness in 3D, P(S), and — when the file carries propensity — P(rearrange | S) on a log
scale, the softness of rearranging particles, and predicted against measured propensity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from engine.analysis.softness.shipped import EXAMPLES, KA_BOX
from engine.analysis.softness.softness_job import MAX_UPLOAD_BYTES, UPLOAD_FORMATS, stage_upload
from engine.store import JobRecord
from ui.common import job_manager, open_store, show_error
from ui.job_panel import QUERY_KEY, attach_job, attached_job_id, job_panel

JOB_KIND = "glass-softness"
MAX_DRAWN = 20_000

st.title("Glass softness")
st.markdown(
    "**Softness** $S$ (Cubuk et al. 2015, Schoenholz et al. 2016) is a particle's signed distance to the "
    "plane a linear support-vector machine draws, in the space of its structure functions, between "
    "particles about to rearrange and particles that stay: $S>0$ lies on the rearranging side, and the "
    "probability to rearrange grows about exponentially with $S$. matloop ships two models for the "
    "**A particles of the 3D Kob–Andersen glass** at $T=0.44$ (lengths in $\\sigma_{AA}$, density 1.2), "
    "trained on ten isoconfigurational ensembles (BOTAN release): the SVM softness and a ridge regression "
    "of the **propensity** (mean displacement at $t\\approx\\tau_\\alpha$). Descriptors: 152 radial and "
    "angular structure functions, $\\log(1+G)$, and their averages within $2.5\\,\\sigma$."
)
store = open_store()
manager = job_manager(store)

origin = st.radio("Configuration", ["Example (Kob–Andersen test data)", "Upload a file"], horizontal=True)
source, upload = None, None
if origin.startswith("Example"):
    example = st.selectbox("Example configuration", list(EXAMPLES),
                           format_func=lambda k: f"configuration {k} (4096 particles, with propensity; not trained on)")
    source = {"example": int(example)}
else:
    upload = st.file_uploader(
        "Configuration file", type=list(UPLOAD_FORMATS), max_upload_size=max(1, -(-MAX_UPLOAD_BYTES // 2**20)),
        help="Isoconfigurational .npz (types 0 = A, 1 = B; initial_positions in [0, L); optional positions "
             "(R, N, 3) of R trajectories or propensity (N,)), or XYZ / CSV with a species column (A, B) and "
             "the box in the file.")
    cols = st.columns(2)
    box_length = cols[0].number_input("Box length of an .npz file (σ_AA)", min_value=0.0, value=KA_BOX,
                                      format="%.5f", help="npz files carry no box; cubic, periodic")
    st.caption("Files are parsed as data (NumPy without pickles, or the text readers), never executed.")
start = st.button("Compute softness", type="primary")

if start:
    if origin.startswith("Example"):
        attach_job(manager.submit(JOB_KIND, {"source": source}))
    elif upload is None:
        show_error("Upload a configuration file first (.npz, .xyz or .csv).")
    else:
        try:
            if box_length <= 0:
                raise ValueError("the box length must be > 0")
            source, sample = stage_upload(store.path, upload.name, upload.getvalue(), box_length=box_length)
        except ValueError as exc:
            show_error(f"Cannot use this file: {exc}")
            st.query_params.pop(QUERY_KEY, None)
        else:
            st.caption(f"Read {upload.name}: {sample.system.n_particles} particles, {sample.system.dim}D.")
            attach_job(manager.submit(JOB_KIND, {"source": source}))


@st.cache_data(show_spinner=False, max_entries=8)
def read_results(path: str, modified: float) -> pd.DataFrame:
    """The job's per-particle table (``modified`` keys the cache to the file's version)."""
    return pd.read_csv(path, dtype={"species": str})


def scene_figure(table: pd.DataFrame, dim: int) -> go.Figure:
    """Particles of the model's species coloured by softness; the others small and grey."""
    shown = table.sample(MAX_DRAWN, random_state=0) if len(table) > MAX_DRAWN else table
    scored, other = shown[shown.softness.notna()], shown[shown.softness.isna()]
    limit = float(np.nanpercentile(np.abs(scored.softness), 98)) or 1.0
    z = (lambda part: part.z if dim == 3 else np.zeros(len(part)))
    figure = go.Figure([
        go.Scatter3d(x=other.x, y=other.y, z=z(other), mode="markers", name=f"other species ({len(other)})",
                     marker={"size": 2, "color": "#c8c8c8", "opacity": 0.4}),
        go.Scatter3d(x=scored.x, y=scored.y, z=z(scored), mode="markers", name="softness",
                     marker={"size": 3.5, "color": scored.softness, "colorscale": "RdBu_r", "cmin": -limit,
                             "cmax": limit, "colorbar": {"title": "S"}, "opacity": 0.9}),
    ])
    figure.update_layout(height=540, margin={"l": 0, "r": 0, "t": 30, "b": 0}, title="particles by softness",
                         scene={"aspectmode": "data", "xaxis_title": "x (σ)", "yaxis_title": "y (σ)",
                                "zaxis_title": "z (σ)"}, legend={"itemsizing": "constant", "x": 0, "y": 1})
    return figure


def softness_histograms(table: pd.DataFrame) -> go.Figure:
    """P(S) of all scored particles, and of the rearranging ones when known."""
    scored = table[table.softness.notna()]
    traces = [go.Histogram(x=scored.softness, histnorm="probability density", nbinsx=40, name="all",
                           marker_color="#7f7f7f", opacity=0.6)]
    if "rearranging" in table:
        traces.append(go.Histogram(x=scored.softness[scored.rearranging], histnorm="probability density", nbinsx=30,
                                   name="rearranging (top 10 % propensity)", marker_color="#d62728", opacity=0.6))
    figure = go.Figure(traces)
    figure.add_vline(x=0, line_dash="dot")
    figure.update_layout(barmode="overlay", height=340, title="P(S)", xaxis_title="softness S",
                         yaxis_title="probability density", margin={"t": 40}, legend={"x": 0.01, "y": 0.99})
    return figure


def rearrangement_figure(table: pd.DataFrame) -> go.Figure:
    """P(rearrange | S) in bins of softness, log scale (bins with at least 30 particles)."""
    scored = table[table.softness.notna()]
    edges = np.linspace(scored.softness.quantile(0.005), scored.softness.quantile(0.995), 13)
    bins = np.clip(np.digitize(scored.softness, edges) - 1, 0, len(edges) - 2)
    counts = np.bincount(bins, minlength=len(edges) - 1)
    hits = np.bincount(bins, weights=scored.rearranging.to_numpy(float), minlength=len(edges) - 1)
    keep = (counts >= 30) & (hits > 0)
    centres = (edges[:-1] + edges[1:]) / 2
    figure = go.Figure(go.Scatter(x=centres[keep], y=(hits / np.maximum(counts, 1))[keep], mode="lines+markers"))
    figure.update_layout(height=340, title="P(rearrange | S)", xaxis_title="softness S",
                         yaxis={"type": "log", "title": "probability (log scale)"}, margin={"t": 40})
    return figure


def propensity_figure(table: pd.DataFrame) -> go.Figure:
    scored = table[table.softness.notna()]
    figure = go.Figure(go.Scattergl(x=scored.propensity, y=scored.predicted_propensity, mode="markers",
                                    marker={"size": 3, "opacity": 0.4, "color": "#1f77b4"}))
    figure.update_layout(height=340, title="ridge prediction against measured propensity",
                         xaxis_title="propensity (σ)", yaxis_title="predicted propensity (σ)", margin={"t": 40})
    return figure


def show_result(job: JobRecord) -> None:
    result = job.result
    path = Path(result["path"])
    if not path.is_file():
        st.warning(f"The result file {path} is gone; run the computation again.")
        return
    table = read_results(str(path), path.stat().st_mtime)
    species = result["model"]["species"]
    cols = st.columns(4)
    cols[0].metric("Particles", f"{result['n_particles']:,}",
                   help=", ".join(f"{s}: {n}" for s, n in result["species"].items()))
    cols[1].metric(f"Soft {species} particles (S > 0)", f"{100 * result['soft_fraction']:.1f} %",
                   help="Cubuk et al. report 20–25 % for their rearrangement definition")
    if "pearson_softness" in result:
        cols[2].metric("Pearson(S, propensity)", f"{result['pearson_softness']:.3f}",
                       help=f"{species} particles; the file's measured propensity")
        cols[3].metric("Pearson(ridge, propensity)", f"{result['pearson_ridge']:.3f}")
    st.caption(f"Models of species {species}, trained on {result['model']['configurations']} configurations · "
               f"{result['dim']}D box " + " × ".join(f"{v:.4g}" for v in result["box"]) + " σ")
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(scene_figure(table, result["dim"]))
    with right:
        st.plotly_chart(softness_histograms(table))
        if "rearranging_soft_fraction" in result:
            st.caption(f"{100 * result['rearranging_soft_fraction']:.1f} % of rearranging particles have S > 0 "
                       "(rearranging: the top 10 % of propensity).")
    if "rearranging" in table:
        a, b = st.columns(2)
        a.plotly_chart(rearrangement_figure(table))
        b.plotly_chart(propensity_figure(table))
    st.download_button("Per-particle results (CSV)", path.read_bytes(), file_name=f"softness-{job.id[:12]}.csv",
                       mime="text/csv")
    st.caption("Columns: particle, species, x, y, z (σ), softness (empty for other species), predicted_propensity "
               "(σ)" + (", propensity (σ, from the file), rearranging (top 10 %)" if "rearranging" in table else "") + ".")


job_id = attached_job_id()
if job_id:
    try:
        attached_kind = store.get_job(job_id).kind
    except KeyError:
        attached_kind = JOB_KIND
    if attached_kind == JOB_KIND:
        job_panel(store, manager, job_id, show_result)
