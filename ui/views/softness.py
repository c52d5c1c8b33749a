"""Glass softness page: a configuration or trajectory in, softness and predicted propensity of each
particle out; and training of new models as a background job.

The data (an example Kob–Andersen configuration, or an uploaded isoconfigurational ``.npz``,
trajectory ``.npz`` or XYZ/CSV file with species, kept beside the store) and a model (shipped or
trained here) go to a ``glass-softness`` job; the page draws the job's per-particle CSV: particles
coloured by softness, P(S), and — when the dynamics are known (propensity, or p_hop of a
trajectory) — P(rearrange | S) on a log scale, the softness of rearranging particles, and
predicted against measured propensity. "Train a model" starts a ``glass-softness-train`` job on
the Kob–Andersen training configurations or on uploaded files; trained models join the model list.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from engine.analysis.softness.catalog import TrainedModel, model_title, resolve_model, trained_models
from engine.analysis.softness.labels import HopSettings, in_words
from engine.analysis.softness.prediction import check_compatible
from engine.analysis.softness.shipped import EXAMPLES, KA_BOX, TRAINING
from engine.analysis.softness.softness_job import MAX_UPLOAD_BYTES, UPLOAD_FORMATS, load_data, stage_upload
from engine.analysis.softness.trajectory import GlassTrajectory
from engine.store import JobRecord
from ui.common import CheckedNumbers, job_manager, open_store, show_error
from ui.job_panel import QUERY_KEY, attach_job, attached_job_id, job_panel
from ui.softness_figures import (MAX_DRAWN, propensity_figure, rearrangement_figure, scene_figure,
                                 softness_histograms)

JOB_KIND = "glass-softness"
TRAIN_KIND = "glass-softness-train"
UPLOAD_MB = max(1, -(-MAX_UPLOAD_BYTES // 2**20))
SHIPPED_CHOICES = {
    "Shipped Kob–Andersen softness + propensity (3D, species A)": ["softness", "propensity"],
    "Shipped softness (SVM; 3D Kob–Andersen, species A)": ["softness"],
    "Shipped propensity (ridge; 3D Kob–Andersen, species A)": ["propensity"],
}

def trained_table(listed: list[TrainedModel]) -> pd.DataFrame:
    """One row per trained model: name, kind, species, dimension, data, sizes, held-out score, time."""
    rows = []
    for entry in listed:
        details = entry.model.details
        held = details.get("report", {}).get("held_out") or {}
        rows.append({"name": details.get("name"), "kind": entry.model.kind, "species": entry.model.species,
                     "dim": entry.model.dim, "data": details.get("source"),
                     "training particles": details.get("training_particles"),
                     "held-out score": held.get("pearson", held.get("balanced_accuracy")),
                     "trained at": details.get("trained_at"), "file": entry.path.name})
    return pd.DataFrame(rows)


st.title("Glass softness")
st.markdown(
    "**Softness** $S$ (Cubuk et al. 2015, Schoenholz et al. 2016) is a particle's signed distance to the "
    "plane a linear support-vector machine draws, in the space of its structure functions, between "
    "particles about to rearrange and particles that stay: $S>0$ lies on the rearranging side, and the "
    "probability to rearrange grows about exponentially with $S$. matloop ships two models for the "
    "**A particles of the 3D Kob–Andersen glass** at $T=0.44$ (lengths in $\\sigma_{AA}$, density 1.2), "
    "trained on ten isoconfigurational ensembles (BOTAN release): the SVM softness and a ridge regression "
    "of the **propensity** (mean displacement at $t\\approx\\tau_\\alpha$). Descriptors: 152 radial and "
    "angular structure functions, $\\log(1+G)$, and their averages within $2.5\\,\\sigma$. "
    "From a **trajectory**, rearrangements are read from $p_{hop}$; **train a model** below for other "
    "systems (2D or 3D)."
)
store = open_store()
manager = job_manager(store)
job_id = attached_job_id()
try:
    attached_kind = store.get_job(job_id).kind if job_id else None
except KeyError:
    attached_kind = JOB_KIND  # job_panel explains that the id is unknown

with st.expander("Rearrangements in trajectories (p_hop)"):
    st.caption("$p_{hop}(i,t)=\\sqrt{\\langle(r_i-\\langle r_i\\rangle_B)^2\\rangle_A\\,\\langle(r_i-\\langle r_i"
               "\\rangle_A)^2\\rangle_B}$ over windows A = [t − w, t] and B = [t, t + w] (Candelier et al. 2009). "
               "Rearranging: $p_{hop}>p_c$ at the frame; not rearranging: $p_{hop}$ below the stable threshold "
               "at every frame within the stable window, before and after (Cubuk et al. 2015, Schoenholz et al. "
               "2016; $p_c = 0.2\\,\\sigma^2$ for Kob–Andersen).")
    c = st.columns(5)
    hop_numbers = CheckedNumbers()
    half_window = hop_numbers.number("Half window w (frames)", 5, 1, 500, "frames", where=c[0],
                                     help="frames in each of the windows A and B")
    threshold = hop_numbers.number("p_c (σ²)", 0.2, 1e-4, 100.0, "σ²", where=c[1], format="%.3f",
                                   help="p_hop above which a particle rearranges")
    stable_threshold = hop_numbers.number("Stable below (σ²)", 0.2, 1e-4, 100.0, "σ²", where=c[2], format="%.3f",
                                          help="at most p_c")
    stable_window = hop_numbers.number("Stable window (frames)", 10, 0, 5000, "frames", where=c[3],
                                       help="frames on either side of t over which p_hop must stay low")
    max_frames = hop_numbers.number("Frames described", 10, 1, 100, where=c[4],
                                    help="per trajectory: evenly spaced for prediction, the richest in "
                                         "rearrangements for training (structure functions cost seconds per frame)")
#: The p_hop settings' names in the words of this page's inputs.
HOP_LABELS = (("half_window", "“Half window w”"), ("stable_threshold", "“Stable below”"), ("threshold", "“p_c”"),
              ("stable_window", "“Stable window”"), ("max_frames", "“Frames described”"))
hops = {"half_window": int(half_window), "threshold": float(threshold), "stable_threshold": float(stable_threshold),
        "stable_window": int(stable_window), "max_frames": int(max_frames)} if hop_numbers.ok else None

st.subheader("Compute softness")
origin = st.radio("Configuration", ["Example (Kob–Andersen test data)", "Upload a file"], horizontal=True)
source, upload = None, None
compute_numbers = CheckedNumbers()
if origin.startswith("Example"):
    example = st.selectbox("Example configuration", list(EXAMPLES),
                           format_func=lambda k: f"configuration {k} (4096 particles, with propensity; not trained on)")
    source = {"example": int(example)}
else:
    upload = st.file_uploader(
        "Configuration or trajectory file", type=list(UPLOAD_FORMATS), max_upload_size=UPLOAD_MB,
        help="Isoconfigurational .npz (types 0 = A, 1 = B; initial_positions in [0, L); optional positions "
             "(R, N, d) of R trajectories or propensity (N,)); trajectory .npz (types (N,), positions (T, N, d) "
             "unwrapped, optional times (T,) and box (d,)); or XYZ / CSV with a species column and the box in the file.")
    box_length = compute_numbers.number("Box length of an .npz file (σ_AA)", KA_BOX, 0.0, 10_000.0, "σ_AA",
                                        open_low=True, format="%.5f",
                                        help="cubic (square in 2D), periodic; trajectories with a box field keep theirs")
    st.caption("Files are parsed as data (NumPy without pickles, or the text readers), never executed.")
choices = dict(SHIPPED_CHOICES)
for trained in trained_models(store.path):
    choices[f"{model_title(trained.model)} · {trained.path.stem[:8]}"] = [str(trained.path)]
model_choice = st.selectbox("Model", list(choices), help="shipped models, and those trained below")
models = choices[model_choice]
ready = hop_numbers.ok and compute_numbers.ok
if not hop_numbers.ok:
    hop_numbers.summary("Compute softness")  # the p_hop settings sit in a closed expander
start = st.button("Compute softness", type="primary", disabled=not ready)

if start and ready:
    try:
        settings = HopSettings(**hops)
        if upload is None and source is None:
            raise ValueError("upload a configuration or trajectory file first (.npz, .xyz or .csv)")
        if upload is not None:
            if box_length <= 0:
                raise ValueError("the box length must be > 0")
            source, data = stage_upload(store.path, upload.name, upload.getvalue(), box_length=box_length,
                                        models=models, hops=settings)
            st.caption(f"Read {upload.name}: " + (
                f"trajectory of {data.n_particles} particles, {data.n_frames} frames, {data.dim}D"
                if isinstance(data, GlassTrajectory) else f"{data.system.n_particles} particles, {data.system.dim}D"))
        else:
            check_compatible(load_data(source).system, [resolve_model(m) for m in models])
    except ValueError as exc:
        show_error(f"Cannot use this {'file' if upload is not None else 'input'}: {in_words(str(exc), HOP_LABELS)}")
        st.query_params.pop(QUERY_KEY, None)
        job_id = None
    else:
        attach_job(manager.submit(JOB_KIND, {"source": source, "models": models, "hops": hops}))
        job_id, attached_kind = attached_job_id(), JOB_KIND

with st.expander("Train a model", expanded=attached_kind == TRAIN_KIND):
    st.caption("Structure functions of each training configuration (about 10 s per 4096 particles here), then the "
               "fit; progress is shown live and the job can be cancelled between configurations. The model is "
               "stored beside the store and joins the Model list above.")
    data_choice = st.radio("Training data", ["Kob–Andersen training configurations", "Upload files"], horizontal=True)
    training_files, training_box = [], KA_BOX
    train_numbers = CheckedNumbers()
    if data_choice.startswith("Kob"):
        n_train = st.slider("Training configurations", 1, len(TRAINING), len(TRAINING),
                            help="configurations 1–n of the shipped models' data (propensity at t ≈ τα; rearranging "
                                 "= top 10 %); scored on the held-out test configurations 401–403")
    else:
        training_files = st.file_uploader(
            "Training files (.npz)", type=["npz"], accept_multiple_files=True, max_upload_size=UPLOAD_MB,
            help="isoconfigurational .npz with propensity (or the trajectories to compute it), or trajectory .npz "
                 "(rearrangements from p_hop, settings above); one kind. With three or more configurations "
                 "(trajectory frames) the last 20 % are held out and scored.") or []
        training_box = train_numbers.number("Box length of .npz training files (σ)", KA_BOX, 0.0, 10_000.0, "σ",
                                            format="%.5f", help="for files without a box field; 0: none given")
    c = st.columns(4)
    kind = c[0].selectbox("Model kind", ["softness", "propensity"],
                          format_func={"softness": "softness (linear SVM)", "propensity": "propensity (ridge)"}.get)
    species = c[1].text_input("Species", value="A", help="the species the model describes")
    C = train_numbers.number("SVM regularisation C", 0.01, 1e-5, 100.0, where=c[2], format="%.4f",
                             help="smaller: a softer margin")
    name = c[3].text_input("Name", value="", help="shown in the Model list")
    if not hop_numbers.ok:
        hop_numbers.summary("Train model")
    trainable = hop_numbers.ok and train_numbers.ok
    if st.button("Train model", disabled=not trainable) and trainable:
        try:
            settings = HopSettings(**hops)
            if not species.strip():
                raise ValueError("give the species the model describes")
            if data_choice.startswith("Kob"):
                inputs = {"example": int(n_train)}
            elif not training_files:
                raise ValueError("upload one or more training files (.npz) first")
            else:
                staged = []
                for f in training_files:
                    staged.append({**stage_upload(store.path, f.name, f.getvalue(), box_length=training_box or None,
                                                  models=())[0], "name": f.name})
                inputs = {"files": staged}
        except ValueError as exc:
            show_error(f"Cannot train: {in_words(str(exc), HOP_LABELS)}")
        else:
            attach_job(manager.submit(TRAIN_KIND, {"inputs": inputs, "kind": kind, "species": species.strip(),
                                                   "C": float(C), "hops": hops, "name": name.strip() or None}))
            st.rerun()
    listed = trained_models(store.path)
    if listed:
        st.dataframe(trained_table(listed), hide_index=True, column_config={
            "held-out score": st.column_config.NumberColumn(
                format="%.3f", help="Pearson with propensity, or balanced accuracy of the sign of S on p_hop labels")})


@st.cache_data(show_spinner=False, max_entries=8)
def read_results(path: str, modified: float) -> pd.DataFrame:
    """The job's per-particle table (``modified`` keys the cache to the file's version)."""
    return pd.read_csv(path, dtype={"species": str})


def show_result(job: JobRecord) -> None:
    """Metrics, scene, P(S), P(R|S), propensity scatter and download of a finished prediction job."""
    result = job.result
    path = Path(result["path"])
    if not path.is_file():
        st.warning(f"The result file {path} is gone; run the computation again.")
        return
    table = read_results(str(path), path.stat().st_mtime)
    species = result["models"][0]["species"]
    soft = "softness" in table
    cols = st.columns(4)
    cols[0].metric("Particles", f"{result['n_particles']:,}",
                   help=", ".join(f"{s}: {n}" for s, n in result["species"].items()))
    if soft:
        cols[1].metric(f"Soft {species} particles (S > 0)", f"{100 * result['soft_fraction']:.1f} %",
                       help="Cubuk et al. report 20–25 % for their rearrangement definition")
    if "pearson_softness" in result:
        cols[2].metric("Pearson(S, propensity)", f"{result['pearson_softness']:.3f}",
                       help=f"{species} particles; the file's measured propensity")
    if "pearson_ridge" in result:
        cols[3].metric("Pearson(ridge, propensity)", f"{result['pearson_ridge']:.3f}")
    if "frames" in result:
        cols[2].metric("Frames analysed", f"{len(result['frames'])} of {result['n_frames']}",
                       help=f"frames {', '.join(map(str, result['frames']))}")
        cols[3].metric("Rearranging particle-frames", f"{result['n_rearranging']:,}", help=result["hops"])
    for warning in result.get("warnings", []):
        st.warning(warning[0].upper() + warning[1:] + ("" if warning.endswith(("?", ".")) else "."),
                   icon=":material/warning:")
    st.caption("Models: " + "; ".join(m["title"] for m in result["models"]) + f" · {result['dim']}D box "
               + " × ".join(f"{v:.4g}" for v in result["box"]) + " σ")
    definition = result.get("rearranging_definition", "")
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(scene_figure(table, result["dim"], "softness" if soft else "predicted_propensity"))
        if "frame" in table or len(table) > MAX_DRAWN:
            st.caption("The first analysed frame" if "frame" in table else f"A random {MAX_DRAWN:,} particles")
    with right:
        if soft:
            st.plotly_chart(softness_histograms(table, f"rearranging ({definition})"))
        if result.get("rearranging_soft_fraction") is not None:
            st.caption(f"{100 * result['rearranging_soft_fraction']:.1f} % of rearranging particles have S > 0 "
                       f"(rearranging: {definition}).")
    a, b = st.columns(2)
    if soft and "rearranging" in table:
        a.plotly_chart(rearrangement_figure(table))
    if "propensity" in table and "predicted_propensity" in table:
        b.plotly_chart(propensity_figure(table))
    st.download_button("Per-particle results (CSV)", path.read_bytes(), file_name=f"softness-{job.id[:12]}.csv",
                       mime="text/csv")
    units = {"x": "Positions in σ", "softness": "softness dimensionless (empty: another species)",
             "predicted_propensity": "predicted_propensity in σ", "propensity": "propensity in σ",
             "p_hop": "p_hop in σ²", "time": "time in the trajectory's units",
             "outside_training": "outside_training: descriptors far from the model's training data"}
    st.caption("Columns: " + ", ".join(table.columns) + ". "
               + "; ".join(text for column, text in units.items() if column in table) + ".")


def show_training(job: JobRecord) -> None:
    """Summary of a finished training job."""
    result = job.result
    held = result.get("held_out") or {}
    cols = st.columns(4)
    cols[0].metric("Training particles", f"{result['training_particles']:,}",
                   help=f"from {result['configurations']} configurations (balanced classes for softness)")
    cols[1].metric("Training time", f"{result['describe_seconds'] + result['fit_seconds']:.1f} s",
                   help=f"structure functions {result['describe_seconds']:.1f} s, fit {result['fit_seconds']:.2f} s")
    if "pearson" in held:
        cols[2].metric("Held-out Pearson", f"{held['pearson']:.3f}",
                       help="with the measured propensity, mean over " f"{held['configurations']} configurations")
    if "balanced_accuracy" in held:
        cols[2].metric("Held-out balanced accuracy", f"{held['balanced_accuracy']:.3f}",
                       help="½ (P(S > 0 | rearranging) + P(S ≤ 0 | not rearranging)); 0.5 = chance")
    if held.get("rearranging_soft_fraction") is not None:
        cols[3].metric("Held-out rearranging with S > 0", f"{100 * held['rearranging_soft_fraction']:.1f} %")
    if not held:
        st.caption("No held-out data: give three or more configurations (or trajectory frames) to score the model.")
    st.caption(f"{result['title']} · stored as {Path(result['path']).name}; choose it in the Model list above.")


if job_id:
    job_panel(store, manager, job_id, show_training if attached_kind == TRAIN_KIND else show_result,
              kinds=(JOB_KIND, TRAIN_KIND))
