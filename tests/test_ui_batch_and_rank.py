"""Label a batch and Rank designs (AppTest): the forms start the job of the right kind with the right
parameters, numbers out of range start nothing, a finished batch shows its counts, the library's
selection and the ranking's top k reach the batch job as designs.

The job pool's ``submit`` only records jobs here; a job the test needs finished is run in-process
with fast 4×4 labels.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from designs.checkerboard import Checkerboard
from engine.evaluators.fracture import fracture_key
from engine.evaluators import fracture_batch
from engine.evaluators.fracture_batch import label_batch_job, random_plates
from engine.runtime.jobs import JobContext
from engine.store import SolverKey, Store
from engine.surrogates.grid import GridLinearRegressor
from engine.surrogates.ranking import rank_random_plates
from engine.surrogates.training import soft_fraction_range
from fem.materials import DEFAULT_PHASE_SETTINGS
from support_pages import record_submitted_jobs
from ui.fracture_setup import describe_setup

APP = str(Path(__file__).parents[1] / "ui" / "app.py")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, store_dir: Path) -> Path:
    monkeypatch.setenv("MATLOOP_STORE", str(store_dir))
    monkeypatch.setenv("MATLOOP_EXECUTOR", "local")
    record_submitted_jobs(monkeypatch)
    return store_dir


def open_page(page: str, job: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(f"views/{page}.py")
    if job:
        at.query_params["job"] = job
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def widget(widgets, label: str):  # noqa: ANN001, ANN201
    return next(w for w in widgets if w.label == label)


def test_the_random_form_submits_a_batch_job_with_the_values_typed(env: Path) -> None:
    at = open_page("label_batch")
    widget(at.number_input, "Designs").set_value(3)
    widget(at.number_input, "Blocks per side").set_value(4)
    widget(at.number_input, "Soft fraction").set_value(0.25)
    widget(at.number_input, "Seed").set_value(9)
    widget(at.radio, "Loading").set_value("II")
    widget(at.radio, "2D model").set_value("strain")
    widget(at.number_input, "Phase-field length ℓ (mm)").set_value(1 / 64)  # the solver set-up of Label design
    widget(at.selectbox, "Energy split").set_value("voldev")
    widget(at.number_input, "soft: E (MPa)").set_value(50.0)
    at.run()
    assert any(c.value.startswith("Estimate per design: a ") for c in at.caption)
    widget(at.button, "Label designs").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    job = Store(env).jobs(limit=1)[0]
    assert job.kind == "label-batch"
    soft = {**DEFAULT_PHASE_SETTINGS["soft"], "E": 50.0}
    assert describe_setup(job.params["options"]) == "ℓ = 0.015625 mm, voldev split, soft E = 50 MPa"
    assert job.params == {"fidelity": "fast", "options": {"mode": "II", "plane": "strain", "ell": 1 / 64, "split": "voldev",
                                                          "materials": {**DEFAULT_PHASE_SETTINGS, "soft": soft}},
                          "executor": "local",
                          "random": {"space": "checkerboard", "count": 3, "size": 4, "seed": 9, "soft_fraction": 0.25,
                                     "symmetric": False}}
    assert at.query_params["job"] in (job.id, [job.id])


@pytest.mark.parametrize(("label", "value"), [("Designs", 0), ("Designs", 10_001), ("Blocks per side", 1),
                                              ("Blocks per side", 33), ("Soft fraction", 1.5), ("Seed", -1)])
def test_a_number_out_of_range_starts_nothing(env: Path, label: str, value: float) -> None:
    at = open_page("label_batch")
    widget(at.number_input, label).set_value(value).run()
    assert any(e.value.startswith(f"{label} must be ") for e in at.error), [e.value for e in at.error]
    assert widget(at.button, "Label designs").proto.disabled
    assert Store(env).jobs() == []


def test_a_mesh_that_does_not_resolve_ell_starts_no_batch(env: Path) -> None:
    """The set-up's guard rail of Label design (elements at most ℓ/2) holds for a batch too: an element
    size, or a count per block side on the grid of the random plates or of the designs handed over."""
    at = open_page("label_batch")
    widget(at.number_input, "Element size (mm)").set_value(0.05).run()
    widget(at.button, "Label designs").click().run()
    assert [e.value for e in at.error] == ["Nothing was started: element_size 0.05 mm does not resolve the phase-field "
                                           "length ell = 0.03125 mm: at most ell/2 = 0.015625 mm is allowed"]
    widget(at.radio, "Mesh").set_value("elements per block").run()
    widget(at.number_input, "Elements per block side").set_value(2).run()  # 1/16 mm on 8 × 8 blocks
    widget(at.button, "Label designs").click().run()
    assert len(at.error) == 1 and at.error[0].value.startswith("Nothing was started: the mesh does not resolve")
    at.session_state["batch-designs"] = {"what": "the test", "records": [  # handed over (as by the library)
        {"space": "checkerboard", "genome": Checkerboard.random(4, seed=1).genome()}]}
    at.run()
    widget(at.number_input, "Elements per block side").set_value(8).run()  # fine on 8 × 8, 1/32 mm on 4 × 4
    widget(at.button, "Label designs").click().run()
    assert len(at.error) == 1 and at.error[0].value.startswith("Nothing was started: the mesh does not resolve")
    assert Store(env).jobs() == []


def test_a_finished_batch_shows_its_counts_rows_and_the_library_link(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # in-process threads: a process pool started after AppTest ran would re-import the app as __main__
    monkeypatch.setattr(fracture_batch, "make_executor", lambda spec: ThreadPoolExecutor(1))
    store = Store(env)
    plates = random_plates("checkerboard", 2, 4, seed=4)
    params = {"fidelity": "fast", "options": {"mode": "I", "plane": "stress"}, "executor": "local:1",
              "designs": [{"space": p.space, "genome": p.genome()} for p in plates]}
    job = store.create_job("label-batch", params)
    store.start_job(job)
    store.finish_job(job, "done", result=label_batch_job(JobContext(store, job), **params))
    at = open_page("label_batch", job)
    assert [m.value for m in at.metric] == ["2", "2", "0", "0"]
    table = at.dataframe[0].value
    assert table["design"].tolist() == [p.content_hash()[:12] for p in plates]
    assert (table["status"] == "ok").all() and "stiffness (MPa)" in table and "G/σ² (mm/MPa)" in table
    assert any(c.value.startswith("Labelled: 2 designs given to the job, fidelity fast, mode I") for c in at.caption)
    assert "strength (MPa)" not in table  # the fast fidelity computes none
    assert any(link.label == "Open them in the Design library" for link in at.get("page_link"))


def test_the_library_selection_is_handed_to_the_batch_page(env: Path) -> None:
    store = Store(env)
    plates = [Checkerboard.random(4, seed=s) for s in range(3)]
    store.add_designs(plates)
    at = open_page("library")
    at.session_state[at.dataframe[0].key] = {"selection": {"rows": [0, 2], "columns": [], "cells": []}}
    at.run()
    widget(at.button, "Label these designs (2)").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "Label a batch"
    at.switch_page("views/label_batch.py").run()  # AppTest reruns the page it was told, not the one switched to
    assert widget(at.radio, "Which designs").value == "Handed over"
    widget(at.button, "Label designs").click().run()
    job = store.jobs(limit=1)[0]
    assert job.kind == "label-batch" and "random" not in job.params
    shown = at.session_state["batch-designs"]["records"]
    assert len(job.params["designs"]) == 2 and job.params["designs"] == shown
    assert {(r["space"], Checkerboard.from_json(r["genome"]).content_hash()) for r in job.params["designs"]} <= {
        ("checkerboard", p.content_hash()) for p in plates}


def register_tiny_model(store: Store, key: SolverKey | None = None) -> tuple[GridLinearRegressor, int]:
    """A 4×4 linear stiffness model registered as the training page registers one, trained on labels of ``key``
    (default: fast, mode I, plane stress)."""
    rng = np.random.default_rng(0)
    grids = rng.integers(0, 2, (40, 4, 4))
    model = GridLinearRegressor(max_epochs=3, random_state=0).fit(grids, 100.0 + 900.0 * grids.mean(axis=(1, 2)))
    key = key or fracture_key("fast", {"mode": "I", "plane": "stress"})
    path = model.save(store.path.parent / "tiny.pt")
    model_id = store.register_model("linear regression stiffness", "GridLinearRegressor", path, {
        "target": "stiffness", "task": "regression", "model": "linear", "fidelity": "fast", "n_train": 32,
        "n_test": 8, "spearman_test": 0.8, "r2_test": 0.5, "soft_fraction_range": soft_fraction_range(grids[:32]),
        "solver_key": {"name": key.name, "version": key.version, "fidelity": key.fidelity,
                       "config_hash": key.config_hash, "settings": dict(key.config)}})
    return model, model_id


def test_without_models_the_rank_page_points_to_training(env: Path) -> None:
    at = open_page("rank")
    assert "No registered models yet" in at.info[0].value


def test_ranking_draws_the_top_k_and_sends_them_to_labelling(env: Path) -> None:
    store = Store(env)
    model, model_id = register_tiny_model(store)
    at = open_page("rank")
    models = at.dataframe[0].value
    assert models[["id", "target", "fidelity", "grid", "labels"]].values.tolist() == [[model_id, "stiffness", "fast",
                                                                                        "4×4", 40]]
    widget(at.number_input, "Candidates").set_value(600)
    widget(at.number_input, "Top k").set_value(4)
    widget(at.number_input, "Seed").set_value(3)
    at.run()
    widget(at.button, "Rank candidates").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    expected = rank_random_plates(model, 600, 4, True, 0.5, 3)
    table = at.dataframe[1].value
    assert table["design"].tolist() == [d.content_hash()[:12] for d in expected.designs()]
    np.testing.assert_allclose(table["predicted stiffness (MPa)"], expected.scores)
    assert len(at.get("plotly_chart")) == 4
    widget(at.button, "Label the top 4").click().run()
    assert not at.exception, [e.message for e in at.exception]
    job = store.jobs(limit=1)[0]
    assert job.kind == "label-batch" and job.params["fidelity"] == "fast"
    assert fracture_key("fast", job.params["options"]) == fracture_key("fast", {"mode": "I", "plane": "stress"})
    assert [Checkerboard.from_json(r["genome"]).content_hash() for r in job.params["designs"]] == [
        d.content_hash() for d in expected.designs()]
    assert at.title[0].value == "Label a batch"
    assert at.session_state["batch-designs"]["records"] == job.params["designs"]  # the page shows them as its source


def rank_page(n: int, k: int, seed: int) -> AppTest:
    """The Rank page after ranking ``n`` candidates (top ``k``, soft fraction 0.5, ``seed``)."""
    at = open_page("rank")
    widget(at.number_input, "Candidates").set_value(n)
    widget(at.number_input, "Top k").set_value(k)
    widget(at.number_input, "Seed").set_value(seed)
    at.run()
    widget(at.button, "Rank candidates").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def run_batch(store: Store, job: str) -> None:
    """Run a recorded label-batch job in this process."""
    store.start_job(job)
    store.finish_job(job, "done", result=label_batch_job(JobContext(store, job), **store.get_job(job).params))


def test_the_ranking_shows_the_labels_its_designs_have_and_labels_only_the_rest(
        env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Going back to Rank after **Label the top k** offered the same batch again, and the labels the solver gave
    were nowhere beside the predictions: the table shows each design's label under the model's set-up, the
    button labels only the designs without one and without a job of that set-up in flight, failed labels are
    said, and a fully labelled top k is offered nothing."""
    monkeypatch.setattr(fracture_batch, "make_executor", lambda spec: ThreadPoolExecutor(1))
    store = Store(env)
    model, _ = register_tiny_model(store)
    top = rank_random_plates(model, 600, 4, True, 0.5, 3).designs()
    options = {"mode": "I", "plane": "stress"}
    records = [{"space": d.space, "genome": d.genome()} for d in top]
    run_batch(store, store.create_job("label-batch", {"fidelity": "fast", "options": options, "executor": "local:1",
                                                      "designs": records[1:3]}))
    key = fracture_key("fast", options)
    stiffness = [store.get_label(d.content_hash(), key).metrics["stiffness"] for d in top[1:3]]
    assert stiffness[0] != stiffness[1]  # a row mix-up would show
    store.put_label(store.add(top[3]), key, {}, status="failed", reason="probe")
    # a job under another set-up (mode II) does not label these designs as the model's labels were
    store.create_job("label-batch", {"fidelity": "fast", "options": {"mode": "II", "plane": "stress"},
                                     "executor": "local:1", "designs": records[:1]})
    at = rank_page(600, 4, 3)
    table = at.dataframe[1].value
    np.testing.assert_allclose(table["labelled stiffness (MPa)"], [np.nan, *stiffness, np.nan], equal_nan=True)
    best = 2 + int(np.argmax(stiffness))
    error = np.abs(table["predicted stiffness (MPa)"][1:3] - stiffness).mean()
    assert any(c.value == f"By the solver, the best of the 2 labelled is #{best} ({max(stiffness):.4g} MPa); the "
               f"predictions are off by {error:.3g} MPa on average ({error / np.mean(stiffness):.0%} of the labels' "
               "mean)." for c in at.caption), [c.value for c in at.caption]
    assert [i.value for i in at.info] == ["The solver failed on 1 of the top 4 under this set-up (the reasons are in "
                                          "the Design library); they are not labelled again."]
    widget(at.button, "Label the 1 unlabelled of the top 4").click().run()
    assert not at.exception, [e.message for e in at.exception]
    job = store.jobs(limit=1)[0]
    assert job.params["designs"] == records[:1] and fracture_key("fast", job.params["options"]) == key
    assert at.session_state["batch-designs"]["what"] == "the 1 unlabelled of the top 4 of Rank designs (model #1)"
    at = rank_page(600, 4, 3)  # back on Rank while the job is queued
    assert at.info[1].value == f"Job `{job.id}` is labelling 1 of these designs (queued, 0%)."
    assert not any(b.label.startswith("Label the") for b in at.button)
    assert [link.label for link in at.get("page_link")] == [f"Open job {job.id[:8]} on Label a batch"]
    run_batch(store, job.id)
    at = rank_page(600, 4, 3)
    assert np.isfinite(at.dataframe[1].value["labelled stiffness (MPa)"][:3]).all()
    assert not at.success and not any(b.label.startswith("Label the") for b in at.button)
    at = rank_page(600, 3, 3)  # the top 3 are all labelled
    assert [s.value for s in at.success] == ["All 3 are labelled under the set-up of the labels the model was "
                                             "trained on: the table shows the solver's stiffness beside the prediction."]
    assert not any(b.label.startswith("Label the") for b in at.button)


