"""Rank designs: a registered surrogate ranks random candidate plates; the best go to labelling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from engine.evaluators.fracture import FRACTURE_METRICS, FractureEvaluator
from engine.store import JobRecord, StoredKey, same_labels
from engine.surrogates.ranking import (
    grid_shape,
    load_registered_model,
    model_options,
    model_summary,
    rank_random_plates,
    target_direction,
)
from ui.common import CheckedNumbers, job_manager, open_store, settings, show_error
from ui.design_figures import plate_figure
from ui.job_panel import attached_job_id, no_jobs_here

#: Most candidates one ranking draws on this page (about 10 s for 8×8 CNN on 2 cores).
MAX_CANDIDATES = 100_000
MAX_TOP = 24
PER_ROW = 4
#: How far outside the soft fractions a model was trained on the page still counts as within them (one block of 20).
EXTRAPOLATION_MARGIN = 0.05
UNITS = {metric.name: metric.unit for metric in FRACTURE_METRICS}
SYMBOLS = {metric.name: metric.symbol or metric.name for metric in FRACTURE_METRICS}

st.title("Rank designs")
st.markdown(
    "Use a trained surrogate: draw N random checkerboards of the grid size it was trained on (seeded, each with "
    "exactly the soft fraction asked), score every one with the model's batched CPU inference, and keep the best k "
    "distinct designs — the largest predicted value where larger is better (strength, toughness, stiffness), the "
    "smallest where smaller is better (G/σ², |K|/σ). A regression model predicts the metric in its unit; a "
    "good/bad classifier gives the probability that a design is in the top half; an ensemble adds the spread "
    "(standard deviation) across its members. Predictions are not labels: **Label the top k** sends them to the "
    "solver, under the set-up of the labels the model was trained on, so they can be compared and retrained on "
    "(the screening loop of Gu et al. 2018).")
store = open_store()
manager = job_manager(store)
job_id = attached_job_id()
if job_id:
    no_jobs_here(store, job_id)


@st.cache_resource(max_entries=8, show_spinner=False)
def cached_model(store_path: str, model_id: int, weights_hash: str):  # noqa: ANN201 - a surrogate
    """A registered model, loaded once per file version."""
    from engine.store import Store

    return load_registered_model(Store(store_path, create=False), model_id)[0]


records = store.models()
if not records:
    st.info("No registered models yet: train one on **Train a surrogate** (or `matloop train`).")
    st.page_link("views/train.py", label="Train a surrogate", icon=":material/model_training:")
    st.stop()

rows, models, problems = [], {}, {}
for record in records:
    try:
        model = cached_model(str(store.path), int(record["id"]), record["weights_hash"])
        grid_shape(model)
    except ValueError as exc:
        problems[int(record["id"])] = str(exc)
        model = None
    else:
        models[int(record["id"])] = model
    rows.append(model_summary(record, model))
table = pd.DataFrame(rows)
table["created_at"] = pd.to_datetime(table["created_at"], unit="s", utc=True)
st.subheader("Registered models")
st.dataframe(table, hide_index=True, column_config={
    "created_at": st.column_config.DatetimeColumn("trained (UTC)", format="YYYY-MM-DD HH:mm"),
    "labels": st.column_config.NumberColumn("labels", help="designs trained on + held out"),
    "grid": st.column_config.TextColumn("grid", help="blocks per side of the plates it was trained on"),
    "spearman (held out)": st.column_config.NumberColumn(format="%.3f", help="rank correlation on held-out designs"),
    "R² (held out)": st.column_config.NumberColumn(format="%.3f"),
    "accuracy (held out)": st.column_config.NumberColumn(format="%.3f")})
for model_id, problem in problems.items():
    st.warning(f"Model {model_id} cannot rank plates: {problem}")
if not models:
    st.stop()


def describe(model_id: int) -> str:
    row = next(r for r in rows if r["id"] == model_id)
    return f"#{model_id} {row['name']} · {row['fidelity']} · {row['grid']} · mode {row['mode']}"


st.subheader("Rank random candidates")
model_id = st.selectbox("Model", list(models), format_func=describe)
model, record = models[model_id], next(r for r in records if int(r["id"]) == model_id)
metrics = record["metrics"]
target, task = metrics.get("target"), metrics.get("task")
numbers = CheckedNumbers()
cols = st.columns(4)
n = numbers.number("Candidates", 10_000, 1, MAX_CANDIDATES, where=cols[0], step=1000,
                   help="random designs scored by the model")
k = numbers.number("Top k", 8, 1, MAX_TOP, where=cols[1], help="best distinct designs kept, drawn and offered for labelling")
soft = numbers.number("Soft fraction", 0.5, 0.0, 1.0, where=cols[2], step=0.05,
                      help="exact share of soft blocks of each candidate")
seed = numbers.number("Seed", 0, 0, 2**31 - 1, where=cols[3], help="of the candidates")
trained = record["metrics"].get("soft_fraction_range")  # None for models from before it was recorded
if soft is not None and trained and not trained[0] - EXTRAPOLATION_MARGIN <= soft <= trained[1] + EXTRAPOLATION_MARGIN:
    st.warning(f"Model #{model_id} was trained on plates with soft fractions {trained[0]:.2f} to {trained[1]:.2f}; "
               f"candidates at {soft:.2f} lie outside them, where its predictions are extrapolations and may be far "
               "off. Label the top designs to check, or train on labels that cover this soft fraction.",
               icon=":material/warning:")
try:
    larger = target_direction(target)
except ValueError as exc:
    show_error(f"This model cannot rank: {exc}")
    st.stop()
rows_, columns_ = grid_shape(model)
symbol = SYMBOLS.get(target, target)
if task == "regression":
    score_name, unit = f"predicted {symbol}", UNITS.get(target, "")
else:
    score_name, unit = f"P(good: top half of {symbol})", ""
st.caption(f"{rows_}×{columns_} checkerboards, ranked by {score_name} — "
           f"{'largest' if larger else 'smallest'} first ({'larger' if larger else 'smaller'} {symbol} is better).")
numbers.summary("Ranking")
request = (model_id, record["weights_hash"], n, k, soft, seed)
if st.button("Rank candidates", type="primary", disabled=not numbers.ok) and numbers.ok:
    if k > n:
        show_error(f"Top k ({k}) cannot exceed the number of candidates ({n}).")
    else:
        with st.spinner(f"Scoring {n:,} candidates"):
            try:
                ranking = rank_random_plates(model, int(n), int(k), larger, float(soft), int(seed))
            except ValueError as exc:
                show_error(f"Nothing ranked: {exc}")
            else:
                st.session_state["ranking"] = (request, ranking)
stored = st.session_state.get("ranking")
if not stored or stored[0] != request:
    st.stop()
ranking = stored[1]
designs = ranking.designs()
text_unit = f" {unit}" if unit and unit != "1" else ""
st.subheader(f"Top {len(designs)} of {ranking.n_candidates:,} candidates")
for start in range(0, len(designs), PER_ROW):
    for column, i in zip(st.columns(PER_ROW), range(start, min(start + PER_ROW, len(designs)))):
        spread = "" if ranking.spread is None else f" ± {ranking.spread[i]:.3g}"
        title = f"#{i + 1} · {designs[i].content_hash()[:10]}<br>{ranking.scores[i]:.4g}{spread}{text_unit}"
        figure = plate_figure(designs[i], title=title, height=260, width=None)
        figure.update_layout(title_font_size=12, margin={"t": 55})
        column.plotly_chart(figure, key=f"ranked-{i}")
value_column = f"{score_name} ({unit})" if unit and unit != "1" else score_name
hashes = [d.content_hash() for d in designs]
listing = pd.DataFrame({"rank": range(1, len(designs) + 1), "design": [h[:12] for h in hashes],
                        "candidate": ranking.indices, value_column: ranking.scores,
                        "soft fraction": [d.fraction("soft") for d in designs]})
if ranking.spread is not None:
    listing.insert(4, "spread (ensemble std)", ranking.spread)
fidelity, options = model_options(record)
key = (metrics.get("solver_key") or {})
try:
    evaluator = FractureEvaluator.from_options(fidelity, options)
    same = evaluator.key().config_hash == key.get("config_hash")
except (ValueError, TypeError):
    same = False
# labels the solver already gave these designs under the model's set-up (its stored key where this page cannot
# rebuild the set-up), shown beside the predictions
lookup = evaluator.key() if same else (StoredKey(key["name"], key["version"], key["fidelity"], key["config_hash"])
                                       if {"name", "version", "fidelity", "config_hash"} <= set(key) else None)
labels = {h: label for h in hashes if lookup is not None and (label := store.get_label(h, lookup)) is not None}
failed = [h for h in hashes if h in labels and labels[h].status != "ok"]
target_unit = UNITS.get(target, "")
labelled_column = f"labelled {symbol} ({target_unit})" if target_unit not in ("", "1") else f"labelled {symbol}"
label_unit = f" {target_unit}" if target_unit not in ("", "1") else ""
if labels:
    listing.insert(listing.columns.get_loc(value_column) + 1, labelled_column, [
        labels[h].metrics.get(target) if h in labels and labels[h].status == "ok" else np.nan for h in hashes])
st.dataframe(listing, hide_index=True, column_config={  # significant figures: G/σ² is of order 1e-3 mm/MPa
    "candidate": st.column_config.NumberColumn(help="position in the seeded candidate stream"),
    value_column: st.column_config.NumberColumn(format="%.4g"),
    labelled_column: st.column_config.NumberColumn(format="%.4g", help="the solver's value, under the set-up of "
                                                   "the labels the model was trained on (None: not labelled yet, or "
                                                   "the label failed: see the Library)"),
    "spread (ensemble std)": st.column_config.NumberColumn(format="%.3g"),
    "soft fraction": st.column_config.NumberColumn(format="%.3f")})
checked = listing.dropna(subset=[labelled_column]) if labels else listing.iloc[:0]
if len(checked):  # how the prediction fared where the solver has spoken
    best = checked.loc[checked[labelled_column].idxmax() if larger else checked[labelled_column].idxmin()]
    many = len(checked) > 1
    summary = (f"By the solver, the best of the {len(checked)} labelled is #{best['rank']} "
               f"({best[labelled_column]:.4g}{label_unit})" if many else
               f"By the solver, #{best['rank']} has {best[labelled_column]:.4g}{label_unit}")
    if task == "regression":
        error = (checked[value_column] - checked[labelled_column]).abs().mean()
        share = error / checked[labelled_column].abs().mean()
        summary += (f"; the predictions are off by {error:.3g}{label_unit} on average ({share:.0%} of the labels' "
                    "mean)" if many else f"; the prediction is off by {error:.3g}{label_unit} ({share:.0%})")
    st.caption(summary + ".")


def labels_as_the_model(job: JobRecord) -> bool:
    """Whether a label-batch job labels under the set-up of the model's labels."""
    try:
        return same_labels(FractureEvaluator.from_options(job.params.get("fidelity"), job.params.get("options")).key(),
                           lookup)
    except (ValueError, TypeError):
        return False


