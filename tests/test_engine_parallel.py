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