def test_labels_of_a_set_up_the_page_cannot_rebuild_are_still_shown(env: Path) -> None:
    """A model trained on labels of other materials cannot have its designs labelled here, but the labels its
    set-up already gave them are read by the model's stored key and shown."""
    store = Store(env)
    key = fracture_key("fast", {"mode": "I", "plane": "stress"})
    other = SolverKey(key.name, key.version, key.fidelity, {**key.config, "materials": "other"})
    model, _ = register_tiny_model(store, other)
    top = rank_random_plates(model, 600, 4, True, 0.5, 3).designs()
    store.put_label(store.add(top[0]), other, {"stiffness": 123.0})
    store.put_label(top[0].content_hash(), key, {"stiffness": 456.0})  # the default materials' label is not it
    at = rank_page(600, 4, 3)
    assert any(w.value.startswith("The solver set-up of this model's labels cannot be rebuilt") for w in at.warning)
    np.testing.assert_allclose(at.dataframe[1].value["labelled stiffness (MPa)"], [123.0, np.nan, np.nan, np.nan],
                               equal_nan=True)
    assert not any(b.label.startswith("Label the") for b in at.button)


def test_ranking_outside_the_soft_fractions_a_model_was_trained_on_is_warned(env: Path) -> None:
    """An all-stiff candidate ranked by a model trained on mixed plates was predicted at a third of its label,
    with no word: the models table shows the soft fractions each model was trained on (block type 0 of the
    training grids, counted here by hand), and ranking outside them is warned."""
    store = Store(env)
    register_tiny_model(store)
    shares = (np.random.default_rng(0).integers(0, 2, (40, 4, 4))[:32] == 0).mean(axis=(1, 2))
    at = open_page("rank")
    assert at.dataframe[0].value["soft fraction (trained)"].tolist() == [f"{shares.min():.2f}–{shares.max():.2f}"]
    assert not at.warning  # 0.5 lies inside
    for soft in (0.0, 1.0):
        widget(at.number_input, "Soft fraction").set_value(soft).run()
        assert [w.value for w in at.warning] == [
            f"Model #1 was trained on plates with soft fractions {shares.min():.2f} to {shares.max():.2f}; candidates "
            f"at {soft:.2f} lie outside them, where its predictions are extrapolations and may be far off. Label the "
            "top designs to check, or train on labels that cover this soft fraction."]


