"""Executors: the same seeded tasks give identical results on a process pool and on Dask."""

from __future__ import annotations

import socket
from concurrent.futures import Executor
from pathlib import Path

import numpy as np
import pytest

from engine.runtime.demo import demo_task, goe_edge_ratio
from engine.evaluators.labelling import label_designs
from engine.runtime.executors import DaskExecutor, ExecutorSpec, make_executor, parse_executor_spec
from engine.store import SolverKey, Store
from support_label_batch import batch
from support_tasks import CountingEvaluator

SEEDS = list(range(12))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("local", ExecutorSpec("local")),
        ("local:3", ExecutorSpec("local", 3)),
        (" dask-local:2 ", ExecutorSpec("dask-local", 2)),
        ("tcp://10.1.2.3:8786", ExecutorSpec("dask-address", address="tcp://10.1.2.3:8786")),
    ],
)
def test_specs_parse(spec: str, expected: ExecutorSpec) -> None:
    assert parse_executor_spec(spec) == expected


@pytest.mark.parametrize("spec", ["", "threads", "local:0", "local:x", "dask", "http://host:80", "tcp://"])
def test_unknown_specs_are_rejected_with_the_allowed_forms(spec: str) -> None:
    with pytest.raises(ValueError, match=r"allowed: 'local'|number of workers"):
        parse_executor_spec(spec)


def _run(executor: Executor) -> list[float]:
    with executor:
        futures = [executor.submit(demo_task, seed, 120) for seed in SEEDS]
        by_map = list(executor.map(demo_task, SEEDS[:3], [120] * 3))
    results = [f.result() for f in futures]
    assert by_map == results[:3]
    return results


@pytest.mark.slow
def test_local_pool_and_two_worker_dask_cluster_agree_exactly() -> None:
    expected = [goe_edge_ratio(120, np.random.default_rng(seed)) for seed in SEEDS]
    local = _run(make_executor("local:2"))
    dask = make_executor("dask-local:2")
    assert isinstance(dask, DaskExecutor)
    assert len(dask.client.scheduler_info()["workers"]) == 2
    on_dask = _run(dask)
    assert local == on_dask == expected  # bit-identical for identical seeds
    # Largest GOE eigenvalue sits near the semicircle edge 2√n (known truth for the task).
    assert abs(np.mean(expected) - 1.0) < 0.05


@pytest.mark.slow
def test_labelling_through_dask_stores_the_same_labels(tmp_path: Path) -> None:
    key = SolverKey("counting", "1", "exact")
    results = {}
    for spec in ("local:2", "dask-local:2"):
        directory = tmp_path / spec.replace(":", "-")
        directory.mkdir()
        store = Store(directory)
        evaluator = CountingEvaluator(str(tmp_path / f"{spec}.calls"), 0.0)
        assert evaluator.key() == key
        with make_executor(spec) as executor:
            report = label_designs(store, batch(15), evaluator, executor)
        assert report.newly_labelled == 15
        results[spec] = {(l.design_hash, l.status, repr(l.metrics)) for l in store.labels(key)}
    assert results["local:2"] == results["dask-local:2"]


def test_scheduler_address_that_does_not_answer_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free port: nothing listens once the socket is closed
    with pytest.raises(ValueError, match="no Dask scheduler answered"):
        make_executor(f"tcp://127.0.0.1:{port}", connect_timeout=1.0)


_CTRL_C = """
import os, signal, time
from engine.runtime.executors import make_executor
with make_executor("local", 2) as pool:
    futures = [pool.submit(time.sleep, 2) for _ in range(3)]
    try:
        os.killpg(0, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group, workers still starting
        time.sleep(5)
    except KeyboardInterrupt:
        pass
    for future in futures:
        future.cancel()
print("outcomes", sorted(type(f.exception()).__name__ if f.done() and not f.cancelled() else "cancelled"
                         for f in futures))
"""


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_ctrl_c_pauses_the_main_process_and_leaves_the_workers_quiet() -> None:
    """A terminal's Ctrl-C reaches every process of the group: workers still importing, or waiting for work,
    died of it with a traceback each, and the pool, broken, failed in its own thread on the futures the main
    process had cancelled (InvalidStateError). Now they ignore it; a task in flight is interrupted."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _CTRL_C], capture_output=True, text=True, timeout=120,
                          start_new_session=True, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "outcomes" in done.stdout
    assert "BrokenProcessPool" not in done.stdout


_KILLED = """
import time
from engine.runtime.executors import make_executor
pool = make_executor("local", 2)
futures = [pool.submit(time.sleep, 600) for _ in range(2)]
while len(pool._processes) < 2 or not all(f.running() for f in futures):
    time.sleep(0.05)
print(*pool._processes, flush=True)
time.sleep(600)
"""


def test_workers_end_when_their_main_process_is_killed() -> None:
    """``kill -9`` of a campaign run left its workers labelling on for good (re-parented to PID 1)."""
    import subprocess
    import sys
    import time

    main = subprocess.Popen([sys.executable, "-c", _KILLED], stdout=subprocess.PIPE, text=True,
                            start_new_session=True, cwd=Path(__file__).resolve().parents[1])
    try:
        workers = [int(pid) for pid in main.stdout.readline().split()]
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    finally:
        main.kill()
        main.wait()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)
