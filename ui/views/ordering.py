"""Crystal order page: upload or generate particles, classify them as a job, see the classes in 3D.

The configuration (a generator's settings, or an uploaded XYZ/CSV/GSD file kept beside the store
and read by the text and GSD readers only) and the method go to an ``identify-structures`` job; the
page draws the job's per-particle CSV: particles coloured by class, class fractions, q4/q6
histograms per class, the 2D embedding of unsupervised methods, and a download. Figures and
phrases are in :mod:`ui.ordering_figures`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from engine.analysis.ordering.classify_job import MAX_UPLOAD_BYTES, stage_upload
from engine.analysis.ordering.configurations import GENERATORS, READ_FORMATS, read_configuration
from engine.analysis.ordering.lattices import LATTICES
from engine.analysis.ordering.methods import METHODS
from engine.analysis.ordering.runners_unsupervised import DESCRIPTORS
from engine.analysis.ordering.shipped_models import SHIPPED_MODELS
from engine.store import JobRecord
from ui.common import CheckedNumbers, job_manager, open_store, show_error
from ui.job_panel import QUERY_KEY, attach_job, attached_job_id, job_panel
from ui.ordering_figures import (FILE_UNIT, GENERATED_UNIT, MAX_DRAWN, box_text, colour_map, embedding_figure,
                                 fraction_figure, histogram, plural, scene_figure)

JOB_KIND = "identify-structures"
KINDS = {"lattice": "Crystal lattice", "liquid": "Liquid", "slab": "Crystal slab in its liquid",
         "fcc-hcp": "fcc block on an hcp block"}
#: Largest upload in MB as the uploader states it (it refuses bigger files in the browser).
UPLOAD_MB = max(1, -(-MAX_UPLOAD_BYTES // 2**20))
#: What each method without options classifies with. The page has no model choice: supervised
#: methods always use the model that ships with matloop (``matloop order --model FILE`` takes another).
FIXED_MODELS = {
    "mlp": f"Model: the MLP shipped with matloop ({SHIPPED_MODELS.name}), trained on 3D fcc, bcc, hcp and liquid; "
           "bond-order features with 12 and 14 neighbours. This page always uses the shipped model.",
    "q6-threshold": f"Model: the q6 thresholds shipped with matloop ({SHIPPED_MODELS.name}), q6 over "
                    "SANN neighbours (12 in fcc/hcp, 14 in bcc), particles that fit no class reported as "
                    "other; 3D systems. This page always uses the shipped model.",
    "diffraction-cnn": "Model: the CNN shipped with matloop, trained on diffraction images of 3D fcc, bcc, hcp "
                       "and liquid. This page always uses the shipped model.",
    "cna": "Adaptive cutoff per particle, no parameters and no model; 3D systems. The field's conventional reference.",
}
_STAGED = "ordering_staged_upload"
_SETTING_WORDS = {"cells": "unit cells per axis", "lindemann": "Lindemann ratio",
                  "slab_fraction": "crystal share of the height"}

st.title("Crystal order")
st.markdown(
    "Which particles sit in which ordered structure? The **supervised** methods use models that ship "
    "with matloop, trained on fcc, bcc, hcp and liquid (a particle that fits none is *other*): an MLP "
    "on bond-order parameters (Steinhardt $q_l$, Lechner–Dellago $\\bar q_l$) and a $q_6$-threshold baseline; "
    "a CNN on each particle's diffraction image (**diffraction-cnn**); "
    "common-neighbour analysis (**cna**) is the geometric reference. "
    "The **unsupervised** methods find the classes in the data itself — Gaussian mixture, DBSCAN, "
    "autoencoder + mixture, diffusion map, UMAP, mixture + MLP — and name them *cluster 1, 2, …* from the most "
    "ordered (highest mean $q_6$) down. Lengths are in the units of the data; generated configurations have a "
    "nearest-neighbour distance of 1."
)
store = open_store()
manager = job_manager(store)


def size_text(size: int) -> str:
    """A file size in bytes as people read it (kB, MB: powers of 1000, as the uploader writes them)."""
    for unit, factor in (("MB", 1e6), ("kB", 1e3)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return plural(size, "byte")


def staged_upload(upload: Any) -> dict[str, Any]:
    """The uploaded file kept beside the store and read once per upload (not on every rerun).

    Returns ``{"path", "name", "size", "text"}`` (``text``: what was read, in words) or
    ``{"name", "error"}`` with the reader's message.
    """
    key = (upload.file_id, upload.name, upload.size)
    kept = st.session_state.get(_STAGED)
    if kept is not None and kept[0] == key:
        return kept[1]
    try:
        path, system = stage_upload(store.path, upload.name, upload.getvalue())
    except ValueError as exc:
        staged = {"name": upload.name, "error": str(exc)}
    except OSError as exc:  # the uploads folder beside the store cannot be written
        staged = {"name": upload.name, "error": f"{upload.name} could not be kept beside the store "
                                                f"({exc.strerror or exc})"}
    else:
        box = system.box
        tilts = [box.xy] if system.dim == 2 else [box.xy, box.xz, box.yz]
        staged = {"path": str(path), "name": upload.name, "size": upload.size,
                  "text": f"{plural(system.n_particles, 'particle')}, "
                          f"{box_text(list(box.L[: system.dim]), system.periodic, tilts, FILE_UNIT)}"}
    st.session_state[_STAGED] = (key, staged)  # only the latest upload: a refused one replaces it
    return staged


numbers = CheckedNumbers()
upload_refused = False
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
                help="rounded (half up) to whole lattice layers along z (fcc, bcc, hcp: 2 per cell; sc 1; diamond 4), "
                     "so that no cut runs through a layer")
        options["seed"] = numbers.number("Seed", 0, 0, 2**31 - 1, help="of the generated positions and noise")
        if numbers.ok:  # nothing is generated from a number out of range
            source = {"generate": {"kind": kind, **{k: (v if isinstance(v, str) else float(v) if k in (
                "lindemann", "slab_fraction") else int(v)) for k, v in options.items()}}}
    else:
        upload = st.file_uploader(
            "Configuration file (XYZ, CSV or GSD)", type=list(READ_FORMATS),
            max_upload_size=UPLOAD_MB,  # the widget states our limit (MB)
            help="Extended XYZ with Lattice=\"…\" (and pbc=\"T T T\") on line 2, coordinates from the box "
                 "corner; or CSV with a '# box: Lx Ly Lz' line, optional '# periodic: true true false', "
                 "columns x,y,z (label and species optional), coordinates centred on the box; or a HOOMD "
                 "GSD file (its first frame).")
        if upload is not None:
            staged = staged_upload(upload)
            if "error" in staged:
                upload_refused = True
                show_error(f"Cannot use this file: {staged['error']}")
                # the previous job's result (or failure) below this error would read as this file's
                st.query_params.pop(QUERY_KEY, None)
            else:
                source = {"file": staged["path"], "name": staged["name"]}
                st.info(f"In use: **{staged['name']}** ({size_text(staged['size'])}): {staged['text']}.",
                        icon=":material/description:")
        # Streamlit refuses a bigger file in the browser and keeps sending the previous one: say which is used.
        st.caption(f"Files are parsed as data, never executed or unpickled. A file over {UPLOAD_MB} MB is refused "
                   "by the uploader (marked red) and never reaches the page: only the file named *In use* is "
                   "classified; remove a file with its × to clear it.")

with method_column:
    st.subheader("Method")
    method = st.selectbox("Method", list(METHODS))
    st.caption(f"{METHODS[method].kind.capitalize()}: {METHODS[method].title}.")
    method_options: dict = {}
    if METHODS[method].kind == "unsupervised":
        cols = st.columns(2)
        method_options["descriptors"] = cols[0].selectbox(
            "Descriptors", list(DESCRIPTORS), index=list(DESCRIPTORS).index("auto"),
            help="; ".join(f"{d}: {text}" for d, text in DESCRIPTORS.items())
            + ". auto keeps a crystal's surface layers with the crystal (crystal in liquid) and "
              "separates fcc from hcp when there is no liquid.")
        method_options["neighbors"] = numbers.number(
            "Neighbours", 12, 4, 40, where=cols[1],
            help="nearest neighbours of each particle's descriptors: 12 for fcc/hcp, 6 for the 2D hexagonal "
                 "lattice; for bcc use 14 (8 + 6): with 12 the cut falls inside the second shell, with 8 thermal "
                 "noise swaps first- and second-shell neighbours, and either splits bcc into two classes")
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
    else:
        st.caption(FIXED_MODELS.get(method, "Model: shipped with matloop; this page always uses the shipped model."
                                    if METHODS[method].kind == "supervised" else "No options."))
    numbers.summary("Classify")
    start = st.button("Classify", type="primary", disabled=not numbers.ok)

if start and numbers.ok and not upload_refused:  # a refused file has its error box above
    if source is None:
        show_error("Upload a configuration file first (XYZ, CSV or GSD).")
    else:
        options = {k: v for k, v in method_options.items() if v is not None}
        attach_job(manager.submit(JOB_KIND, {"source": source, "method": method, "options": options}))


@st.cache_data(show_spinner=False, max_entries=8)
def read_results(path: str, modified: float) -> pd.DataFrame:
    """The job's per-particle table (``modified`` keys the cache to the file's version)."""
    return pd.read_csv(path, dtype={"label": str, "true_label": str})


@st.cache_data(show_spinner=False, max_entries=8)
def file_tilts(path: str, modified: float) -> list[float] | None:
    """Tilt factors of a configuration file's box (for results that do not record them); None if unreadable."""
    try:
        box = read_configuration(path).box
    except (OSError, ValueError):
        return None
    return [box.xy] if box.is2D else [box.xy, box.xz, box.yz]


