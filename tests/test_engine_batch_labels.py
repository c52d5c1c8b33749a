"""The batch-labelling job (kind "label-batch"): counts, skipping what is stored, progress, cancellation.

Fast 4×4 labels (one linear solve each) through a one-worker process pool, as the app runs them.
The expected counts come from the batch's own arithmetic (designs, duplicates, stored labels),
the labels from the solver called directly, and the cancel inside a run from the solver's own
load-step reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from designs.checkerboard import Checkerboard
from engine.evaluators.fracture import FractureEvaluator, fracture_key
from engine.evaluators.fracture_batch import label_batch_job, random_plates
from engine.evaluators.labelling import CancellableCall
from engine.runtime.jobkinds import job_function
from engine.runtime.jobs import JobContext, run_job
from engine.store import Store

OPTIONS = {"mode": "I", "plane": "stress"}
KEY = fracture_key("fast", OPTIONS)


class RecordingContext(JobContext):
    """A job context that keeps every progress message (and writes each one)."""

    def __init__(self, store: Store, job_id: str) -> None:
        super().__init__(store, job_id, min_interval=0.0)
        self.messages: list[str] = []

    def progress(self, fraction: float, message: str = "") -> None:
        self.messages.append(message)
        super().progress(fraction, message)


def records(designs: list) -> list[dict]:
    return [{"space": d.space, "genome": d.genome()} for d in designs]


def test_the_job_kind_is_registered() -> None:
    assert job_function("label-batch") is label_batch_job


def test_random_designs_are_those_of_matloop_label(tmp_path: Path) -> None:
    """The job and the CLI draw the same seeded designs: exact soft counts, reproducible."""
    plates = random_plates("checkerboard", 5, 4, soft_fraction=0.25, seed=3)
    assert [p.content_hash() for p in plates] == [p.content_hash() for p in random_plates("checkerboard", 5, 4, 0.25, 3)]
    assert all(int((p.as_array() == 0).sum()) == 4 for p in plates)  # 25 % of 16 blocks soft
    rng = np.random.default_rng(3)
    assert [p.content_hash() for p in plates] == [Checkerboard.random(4, soft_fraction=0.25, seed=rng).content_hash()
                                                  for _ in range(5)]
    with pytest.raises(ValueError, match="1..1000000"):
        random_plates("checkerboard", 0, 4)
    with pytest.raises(ValueError, match="unknown design space"):
        random_plates("spinodoid", 1, 4)


def test_a_batch_labels_what_is_missing_skips_what_is_stored_and_reports_each_design(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first, second, third = random_plates("checkerboard", 3, 4, seed=11)
    job = store.create_job("label-batch", {})
    context = RecordingContext(store, job)
    result = label_batch_job(context, "fast", OPTIONS, designs=records([first, second]), executor="local:1")
    assert (result["unique"], result["already_labelled"], result["labelled_ok"], result["labelled_failed"]) == (2, 0, 2, 0)
    assert context.messages[0] == "0/2 designs labelled, 0 already stored, 0 failed"
    assert context.messages[-1] == "2/2 designs labelled, 0 already stored, 0 failed"

    # the stored labels are the solver's: the same numbers as one call of the evaluator
    direct = FractureEvaluator.from_options("fast", OPTIONS)(first)
    stored = store.get_label(first.content_hash(), KEY)
    assert stored.metrics["stiffness"] == pytest.approx(direct.metrics["stiffness"], rel=1e-9)

    # again with one new design and a duplicate: only the new one is solved
    job = store.create_job("label-batch", {})
    context = RecordingContext(store, job)
    result = label_batch_job(context, "fast", OPTIONS, designs=records([first, second, third, first]),
                             executor="local:1")
    assert (result["requested"], result["unique"], result["already_labelled"], result["labelled_ok"]) == (4, 3, 2, 1)
    assert context.messages[-1] == "1/1 designs labelled, 2 already stored, 0 failed"
    rows = {row["design_hash"]: row for row in result["rows"]}
    assert list(rows) == [first.content_hash(), second.content_hash(), third.content_hash()]
    assert [rows[d.content_hash()]["stored"] for d in (first, second, third)] == ["before", "before", "now"]
    assert all(row["status"] == "ok" and row["stiffness"] > 0 for row in rows.values())
    assert len(store.labels(KEY)) == 3


def test_random_batches_through_run_job_and_bad_input_fails_the_job(tmp_path: Path) -> None:
    store = Store(tmp_path)
    params = {"fidelity": "fast", "options": OPTIONS, "executor": "local:1",
              "random": {"space": "checkerboard", "count": 2, "size": 4, "soft_fraction": 0.5, "seed": 5}}
    job = store.create_job("label-batch", params)
    assert run_job(store, job, job_function("label-batch"), params) == "done"
    result = store.get_job(job).result
    assert result["labelled_ok"] == 2
    assert {row["design_hash"] for row in result["rows"]} == {p.content_hash() for p in random_plates(
        "checkerboard", 2, 4, 0.5, 5)}
    bad = {**params, "random": {**params["random"], "count": 0}}
    job = store.create_job("label-batch", bad)
    assert run_job(store, job, job_function("label-batch"), bad) == "failed"
    assert "1..1000000" in store.get_job(job).error
    broken = {"fidelity": "fast", "designs": [{"space": "checkerboard", "genome": {"grid": "no"}}]}
    job = store.create_job("label-batch", broken)
    assert run_job(store, job, job_function("label-batch"), broken) == "failed"
    assert "design 1 of the batch is invalid" in store.get_job(job).error


def test_a_cancel_between_designs_keeps_what_finished_and_stores_nothing_more(tmp_path: Path) -> None:
    store = Store(tmp_path)
    plates = random_plates("checkerboard", 4, 4, seed=2)
    params = {"fidelity": "fast", "options": OPTIONS, "designs": records(plates), "executor": "local:1"}

    def job(ctx: JobContext, **kwargs: object) -> dict:
        recording = RecordingContext(ctx.store, ctx.job_id)
        original = recording.progress

        def progress(fraction: float, message: str = "") -> None:
            original(fraction, message)
            if message.startswith("1/4 designs labelled"):
                ctx.store.request_cancel(ctx.job_id)  # after the first label was stored

        recording.progress = progress  # type: ignore[method-assign]
        return label_batch_job(recording, **kwargs)

    job_id = store.create_job("label-batch", params)
    assert run_job(store, job_id, job, params) == "cancelled"
    assert len(store.labels(KEY)) == 1  # the first label; the designs after the cancel were not stored
    # running the same batch again labels only the three still missing
    job_id = store.create_job("label-batch", params)
    assert run_job(store, job_id, job_function("label-batch"), params) == "done"
    result = store.get_job(job_id).result
    assert (result["already_labelled"], result["labelled_ok"]) == (1, 3)


@dataclass(frozen=True)
class ReportingEvaluator(FractureEvaluator):
    """The fracture evaluator, with the solver's progress messages kept and a cancel requested
    from inside load step 2 (at the first heartbeat after step 1 was reported)."""

    store_path: str = ""
    job_id: str = ""
    seen: list = None  # type: ignore[assignment]

    def _solve(self, design, progress):  # noqa: ANN001, ANN202 - the evaluator's hook
        def watched(fraction: float, message: str) -> None:
            repeat = bool(self.seen) and message == self.seen[-1]
            self.seen.append(message)
            if repeat and message.startswith("step 1:"):
                Store(self.store_path).request_cancel(self.job_id)
            progress(fraction, message)

        return super()._solve(design, watched)


def test_a_cancel_reaches_the_solver_inside_a_load_step(tmp_path: Path) -> None:
    """The task the batch submits stops the phase-field run inside load step 2, stores nothing."""
    store = Store(tmp_path)
    job_id = store.create_job("label-batch", {})
    seen: list[str] = []
    evaluator = ReportingEvaluator("strength", FractureEvaluator.from_options("strength", OPTIONS).setup,
                                   store_path=str(store.path), job_id=job_id, seen=seen)
    call = CancellableCall(evaluator, str(store.path), job_id, interval=0.0)
    assert call(random_plates("checkerboard", 1, 4, seed=1)[0]) is None
    assert store.cancel_requested(job_id)
    assert {m.split(":")[0] for m in seen if m.startswith("step ")} == {"step 1"}  # step 2 never finished

    # a task of a job cancelled before it started does not solve
    assert CancellableCall(FractureEvaluator.from_options("fast", OPTIONS), str(store.path), job_id)(
        random_plates("checkerboard", 1, 4, seed=1)[0]) is None
