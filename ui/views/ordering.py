"""Crystal order page: upload or generate particles, classify them as a job, see the classes in 3D.

The configuration (a generator's settings, or an uploaded XYZ/CSV file kept beside the store and
read by the text readers only) and the method go to an ``identify-structures`` job; the page
draws the job's per-particle CSV: particles coloured by class, class fractions, q4/q6
histograms per class, the 2D embedding of unsupervised methods, and a download.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go
import streamlit as st

from engine.analysis.ordering.classify_job import MAX_UPLOAD_BYTES, stage_upload
from engine.analysis.ordering.configurations import GENERATORS, READ_FORMATS
from engine.analysis.ordering.lattices import LATTICES
from engine.analysis.ordering.methods import METHODS
from engine.analysis.ordering.runners_unsupervised import DESCRIPTORS
from engine.store import JobRecord
from ui.common import CheckedNumbers, job_manager, open_store, show_error
from ui.job_panel import QUERY_KEY, attach_job, attached_job_id, job_panel

JOB_KIND = "identify-structures"
#: Most particles drawn in the 3D view (a seeded sample beyond).
MAX_DRAWN = 20_000
KINDS = {"lattice": "Crystal lattice", "liquid": "Liquid", "slab": "Crystal slab in its liquid",
         "fcc-hcp": "fcc block on an hcp block"}
COLOURS = {"fcc": "#2ca02c", "hcp": "#d62728", "bcc": "#1f77b4", "liquid": "#a0a0a0", "other": "#ff7f0e",
           "noise": "#a0a0a0"}
CLUSTER_COLOURS = plotly.colors.qualitative.Bold

st.title("Crystal order")
st.markdown(
    "Which particles sit in which ordered structure? The **supervised** methods use models that ship "
    "with matloop, trained on fcc, bcc, hcp and liquid (a particle that fits none is *other*): an MLP "
    "on bond-order parameters (Steinhardt $q_l$, Lechner–Dellago $\\bar q_l$) and a $q_6$-threshold baseline; a CNN on each particle's diffraction image (**diffraction-cnn**); "
    "common-neighbour analysis (**cna**) is the geometric reference. "
    "The **unsupervised** methods find the classes in the data itself — Gaussian mixture, DBSCAN, "
    "autoencoder + mixture, diffusion map, UMAP, mixture + MLP — and name them *cluster 1, 2, …* from the most ordered "
    "(highest mean $q_6$) down. Lengths are in the units of the data; generated configurations have a "
    "nearest-neighbour distance of 1."
)
store = open_store()
manager = job_manager(store)

numbers = CheckedNumbers()
source_column, method_column = st.columns(2)
with source_column:
    st.subheader("Particles")
    origin = st.radio("Source", ["Generate", "Upload a file"], horizontal=True)
    source = None
    if origin == "Generate":
        kind = st.selectbox("Configuration", list(KINDS), format_func=KINDS.get)
        options = {}
        cols = st.columns(2)
        if kind in ("lattice", "slab"):
            structures = [s for s in LATTICES if kind == "lattice" or s != "hexagonal"]
            options["structure"] = cols[0].selectbox("Structure", structures, index=structures.index("fcc"),
                                                     help="hexagonal is the 2D triangular lattice")
        if kind == "liquid":
            options["particles"] = numbers.number("Particles", 1000, 20, 50_000, where=cols[0],
                                                  help="particles generated")
        else:
            options["cells"] = numbers.number(
                "Unit cells per axis", GENERATORS[kind]["cells"], 1, 20, where=cols[1 if "structure" in options else 0],
                help="fcc-hcp: in-plane cells of two particles per layer")
            options["lindemann"] = st.slider(
                "Lindemann ratio", 0.0, 0.20, 0.05, 0.01,
                help="thermal noise: root-mean-square displacement over the nearest-neighbour distance "
                     "(crystals melt near 0.10–0.15)")
        if kind == "slab":
            options["slab_fraction"] = st.slider(
                "Crystal share of the box height", 0.1, 0.9, GENERATORS["slab"]["slab_fraction"], 0.05,
                help="0.55 puts the cut between (100) layers; at 0.5 it runs through one, which noise splits")
        options["seed"] = numbers.number("Seed", 0, 0, 2**31 - 1, help="of the generated positions and noise")
        if numbers.ok:  # nothing is generated from a number out of range
            source = {"generate": {"kind": kind, **{k: (v if isinstance(v, str) else float(v) if k in (
                "lindemann", "slab_fraction") else int(v)) for k, v in options.items()}}}
    else:
        upload = st.file_uploader(
            "Configuration file (XYZ, CSV or GSD)", type=list(READ_FORMATS),
            max_upload_size=max(1, -(-MAX_UPLOAD_BYTES // 2**20)),  # the widget states our limit (MB)
            help="Extended XYZ with Lattice=\"…\" (and pbc=\"T T T\") on line 2, coordinates from the box "
                 "corner; or CSV with a '# box: Lx Ly Lz' line, optional '# periodic: true true false', "
                 "columns x,y,z (label and species optional), coordinates centred on the box; or a HOOMD "
                 "GSD file (its first frame).")
        st.caption("Files are parsed as data, never executed or unpickled.")
        if upload is not None:
            source = {"upload": upload}

with method_column:
    st.subheader("Method")
    method = st.selectbox("Method", list(METHODS))
    st.caption(f"{METHODS[method].kind.capitalize()}: {METHODS[method].title}.")
    method_options: dict = {}
    if METHODS[method].kind == "unsupervised":
        cols = st.columns(2)
        method_options["descriptors"] = cols[0].selectbox(
            "Descriptors", list(DESCRIPTORS),
            help="; ".join(f"{d}: {text}" for d, text in DESCRIPTORS.items())
            + ". coherence-6 keeps a crystal's surface layers crystal-like (crystal in liquid); "
              "steinhardt separates fcc from hcp.")
        method_options["neighbors"] = numbers.number(
            "Neighbours", 12, 4, 40, where=cols[1],
            help="nearest neighbours of each particle's descriptors: 12 for fcc/hcp; for bcc use 14 "
                 "(8 + 6): with 12 the cut falls inside the second shell, with 8 thermal noise swaps first- and "
                 "second-shell neighbours, and either splits bcc into two classes")
        if method == "umap":
            method_options["clusterer"] = cols[0].selectbox(
                "Clustering of the map", ["gmm", "hdbscan"],
                help="gmm: Gaussian mixture with K below; hdbscan finds K itself and leaves outliers as noise")
        if method != "dbscan" and method_options.get("clusterer") != "hdbscan":
            classes = cols[0].selectbox("Classes K", ["by BIC", 2, 3, 4, 5, 6],
                                        help="by BIC: the mixture of 1–6 components of lowest Bayesian "
                                             "information criterion, then components that share one density "
                                             "mode merged into one class (one thermal crystal is not Gaussian "
                                             "and takes several components); give K when you know it")
            method_options["n_components"] = None if classes == "by BIC" else int(classes)
            method_options["seed"] = numbers.number("Method seed", 0, 0, 2**31 - 1, where=cols[1],
                                                    help="of the method's random choices")
        if method == "autoencoder":
            method_options["epochs"] = numbers.number("Training epochs", 100, 5, 1000, help="of the autoencoder")
    elif METHODS[method].kind == "supervised":
        st.caption("Uses the shipped model (bond-order features with 12 and 14 neighbours; 3D systems).")
    else:
        st.caption("Adaptive cutoff per particle, no parameters; 3D systems. The field's conventional reference.")
    numbers.summary("Classify")
    start = st.button("Classify", type="primary", disabled=not numbers.ok)

if start and numbers.ok:
    if source is None:
        show_error("Upload a configuration file first (XYZ, CSV or GSD).")
    else:
        params_source = source
        if "upload" in source:
            try:
                path, system = stage_upload(store.path, source["upload"].name, source["upload"].getvalue())
            except ValueError as exc:
                show_error(f"Cannot use this file: {exc}")
                params_source = None
                # the previous job's result (or failure) below this error would read as this file's
                st.query_params.pop(QUERY_KEY, None)
            else:
                params_source = {"file": str(path)}
                st.caption(f"Read {source['upload'].name}: {system.n_particles} particles, {system.dim}D.")
        if params_source is not None:
            options = {k: v for k, v in method_options.items() if v is not None}
            attach_job(manager.submit(JOB_KIND, {"source": params_source, "method": method, "options": options}))


@st.cache_data(show_spinner=False, max_entries=8)
def read_results(path: str, modified: float) -> pd.DataFrame:
    """The job's per-particle table (``modified`` keys the cache to the file's version)."""
    return pd.read_csv(path, dtype={"label": str, "true_label": str})


def colour_map(classes: list[str]) -> dict[str, str]:
    """A colour per class: fixed ones for structures, a qualitative palette for clusters."""
    clusters = [c for c in classes if c not in COLOURS]
    return {**{c: COLOURS[c] for c in classes if c in COLOURS},
            **{c: CLUSTER_COLOURS[k % len(CLUSTER_COLOURS)] for k, c in enumerate(sorted(clusters))}}


#: Unit of the particle coordinates on the axes: the file's own (generated systems: nearest-neighbour distances).
LENGTH = "length unit of the data"


def scene_figure(table: pd.DataFrame, colours: dict[str, str], dim: int) -> go.Figure:
    """Particles coloured by class (a seeded sample of MAX_DRAWN when there are more)."""
    shown = table.sample(MAX_DRAWN, random_state=0) if len(table) > MAX_DRAWN else table
    size = float(np.clip(14.0 / len(shown) ** (1 / 3) * 3, 2.0, 8.0))
    if dim == 2:  # a flat picture, not a 3D scene with an empty z axis
        figure = go.Figure([go.Scattergl(x=shown.loc[shown.label == n, "x"], y=shown.loc[shown.label == n, "y"],
                                         mode="markers", name=f"{n} ({int((shown.label == n).sum())})",
                                         marker={"size": 2 * size, "color": c, "opacity": 0.85})
                            for n, c in colours.items()])
        figure.update_layout(height=520, margin={"l": 0, "r": 0, "t": 30, "b": 0}, title="particles by class",
                             xaxis_title=f"x ({LENGTH})", yaxis={"title": f"y ({LENGTH})", "scaleanchor": "x",
                                                                 "scaleratio": 1},
                             legend={"itemsizing": "constant"})
        return figure
    traces = []
    for name, colour in colours.items():
        part = shown[shown.label == name]
        traces.append(go.Scatter3d(x=part.x, y=part.y, z=part.z, mode="markers", name=f"{name} ({len(part)})",
                                   marker={"size": size, "color": colour, "opacity": 0.85,
                                           "line": {"width": 0}}))
    figure = go.Figure(traces)
    figure.update_layout(height=520, margin={"l": 0, "r": 0, "t": 30, "b": 0}, legend={"itemsizing": "constant"},
                         title="particles by class", scene={"aspectmode": "data", "xaxis_title": f"x ({LENGTH})",
                                                            "yaxis_title": f"y ({LENGTH})",
                                                            "zaxis_title": f"z ({LENGTH})"})
    return figure


def histogram(table: pd.DataFrame, colours: dict[str, str], column: str, neighbors: int | str = 12) -> go.Figure:
    """Distribution of a bond-order parameter in each class (each normalised to unit area)."""
    figure = go.Figure([go.Histogram(x=table.loc[table.label == name, column], name=name, marker_color=colour,
                                     opacity=0.6, histnorm="probability density", nbinsx=40)
                        for name, colour in colours.items()])
    figure.update_layout(barmode="overlay", height=320, title=f"{column} per class",
                         xaxis_title=f"{column} ({neighbor_words(neighbors)}, dimensionless)",
                         yaxis_title="probability density", margin={"t": 40})
    return figure


def neighbor_words(neighbors: int | str) -> str:
    """``12`` → "12 nearest neighbours", ``"voronoi"`` → "voronoi neighbours"."""
    return f"{neighbors} nearest neighbours" if isinstance(neighbors, int) else f"{neighbors} neighbours"


def embedding_figure(table: pd.DataFrame, colours: dict[str, str], axes: list[str]) -> go.Figure:
    """The 2D embedding by class; a histogram of the first axis when the second is undefined."""
    if table["embedding_2"].isna().all():  # a one-column descriptor has one principal component
        figure = histogram(table, colours, "embedding_1")
        figure.update_layout(title="embedding (one descriptor: one component)", xaxis_title=axes[0], height=360)
        return figure
    figure = go.Figure([go.Scattergl(x=table.loc[table.label == n, "embedding_1"],
                                     y=table.loc[table.label == n, "embedding_2"], mode="markers", name=n,
                                     marker={"color": c, "size": 4, "opacity": 0.7})
                        for n, c in colours.items()])
    figure.update_layout(height=420, xaxis_title=axes[0], yaxis_title=axes[1], title="2D embedding")
    return figure


def show_result(job: JobRecord) -> None:
    """Metrics, 3D view, fractions, histograms, embedding and download of a finished job."""
    result = job.result
    path = Path(result["path"])
    if not path.is_file():
        st.warning(f"The result file {path} is gone; run the classification again.")
        return
    table = read_results(str(path), path.stat().st_mtime)
    fractions = dict(sorted(result["fractions"].items(), key=lambda item: -item[1]))  # largest first, as the CLI
    colours = colour_map(list(fractions))
    cols = st.columns(4)
    cols[0].metric("Particles", f"{result['n_particles']:,}")
    cols[1].metric("Classes", len([c for c in fractions if c != "noise"]),
                   help="noise (DBSCAN, HDBSCAN) is not counted")
    if "agreement" in result:
        cols[2].metric("Agreement with true labels", f"{100 * result['agreement']:.1f} %",
                       help="share of the particles whose class equals the file's true label (%)")
    if "ari" in result:
        cols[2].metric("Adjusted Rand index", f"{result['ari']:.3f}", help="1: the classes equal the true labels")
    if "largest_cluster_share" in result:
        cols[2].metric("Share in the largest cluster", f"{100 * result['largest_cluster_share']:.1f} %",
                       help="the configuration has one true class (the adjusted Rand index would be 0 for any split)")
    if "mixture_components" in result["details"]:
        cols[3].metric("Mixture components (BIC)", result["details"]["mixture_components"],
                       help="components of lowest BIC; those sharing one density mode form one class")
    elif "n_components" in result["details"]:
        cols[3].metric("K (mixture components)", result["details"]["n_components"],
                       help="classes the method found (given, or chosen by BIC)")
    box = " × ".join(f"{v:.3g}" for v in result["box"]["L"])
    periodic = "".join(a for a, p in zip("xyz", result["box"]["periodic"]) if p) or "none"
    st.caption(f"Method **{result['method']}** on {result['descriptor']} · {result['dim']}D box {box} "
               f"(periodic along {periodic})")
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(scene_figure(table, colours, result["dim"]))
        if len(table) > MAX_DRAWN:
            st.caption(f"Showing a random {MAX_DRAWN:,} of {len(table):,} particles.")
    with right:
        summary = pd.DataFrame({"class": list(fractions), "particles": [int((table.label == c).sum()) for c in fractions],
                                "share (%)": [round(100 * f, 1) for f in fractions.values()]})
        if table["confidence"].notna().any():
            means = [table.loc[table.label == c, "confidence"].mean() for c in fractions]
            # "other" and noise carry no confidence: a dash, not "None"
            summary["mean confidence"] = ["–" if pd.isna(m) else f"{m:.3f}" for m in means]
        bars = go.Figure(go.Bar(x=[100 * f for f in fractions.values()], y=list(fractions), orientation="h",
                                marker_color=[colours[c] for c in fractions]))
        bars.update_layout(height=260, xaxis_title="share of particles (%)", yaxis={"autorange": "reversed"},
                           margin={"t": 30, "l": 0}, title="class fractions")
        st.plotly_chart(bars)
        st.dataframe(summary, hide_index=True, column_config={
            "share (%)": st.column_config.NumberColumn(format="%.1f"),
            "mean confidence": st.column_config.TextColumn(help="mean of the particles' confidences; none for "
                                                           "'other' and noise")})
    a, b = st.columns(2)
    a.plotly_chart(histogram(table, colours, "q4", result.get("q_neighbors", 12)))
    b.plotly_chart(histogram(table, colours, "q6", result.get("q_neighbors", 12)))
    axes = result.get("embedding_axes")
    if axes:
        st.plotly_chart(embedding_figure(table, colours, axes))
    st.download_button("Per-particle results (CSV)", path.read_bytes(), file_name=f"order-{job.id[:12]}.csv",
                       mime="text/csv")
    st.caption("Columns: particle, x, y, z (length units of the data), true_label (if known), label, "
               "confidence (probability of the class; empty where a method has none and for particles that fit no trained class), q4, q6"
               + (", embedding_1, embedding_2" if axes else "") + ".")


job_id = attached_job_id()
if job_id:
    job_panel(store, manager, job_id, show_result, kinds=(JOB_KIND,))