def source_words(source: dict[str, Any]) -> str:
    """Where a job's particles came from, in words: the file as the user named it, or the generator's settings."""
    if "file" in source:
        return f"file **{source.get('name') or Path(source['file']).name}**"
    settings = dict(source.get("generate", {}))
    kind = settings.pop("kind", "")
    shown = [str(settings.pop("structure"))] if "structure" in settings else []
    shown += [f"{_SETTING_WORDS.get(k, k)} {v:g}" if isinstance(v, float) else f"{_SETTING_WORDS.get(k, k)} {v}"
              for k, v in settings.items()]
    return f"generated {KINDS.get(kind, kind).lower()}" + (f" ({', '.join(shown)})" if shown else "")


def result_box_text(result: dict[str, Any], source: dict[str, Any], unit: str) -> str:
    """The box of a result, with its tilt factors (from the result, or read from the file it names)."""
    tilts = result["box"].get("tilt")
    if tilts is None and "file" in source and Path(source["file"]).is_file():
        tilts = file_tilts(source["file"], Path(source["file"]).stat().st_mtime)
    return box_text(result["box"]["L"], result["box"]["periodic"], tilts, unit)


def truth_words(truths: pd.Series) -> str:
    """The true labels of one class's particles, most common first, in per cent: ``"fcc 97.6 %, hcp 2.4 %"``
    (at most three, then "…")."""
    shares = truths.fillna("unknown").value_counts(normalize=True)
    shown = [f"{name} {100 * share:.1f} %" for name, share in shares.iloc[:3].items()]
    return ", ".join(shown) + (", …" if len(shares) > 3 else "")


