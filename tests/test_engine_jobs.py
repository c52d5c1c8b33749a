"""Jobs: progress, results, failures and cancellation recorded in the store."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from engine.runtime.demo import demo_job
from engine.runtime.jobkinds import JOB_KINDS, job_function
from engine.runtime.jobs import JobContext, run_job
from engine.store import Store


def test_demo_job_finds_the_semicircle_edge(store_dir: Path) -> None:
    store = Store(store_dir)
    job = store.create_job("demo", {"steps": 8, "size": 400, "seed": 1})
    assert run_job(store, job, demo_job, {"steps": 8, "size": 400, "seed": 1}) == "done"
    record = store.get_job(job)
    assert record.status == "done" and record.progress == 1.0
    assert len(record.result["ratios"]) == 8
    # Wigner: λmax → 2√n; at n = 400 the Tracy-Widom shift is about -1.2 n^(-2/3)/2 ≈ -1 %.
    assert record.result["mean_ratio"] == pytest.approx(0.99, abs=0.02)


def test_failing_job_records_its_error(store_dir: Path) -> None:
    store = Store(store_dir)
    job = store.create_job("demo", {"steps": 0})
    assert run_job(store, job, demo_job, {"steps": 0}) == "failed"
    assert store.get_job(job).error == "ValueError: steps must be in 1..10000, got 0"


def test_cancel_request_stops_a_running_job(store_dir: Path) -> None:
    store = Store(store_dir)
    started = threading.Event()

    def slow(ctx: JobContext, steps: int) -> int:
        for i in range(steps):
            started.set()
            time.sleep(0.02)
            ctx.progress((i + 1) / steps)
        return steps

    job = store.create_job("slow", {"steps": 10_000})
    thread = threading.Thread(target=run_job, args=(store, job, slow, {"steps": 10_000}))
    thread.start()
    started.wait(10)
    store.request_cancel(job)
    thread.join(30)
    record = store.get_job(job)
    assert record.status == "cancelled" and record.progress < 1.0


def test_unknown_job_kind_names_the_known_ones() -> None:
    assert "demo" in JOB_KINDS
    with pytest.raises(ValueError, match="unknown job kind 'nope'; known kinds: characterise-hologram, demo, "):
        job_function("nope")


def test_a_new_stage_is_recorded_however_soon_it_follows(store_dir: Path) -> None:
    """Progress closer than min_interval is dropped, unless its message names a new stage (a dropped
    'classifying' left 'generating the configuration' on the page for a whole minute)."""
    store = Store(store_dir)
    job = store.create_job("demo", {})

    def stages(ctx: JobContext) -> dict:
        ctx.min_interval = 60.0
        ctx.progress(0.02, "reading")
        ctx.progress(0.05, "reading")  # same stage, too soon: dropped
        seen = store.get_job(job).progress
        ctx.progress(0.2, "classifying")  # new stage: recorded
        return {"dropped": seen, "record": [store.get_job(job).progress, store.get_job(job).message]}

    assert run_job(store, job, stages, {}) == "done"
    assert store.get_job(job).result == {"dropped": 0.02, "record": [0.2, "classifying"]}