def test_out_of_range_ranking_inputs_rank_nothing(env: Path) -> None:
    register_tiny_model(Store(env))
    at = open_page("rank")
    widget(at.number_input, "Candidates").set_value(100_001).run()
    assert any(e.value.startswith("Candidates must be 1 to 100000") for e in at.error), [e.value for e in at.error]
    assert widget(at.button, "Rank candidates").proto.disabled
    assert "ranking" not in at.session_state


def test_a_full_batch_says_how_each_plate_failed_and_an_older_result_still_opens(env: Path) -> None:
    """Full labels (put in the store as a solver wrote them, so the job solves nothing) show whether the
    crack ran from the tip to an edge and whether it ran along a grip; a result recorded before those
    columns existed opens without them."""
    store = Store(env)
    plates = random_plates("checkerboard", 2, 4, seed=5)
    options = {"mode": "II", "plane": "stress"}
    key = fracture_key("full", options)
    for plate, (to_edge, along) in zip(plates, ((True, False), (False, True))):
        store.put_label(store.add(plate), key, {"stiffness": 50.0, "strength": 12.0, "toughness": 4.0, "broke": True,
                                                "crack_tip_to_edge": to_edge, "grip_band": 0.2 if along else 0.0,
                                                "along_grip": along}, status="ok")
    params = {"fidelity": "full", "options": options, "executor": "local:1",
              "designs": [{"space": p.space, "genome": p.genome()} for p in plates]}
    job = store.create_job("label-batch", params)
    store.start_job(job)
    result = label_batch_job(JobContext(store, job), **params)
    store.finish_job(job, "done", result=result)
    at = open_page("label_batch", job)
    table = at.dataframe[0].value
    assert table["crack tip to edge"].tolist() == [True, False] and table["along a grip"].tolist() == [False, True]
    assert "Labelled: 2 designs given to the job, fidelity full, mode II, plane stress, default set-up." in [
        c.value for c in at.caption]
    older = store.create_job("label-batch", params)
    store.start_job(older)
    store.finish_job(older, "done", result={**result, "rows": [
        {k: v for k, v in row.items() if k not in ("crack_tip_to_edge", "along_grip")} for row in result["rows"]]})
    table = open_page("label_batch", older).dataframe[0].value
    assert "broke" in table and "along a grip" not in table