def show_result(job: JobRecord) -> None:
    """Metrics, 3D view, fractions, histograms, embedding and download of a finished job."""
    result = job.result
    path = Path(result["path"])
    if not path.is_file():
        st.warning(f"The result file {path} is gone; run the classification again.")
        return
    source = job.params.get("source", {})
    unit = FILE_UNIT if "file" in source else GENERATED_UNIT
    table = read_results(str(path), path.stat().st_mtime)
    fractions = dict(sorted(result["fractions"].items(), key=lambda item: -item[1]))  # largest first, as the CLI
    colours = colour_map(list(fractions))
    found = [c for c in fractions if c != "noise"]
    cols = st.columns(4)
    cols[0].metric("Particles", f"{result['n_particles']:,}")
    cols[1].metric("Classes", len(found), help="classes found; noise (DBSCAN, HDBSCAN) is not counted")
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
    model = " with the shipped model" if METHODS.get(result["method"]) and METHODS[result["method"]].kind == \
        "supervised" else ""
    st.caption(f"Method **{result['method']}**{model} on {result['descriptor']}: {plural(len(found), 'class')} "
               f"in {plural(result['n_particles'], 'particle')}. Particles: {source_words(source)}; "
               f"{result_box_text(result, source, unit)}.")
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(scene_figure(table, colours, result["dim"], unit))
        if len(table) > MAX_DRAWN:
            st.caption(f"Showing a random {MAX_DRAWN:,} of {len(table):,} particles.")
    with right:
        summary = pd.DataFrame({"class": list(fractions),
                                "particles": [int((table.label == c).sum()) for c in fractions],
                                "share (%)": [round(100 * f, 1) for f in fractions.values()]})
        config = {"particles": st.column_config.NumberColumn(format="localized"),
                  "share (%)": st.column_config.NumberColumn(format="%.1f", help="share of all particles (%)")}
        if table["confidence"].notna().any():
            # "other" and noise carry no confidence: a dash (the table's placeholder), not "None"
            summary["mean confidence"] = [table.loc[table.label == c, "confidence"].mean() for c in fractions]
            config["mean confidence"] = st.column_config.NumberColumn(
                format="%.3f", help="mean of the particles' class probabilities (0 to 1); none for 'other' and noise")
        st.plotly_chart(fraction_figure(fractions, colours))
        st.dataframe(summary, hide_index=True, column_config=config, placeholder="–")
        if "true_label" in table and table["true_label"].notna().any():
            st.caption("True labels in each class: " + "; ".join(
                f"{c} — {truth_words(table.loc[table.label == c, 'true_label'])}" for c in fractions) + ".")
    a, b = st.columns(2)
    a.plotly_chart(histogram(table, colours, "q4", result.get("q_neighbors", 12)))
    b.plotly_chart(histogram(table, colours, "q6", result.get("q_neighbors", 12)))
    st.caption("q4 and q6 histograms: each class normalised to unit area, so that small classes show their shape too.")
    axes = result.get("embedding_axes")
    if axes:
        st.plotly_chart(embedding_figure(table, colours, axes))
    st.download_button("Per-particle results (CSV)", path.read_bytes(), file_name=f"order-{job.id[:12]}.csv",
                       mime="text/csv")
    st.caption(f"Columns: particle, {', '.join('xyz'[: result['dim']])} ({unit}), true_label and species (if known), "
               "label, "
               "confidence (probability of the class; empty where a method has none and for particles that fit no "
               "trained class), q4, q6" + (", embedding_1, embedding_2" if axes else "") + ".")


job_id = attached_job_id()
if job_id:
    job_panel(store, manager, job_id, show_result, kinds=(JOB_KIND,))
