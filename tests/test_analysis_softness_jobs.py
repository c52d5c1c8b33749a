"""The softness jobs with trajectories (issue 15): training as a job (kind ``glass-softness-train``) from
an uploaded trajectory or the Kob–Andersen examples, progress per configuration and cancellation
between them, the stored model listed and used by the prediction job on a trajectory upload."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.analysis.softness.catalog import model_title, trained_models
from engine.analysis.softness.softness_job import stage_upload
from engine.analysis.softness.synthetic import vacancy_hopping
from engine.analysis.softness.train_job import train_job
from engine.analysis.softness.trajectory import write_trajectory
from engine.runtime.jobkinds import job_function
from engine.runtime.jobs import JobCancelled, run_job
from engine.store import Store


class Recorder:
    """A job context that records progress and cancels at a chosen message."""

    def __init__(self, store: Store, job_id: str, cancel_at: str | None = None) -> None:
        self.store, self.job_id, self.cancel_at, self.messages = store, job_id, cancel_at, []

    def progress(self, fraction: float, message: str = "") -> None:
        self.messages.append((fraction, message))
        if self.cancel_at and self.cancel_at in message:
            raise JobCancelled


def _run(store: Store, kind: str, params: dict) -> dict:
    job_id = store.create_job(kind, params)
    status = run_job(store, job_id, job_function(kind), params)
    job = store.get_job(job_id)
    assert status == "done", job.error
    return job.result


def _upload(store: Store, tmp_path: Path, seed: int, name: str, **options) -> dict:
    trajectory, _ = vacancy_hopping(cells=(16, 9), frames=300, hops=120, seed=seed)
    data = write_trajectory(trajectory, tmp_path / name).read_bytes()
    source, _ = stage_upload(store.path, name, data, **options)
    return source


def test_training_job_on_a_trajectory_then_prediction_with_the_trained_model(store_dir: Path, tmp_path: Path) -> None:
    store = Store(store_dir)
    train_source = _upload(store, tmp_path, 1, "train.npz", models=(), box_length=15.0)  # the file's box wins
    assert "box_length" not in train_source
    ctx = Recorder(store, "job-1")
    result = train_job(ctx, {"files": [{**train_source, "name": "train.npz"}]}, hops={"max_frames": 12},
                       name="vacancies 2D")
    described = [m for _, m in ctx.messages if m.startswith("structure functions of configuration")]
    assert len(described) == 12 and "of 12 (train.npz frame" in described[0]
    assert [f for f, _ in ctx.messages] == sorted(f for f, _ in ctx.messages)
    assert result["configurations"] == 10 and result["held_out"]["configurations"] == 2
    assert result["dim"] == 2 and result["title"].startswith("vacancies 2D: softness (SVM), species A, 2D, train.npz")
    assert result["held_out"]["balanced_accuracy"] > 0.7
    (listed,) = trained_models(store.path)
    assert str(listed.path) == result["path"] and model_title(listed.model) == result["title"]
    assert listed.model.details["report"]["training_particles"] == result["training_particles"]

    with pytest.raises(ValueError, match="this model was trained on 3D configurations; the system is 2D"):
        _upload(store, tmp_path, 11, "other.npz")  # the shipped models
    source = _upload(store, tmp_path, 11, "other.npz", models=(result["path"],))
    summary = _run(store, "glass-softness", {"source": source, "models": [result["path"]], "hops": {"max_frames": 8}})
    table = pd.read_csv(summary["path"])
    assert list(table.columns) == ["frame", "time", "particle", "species", "x", "y", "softness", "outside_training", "p_hop",
                                   "rearranging"]
    assert len(table) == 8 * 280 == 8 * summary["n_particles"] and len(summary["frames"]) == 8 and summary["dim"] == 2
    assert summary["n_rearranging"] == int(table.rearranging.sum()) > 0
    assert summary["rearranging_soft_fraction"] >= 0.8
    np.testing.assert_array_equal(table.rearranging, table.p_hop > 0.2)


def test_training_is_cancelled_between_configurations_and_stores_nothing(store_dir: Path, tmp_path: Path) -> None:
    store = Store(store_dir)
    source = _upload(store, tmp_path, 1, "t.npz", models=())
    ctx = Recorder(store, "job-2", cancel_at="configuration 3 of")
    with pytest.raises(JobCancelled):
        train_job(ctx, {"files": [source]}, hops={"max_frames": 6})
    assert sum("structure functions of configuration" in m for _, m in ctx.messages) == 3
    assert trained_models(store.path) == []


def test_bad_training_requests_fail_with_the_reason(store_dir: Path, tmp_path: Path) -> None:
    store = Store(store_dir)
    source = _upload(store, tmp_path, 1, "t.npz", models=())
    for params, message in [
        ({"inputs": {"example": 11}}, "the example training set has 1 to 10 configurations, got 11"),
        ({"inputs": {"files": [source]}, "kind": "propensity"}, "a propensity (ridge) model needs configurations with "
                                                                 "propensity"),
        ({"inputs": {"files": [source]}, "hops": {"threshold": 5.0}}, "no frame has both a rearranging and a "
                                                                      "non-rearranging particle"),
        ({"inputs": {}}, "training inputs must name 'example' or a non-empty list of 'files'"),
    ]:
        job_id = store.create_job("glass-softness-train", params)
        assert run_job(store, job_id, job_function("glass-softness-train"), params) == "failed"
        assert message in store.get_job(job_id).error
    assert trained_models(store.path) == []


@pytest.mark.slow
def test_training_on_the_kob_andersen_examples_scores_the_test_configurations(store_dir: Path) -> None:
    """One training configuration (4096 particles; 3277 A) and the three test ones held out."""
    store = Store(store_dir)
    result = _run(store, "glass-softness-train", {"inputs": {"example": 1}, "kind": "propensity"})
    held = result["held_out"]
    print(f"\nridge on configuration 1: Pearson {held['pearson']:.3f} on 401-403 "
          f"({[round(p, 3) for p in held['pearson_per_configuration']]}); {result['describe_seconds']:.0f} s describing")
    assert result["data"] == "Kob–Andersen configurations 1–1 (propensity)" and result["training_particles"] == 3277
    assert held["configurations"] == 3 and held["particles"] == 3 * 3277 and held["pearson"] > 0.3
    assert trained_models(store.path)[0].model.kind == "propensity"
