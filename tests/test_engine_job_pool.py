"""The app's job pool: one worker process per job, isolated settings, queue, cancel, crashes."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from designs.checkerboard import Checkerboard
from designs.spinodal import Spinodoid
from engine.evaluators.fracture import FRACTURE_METRICS
from engine.evaluators.spinodoid import HOMOGENIZATION_METRICS
from engine.runtime.job_pool import JobPool
from engine.runtime.jobkinds import JOB_KINDS, job_function
from engine.store import Store

TIMING = {m.name for m in (*FRACTURE_METRICS, *HOMOGENIZATION_METRICS) if m.timing}

#: Two fracture jobs (mode I and mode II, phase field to failure) and one homogenisation job. Full
#: labels (3 s each on a 2-core AMD EPYC) outlast the start of the third worker (about 2 s after the
#: first there): labels to the peak (1.3 s there) ended before it.
JOBS = [
    ("label-fracture", {"space": "checkerboard", "genome": Checkerboard.random(8, seed=1).genome(), "fidelity": "full",
                        "options": {}}),
    ("label-fracture", {"space": "checkerboard", "genome": Checkerboard.random(8, seed=2).genome(), "fidelity": "full",
                        "options": {"mode": "II"}}),
    ("homogenize-spinodoid", {"genome": Spinodoid(rho=0.6, seed=2).genome(), "resolution": 40, "bc": "affine"}),
]


def _numbers(store: Store, job_id: str) -> dict:
    job = store.get_job(job_id)
    assert job.status == "done", job.error
    return {name: value for name, value in job.result["metrics"].items() if name not in TIMING}


def _pool(directory: Path, workers: int) -> JobPool:
    directory.mkdir()
    return JobPool(Store(directory).path, max_workers=workers)


@pytest.mark.slow
def test_jobs_started_together_give_bit_identical_numbers_to_each_alone(tmp_path: Path) -> None:
    alone = _pool(tmp_path / "alone", 1)
    expected = []
    for kind, params in JOBS:
        job_id = alone.submit(kind, params)
        assert alone.wait(300)
        expected.append(_numbers(alone.store, job_id))
    alone.shutdown()

    together = _pool(tmp_path / "together", len(JOBS))
    ids = [together.submit(kind, params) for kind, params in JOBS]
    assert together.wait(300)
    together.shutdown()
    assert [_numbers(together.store, job_id) for job_id in ids] == expected
    records = [together.store.get_job(job_id) for job_id in ids]
    assert max(r.started_at for r in records) < min(r.finished_at for r in records), "the jobs must overlap"
    assert len({r.owner_pid for r in records} | {os.getpid()}) == len(JOBS) + 1  # a process of their own


def test_a_queued_job_that_is_cancelled_never_starts(tmp_path: Path) -> None:
    pool = _pool(tmp_path / "project", 1)
    first = pool.submit("demo", {"steps": 4, "size": 100})
    second = pool.submit("demo", {"steps": 4, "size": 100})
    pool.cancel(second)
    assert pool.wait(120)
    pool.shutdown()
    assert pool.store.get_job(first).status == "done"
    record = pool.store.get_job(second)
    assert (record.status, record.message, record.started_at) == ("cancelled", "cancelled before it started", None)


def test_a_killed_worker_fails_its_job_with_the_exit_status(tmp_path: Path) -> None:
    pool = _pool(tmp_path / "project", 1)
    job_id = pool.submit("demo", {"steps": 10_000, "size": 300})
    deadline = time.time() + 60
    while pool.store.get_job(job_id).progress == 0 and time.time() < deadline:
        time.sleep(0.05)
    os.kill(pool.store.get_job(job_id).owner_pid, signal.SIGKILL)
    assert pool.wait(60)
    record = pool.store.get_job(job_id)
    assert record.status == "failed" and "worker process exited with status -9" in record.error


def test_unknown_kinds_are_refused_and_every_kind_resolves(tmp_path: Path) -> None:
    pool = _pool(tmp_path / "project", 1)
    with pytest.raises(ValueError, match="unknown job kind 'nope'; known kinds: characterise-hologram, demo, "):
        pool.submit("nope", {})
    pool.shutdown()
    for kind in JOB_KINDS:
        assert callable(job_function(kind))


def test_jobs_queued_by_a_process_that_exited_are_failed_by_the_next_pool(tmp_path: Path) -> None:
    import subprocess
    import sys

    store = Store(tmp_path)
    gone = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)
    job_id = store.create_job("demo", {}, owner_pid=gone)
    JobPool(store.path).shutdown()
    assert store.get_job(job_id).status == "failed"
