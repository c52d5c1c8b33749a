"""Train a surrogate on stored fracture labels: learning curves, parity plot, held-out metrics."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from engine.evaluators.fracture import FRACTURE_METRICS, FractureEvaluator, fracture_key
from engine.store import JobRecord, LabelRecord
from engine.surrogates.ranking import model_summary
from engine.surrogates.training import TASKS, check_split
from fem.fracture import FIDELITIES
from ui.axes import log_ticks
from ui.common import CheckedNumbers, job_manager, open_store, show_error
from ui.fracture_setup import setup_inputs
from ui.job_panel import attach_job, attached_job_id, job_panel

st.title("Train a surrogate")
st.markdown(
    "Grid surrogates learn a fracture metric from the block layout: a single-layer (linear) "
    "baseline and a CNN, trained either to regress the metric or to tell good (top half) from "
    "bad (bottom half) designs. Designs are split by a seeded draw into training and held-out "
    "sets; the held-out Spearman rank correlation says how well the model ranks new designs. "
    "The CNN follows the surrogate of Yu, Qin & Buehler (Soft Matter 15, 2019) and Gu, Chen & Buehler "
    "(Mater. Horiz. 5, 939, 2018), which rank soft/stiff grids by predicted toughness or strength."
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



def same_training(params: dict, n_labels: int) -> JobRecord | None:
    """A training job of this store with the same ``params`` that is still running, or that trained on
    ``n_labels`` labels (training is seeded: it would make the same model again); None if there is none."""
    for job in store.jobs(limit=200):
        if job.kind != "train-grid" or job.params != params or job.status in ("failed", "cancelled"):
            continue
        metrics = (job.result or {}).get("metrics", {})
        if not job.finished or metrics.get("n_train", 0) + metrics.get("n_test", 0) == n_labels:
            return job
    return None


def numeric(label: LabelRecord, name: str) -> bool:
    """Whether a label holds a number for metric ``name`` (fast labels hold None for toughness)."""
    value = label.metrics.get(name)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# Defaults that work on this store: the fidelity most of its fracture labels have, the first target
# those labels hold numbers for (fast labels have no strength or toughness), and the loading and
# 2D model (at the default mesh) most of them were computed with.
by_fidelity = {f: sum(label.fidelity == f for label in fracture) for f in FIDELITIES}
default_fidelity = max(FIDELITIES, key=lambda f: by_fidelity[f]) if fracture else FIDELITIES[0]
held = [label for label in fracture if label.fidelity == default_fidelity]
default_target = next((name for name in TARGETS if any(numeric(label, name) for label in held)),
                      next(name for name in TARGETS if FractureEvaluator(default_fidelity).provides(name)))
by_setup = {(m, p): len(store.labels(fracture_key(default_fidelity, {"mode": m, "plane": p}), status="ok"))
            for m in ("I", "II") for p in ("stress", "strain")} if fracture else {("I", "stress"): 0}
default_mode, default_plane = max(by_setup, key=by_setup.get)
# the held-out share that leaves the engine's minimum of 5 held-out designs (0.2 from 25 labels on; 0.35, the
# share that needs the fewest labels, 15, below that)
n_default = by_setup[(default_mode, default_plane)]
default_share = min(0.35, max(0.2, math.ceil(round(5 / n_default / 0.05, 9)) * 0.05)) if n_default else 0.2

with st.form("train", enter_to_submit=False):
    numbers = CheckedNumbers()
    cols = st.columns(3)
    fidelity = cols[0].selectbox("Labels of fidelity", FIDELITIES, index=FIDELITIES.index(default_fidelity))
    target = cols[1].selectbox("Target", TARGETS, index=list(TARGETS).index(default_target),
                               format_func=lambda name: TARGETS[name].display,
                               help="toughness: work of fracture per unit volume (area under the σ–ε curve); "
                                    "fast labels have stiffness, G/σ² and |K|/σ, strength labels add strength, "
                                    "full labels toughness")
    model = cols[2].selectbox("Model", ["cnn", "linear"])
    cols = st.columns(4)
    task = cols[0].selectbox("Task", TASKS)
    epochs = numbers.number("Most epochs", 200, 1, 5000, where=cols[1])
    test_fraction = numbers.number("Held-out share", round(default_share, 2), 0.05, 0.9, where=cols[2], step=0.05,
                                   help="share of the designs held out to score the model")
    seed = numbers.number("Seed", 0, 0, 2**31 - 1, where=cols[3], help="of the training/held-out split and the model")
    st.markdown("**Solver set-up of the labels** (as they were labelled on **Label design**, **Label batch** or "
                "with `matloop label`)")
    cols = st.columns(2)
    mode = cols[0].radio("Loading", ["I", "II"], index=["I", "II"].index(default_mode), horizontal=True)
    plane = cols[1].radio("2D model", ["stress", "strain"], index=["stress", "strain"].index(default_plane),
                          horizontal=True)
    setup = setup_inputs(numbers, in_form=True, wide=True)
    submitted = st.form_submit_button("Train", type="primary")
    if submitted:
        numbers.summary("Training")
    if submitted and numbers.ok:
        options = {"mode": mode, "plane": plane, **setup}
        try:
            evaluator = FractureEvaluator.from_options(fidelity, options)
        except ValueError as exc:
            problem = f"Invalid solver set-up: {exc}"
        else:
            problem = None
            usable = sum(numeric(label, target) for label in store.labels(evaluator.key(), status="ok"))
            if usable:
                try:
                    check_split(usable, float(test_fraction))
                except ValueError as exc:
                    problem = (f"Cannot train on these labels: {exc} (on **Label a batch**, or with `matloop label "
                               f"--random N --fidelity {fidelity}`), or lower the held-out share. Nothing was trained.")
            if not usable:
                computed = ", ".join(TARGETS[n].label for n in TARGETS if evaluator.provides(n))
                why = ("" if evaluator.provides(target) else
                       f": {fidelity} labels have no {target} (the {fidelity} fidelity computes {computed})")
                counts = ", ".join(f"{n} {f}" for f, n in by_fidelity.items() if n) or "none"
                problem = (f"The store has no ok {fidelity} labels with a {TARGETS[target].label} under this solver "
                           f"set-up{why}. Its fracture labels by fidelity: {counts}; the set-up must be the one they "
                           "were computed with. Nothing was trained.")
        params = {"fidelity": fidelity, "target": target, "model": model, "task": task, "max_epochs": int(epochs),
                  "test_fraction": float(test_fraction), "random_state": int(seed), "options": options}
        same = None if problem else same_training(params, usable)
        if problem:
            show_error(problem)
        elif same is not None:  # e.g. Train pressed again after the result
            st.info(f"This model, with these settings and seed on the same {usable} labels, "
                    + ("is being trained" if not same.finished else "was trained already")
                    + f" (job `{same.id}`): shown below. Change the seed or a setting to train another.")
            attach_job(same.id)
        else:
            attach_job(manager.submit("train-grid", params))


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
    losses = history[["train_loss", "val_loss"]].to_numpy(float).ravel()
    curves.update_layout(xaxis_title="epoch", height=340, title="learning curves",
                         yaxis={"type": "log", "title": "loss (log scale)", **log_ticks(losses)})
    parity = go.Figure(go.Scatter(x=result["y_test"], y=result["score_test"], mode="markers"))
    if metrics["task"] == "regression":
        low, high = min(result["y_test"]), max(result["y_test"])
        parity.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", name="y = x"))
    target_label = TARGETS[metrics["target"]].display if metrics["target"] in TARGETS else metrics["target"]
    parity.update_layout(xaxis_title=f"solver {target_label}", height=340, showlegend=False,
                         yaxis_title=f"predicted {target_label}" if metrics["task"] == "regression" else "P(good)",
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
    st.dataframe(pd.DataFrame([{**model_summary(m), "spearman": m["metrics"].get("spearman_test"), "path": m["path"]}
                               for m in models]).drop(columns=["spearman (held out)", "grid", "created_at"]),
                 hide_index=True)
    st.page_link("views/rank.py", label="Use a model: rank random designs and label the best",
                 icon=":material/leaderboard:")
else:
    st.caption("None yet.")