top = [{"space": d.space, "genome": d.genome()} for d in designs]
active = [job for job in store.jobs(limit=50) if job.kind == "label-batch" and not job.finished
          and labels_as_the_model(job)] if same else []
pending = {h: job for entry, h in zip(top, hashes) if h not in labels for job in active
           if entry in job.params.get("designs", [])}
unlabelled = [entry for entry, h in zip(top, hashes) if h not in labels and h not in pending]
if not same:
    st.warning("The solver set-up of this model's labels cannot be rebuilt on this page (other materials?); "
               "export the designs and label them with `matloop label`.")
if failed:
    st.info(f"The solver failed on {len(failed)} of the top {len(designs)} under this set-up (the reasons are in "
            "the Design library); they are not labelled again.")
for job in {job.id: job for job in pending.values()}.values():
    count = sum(held.id == job.id for held in pending.values())
    st.info(f"Job `{job.id}` is labelling {count} of these designs ({job.status}, {job.progress:.0%}).")
    st.page_link("views/label_batch.py", label=f"Open job {job.id[:8]} on Label a batch", icon=":material/dataset:",
                 query_params={"job": job.id})
if same and len(labels) == len(designs) and not failed:
    st.success(f"{f'All {len(designs)} are' if len(designs) > 1 else 'It is'} labelled under the set-up of the "
               f"labels the model was trained on: the table shows the solver's {symbol} beside the prediction.",
               icon=":material/check:")
elif same and unlabelled and st.button(
        f"Label the top {len(designs)}" if len(unlabelled) == len(designs) else
        f"Label the {len(unlabelled)} unlabelled of the top {len(designs)}",
        help=f"a batch job at fidelity {fidelity}, mode {options.get('mode')}, plane {options.get('plane')}: the "
             "set-up of the labels the model was trained on"):
    params = {"fidelity": fidelity, "options": options, "executor": settings().executor, "designs": unlabelled}
    # the batch page shows these designs as its source, beside the job
    what = f"the top {len(top)}" if len(unlabelled) == len(top) else f"the {len(unlabelled)} unlabelled of the top {len(top)}"
    st.session_state["batch-designs"] = {"what": f"{what} of Rank designs (model #{model_id})", "records": unlabelled}
    job = manager.submit("label-batch", params)
    st.switch_page("views/label_batch.py", query_params={"job": job})
st.caption("The same model, number of candidates, seed and soft fraction give the same ranking.")
