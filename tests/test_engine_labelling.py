"""Batch labelling: failures recorded, nothing labelled twice, kill-and-resume repeats nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from engine.evaluators.labelling import label_designs
from engine.store import Store
from support_label_batch import KEY, batch
from support_tasks import CountingEvaluator, VectorDesign, count_calls


class BrokenEvaluator(CountingEvaluator):
    """A solver that breaks down on every design."""

    def _solve(self, design: VectorDesign, progress: object) -> tuple[dict, None]:
        raise FloatingPointError("singular stiffness matrix")


def test_evaluators_turn_exceptions_into_failed_labels() -> None:
    evaluation = BrokenEvaluator("unused")(VectorDesign((1.0,)))
    status, reason, metrics = evaluation.status, evaluation.reason, evaluation.metrics
    assert (status, metrics) == ("failed", {})
    assert reason == "FloatingPointError: singular stiffness matrix"


def test_batch_labels_each_unique_design_once_and_goes_on_after_failures(store_dir: Path, tmp_path: Path) -> None:
    store = Store(store_dir)
    counter = str(tmp_path / "calls.txt")
    evaluator = CountingEvaluator(counter, 0.0)
    designs = batch(20) + batch(5)  # the last five are duplicates
    with ThreadPoolExecutor(2) as executor:
        report = label_designs(store, designs, evaluator, executor)
        again = label_designs(store, designs, evaluator, executor)
    assert (report.requested, report.unique, report.newly_labelled) == (25, 20, 20)
    assert report.labelled_failed == 3  # designs 3, 10, 17
    assert (again.newly_labelled, again.already_labelled) == (0, 20)
    assert count_calls(counter) == 20
    for design in batch(20):
        label = store.get_label(design.content_hash(), KEY)
        if design.values[0] < 0:
            assert label.status == "failed" and label.reason == "negative first component"
        else:
            assert label.metrics["norm"] == np.linalg.norm(design.values)  # known truth


def test_sigkill_mid_batch_leaves_consistent_store_and_resume_repeats_nothing(
    store_dir: Path, tmp_path: Path
) -> None:
    store = Store(store_dir)
    counter = str(tmp_path / "calls.txt")
    script = Path(__file__).parent / "support_label_batch.py"
    n = 40
    proc = subprocess.Popen(
        [sys.executable, str(script), str(store.path), counter, str(n), "0.15", "local:2"],
        start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.time() + 120
    while len(store.labelled_hashes(KEY)) < 10 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch process and its pool workers, mid-batch
    proc.wait()
    stored = len(store.labelled_hashes(KEY))
    assert 10 <= stored < n, "the kill must land mid-batch"
    assert store.integrity_check() == "ok"
    assert store.status().designs == n  # designs are added before labelling starts
    calls_before = count_calls(counter)

    resumed = subprocess.run(
        [sys.executable, str(script), str(store.path), counter, str(n), "0.0", "local:2"],
        capture_output=True, text=True, timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    newly, already = map(int, resumed.stdout.split())
    assert (newly, already) == (n - stored, stored)
    assert count_calls(counter) - calls_before == n - stored  # solver called only for the missing
    assert len(store.labelled_hashes(KEY)) == n
    assert store.integrity_check() == "ok"
