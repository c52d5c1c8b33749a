"""Train a surrogate on stored fracture labels: learning curves, parity plot, held-out metrics."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from engine.evaluators.fracture import FRACTURE_METRICS, FractureEvaluator
from engine.store import JobRecord
from engine.surrogates.training import TASKS
from fem.fracture import DEFAULT_ELL, FIDELITIES
from fem.phasefield_split import SPLITS
from ui.common import job_manager, open_store, show_error
from ui.job_panel import attach_job, attached_job_id, job_panel

st.title("Train a surrogate")
st.markdown(
    "Grid surrogates learn a fracture metric from the block layout: a single-layer (linear) "
    "baseline and a CNN, trained either to regress the metric or to tell good (top half) from "
    "bad (bottom half) designs. Designs are split by a seeded draw into training and held-out "
    "sets; the held-out Spearman rank correlation says how well the model ranks new designs."
)
store = open_store()
manager = job_manager(store)
#: Metrics a surrogate can learn: the objectives of the fracture metric table.
TARGETS = {metric.name: metric for metric in FRACTURE_METRICS if metric.larger_is_better is not None}

labels = store.labels(status="ok")
fracture = [label for label in labels if label.solver == FractureEvaluator.name]
if not fracture:
    st.info("No fracture labels in this store yet: label designs on **Label a design** or with "
            "`matloop label --random 200 --fidelity fast`.")
else:
    counts = pd.DataFrame({"fidelity": [label.fidelity for label in fracture]}).value_counts().rename("labels")
    st.dataframe(counts.reset_index(), hide_index=True)

with st.form("train"):
    cols = st.columns(3)
    fidelity = cols[0].selectbox("Labels of fidelity", FIDELITIES, index=0)
    target = cols[1].selectbox("Target", TARGETS, format_func=lambda name: TARGETS[name].label,
                               help="toughness: work of fracture per unit volume (area under the σ–ε curve)")
    model = cols[2].selectbox("Model", ["cnn", "linear"])
    cols = st.columns(4)
    task = cols[0].selectbox("Task", TASKS)
    epochs = cols[1].number_input("Most epochs", min_value=1, max_value=5000, value=200)
    test_fraction = cols[2].number_input("Held-out share", min_value=0.05, max_value=0.9, value=0.2, step=0.05)
    seed = cols[3].number_input("Seed", min_value=0, max_value=2**31 - 1, value=0)
    with st.expander("Solver set-up of the labels"):
        cols = st.columns(3)
        mode = cols[0].radio("Loading", ["I", "II"], horizontal=True)
        plane = cols[1].radio("2D model", ["stress", "strain"], horizontal=True)
        split = cols[2].selectbox("Energy split", ["default", *SPLITS], help="default: none in mode I, spectral in II")
        cols = st.columns(3)
        ell = cols[0].number_input("ℓ (mm)", min_value=0.0, value=DEFAULT_ELL, step=1 / 256, format="%.5f")
        size = cols[1].number_input("Element size (mm)", min_value=0.0, value=None, format="%.5f", placeholder="ℓ/2")
        elements = cols[2].number_input("or elements per block", min_value=1, value=None, placeholder="–")
    if st.form_submit_button("Train", type="primary"):
        setup = {"mode": mode, "plane": plane, "ell": float(ell), "split": None if split == "default" else split,
                 "element_size": None if size is None else float(size),
                 "elements_per_block": None if elements is None else int(elements)}
        options = {name: value for name, value in setup.items() if value is not None}
        try:
            FractureEvaluator.from_options(fidelity, options)
        except ValueError as exc:
            show_error(f"Invalid solver set-up: {exc}")
        else:
            attach_job(manager.submit("train-grid", {
                "fidelity": fidelity, "target": target, "model": model, "task": task, "max_epochs": int(epochs),
                "test_fraction": float(test_fraction), "random_state": int(seed), "options": options,
            }))


def show_result(job: JobRecord) -> None:
    """Held-out metrics, learning curves and the parity (or ranking) plot."""
    result = job.result
    metrics = result["metrics"]
    cols = st.columns(4)
    cols[0].metric("Spearman (held out)", f"{metrics['spearman_test']:.3f}")
    if "r2_test" in metrics:
        cols[1].metric("R² (held out)", f"{metrics['r2_test']:.3f}")
    else:
        cols[1].metric("Accuracy (held out)", f"{metrics['accuracy_test']:.3f}")
    cols[2].metric("Designs", f"{metrics['n_train']} + {metrics['n_test']}")
    cols[3].metric("Epochs", metrics["epochs"])
    history = pd.DataFrame(result["history"])
    curves = go.Figure([go.Scatter(x=history["epoch"], y=history[c], name=c.replace("_", " "))
                        for c in ("train_loss", "val_loss")])
    curves.update_layout(xaxis_title="epoch", yaxis_title="loss", yaxis_type="log", height=340, title="learning curves")
    parity = go.Figure(go.Scatter(x=result["y_test"], y=result["score_test"], mode="markers"))
    if metrics["task"] == "regression":
        low, high = min(result["y_test"]), max(result["y_test"])
        parity.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", name="y = x"))
    target_label = TARGETS[metrics["target"]].label if metrics["target"] in TARGETS else metrics["target"]
    parity.update_layout(xaxis_title=f"solver {target_label}", height=340, showlegend=False,
                         yaxis_title="predicted" if metrics["task"] == "regression" else "P(good)",
                         title="held-out designs")
    a, b = st.columns(2)
    a.plotly_chart(curves)
    b.plotly_chart(parity)
    st.caption(f"Model {result['model_id']} saved to `{result['path']}`")


job_id = attached_job_id()
if job_id:
    job_panel(store, manager, job_id, show_result, kinds=("train-grid",))

st.subheader("Registered models")
models = store.models()
if models:
    st.dataframe(pd.DataFrame([{"id": m["id"], "name": m["name"], "kind": m["kind"],
                                "spearman": m["metrics"].get("spearman_test"), "path": m["path"]} for m in models]),
                 hide_index=True)
else:
    st.caption("None yet.")
