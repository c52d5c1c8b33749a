"""Label a batch of designs through an executor into the store, skipping what is stored.

Each finished label is committed on its own, so a killed batch keeps everything that had
finished, and running the batch again labels only the designs still missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from typing import Any

from designs.base import Design
from engine.store import SolverKey, Store

__all__ = ["LabelTask", "BatchReport", "call_solver", "label_designs"]

#: A solver entry point: top-level and picklable, takes a design, returns a metrics mapping.
#: It may put ``status="failed"`` and a ``reason`` into the mapping, or raise.
LabelTask = Callable[[Design], Mapping[str, Any]]


@dataclass(frozen=True)
class BatchReport:
    """Outcome of :func:`label_designs`. Counts are numbers of unique designs."""

    requested: int
    unique: int
    already_labelled: int
    labelled_ok: int
    labelled_failed: int
    cancelled: bool

    @property
    def newly_labelled(self) -> int:
        """Labels this batch added to the store."""
        return self.labelled_ok + self.labelled_failed


def call_solver(task: LabelTask, design: Design) -> tuple[str, str | None, dict[str, Any], float]:
    """Run ``task`` on one design in a worker; never raises.

    Returns
    -------
    tuple
        ``(status, reason, metrics, wall_time)`` with ``wall_time`` in seconds.
    """
    start = time.perf_counter()
    try:
        metrics = dict(task(design))
    except Exception as exc:  # noqa: BLE001 - a failing design must not stop the batch
        return "failed", f"{type(exc).__name__}: {exc}", {}, time.perf_counter() - start
    status = str(metrics.pop("status", "ok"))
    reason = metrics.pop("reason", None)
    if status != "ok":
        status, reason = "failed", reason or "solver reported failure without a reason"
    return status, reason, metrics, time.perf_counter() - start


def label_designs(
    store: Store,
    designs: Sequence[Design],
    key: SolverKey,
    task: LabelTask,
    executor: Executor,
    *,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> BatchReport:
    """Label the designs not yet labelled under ``key``.

    Parameters
    ----------
    store : Store
        Campaign store; designs are added to it first.
    designs : sequence of Design
        Designs to label; duplicates (same content hash) are labelled once.
    key : SolverKey
        Solver identity under which labels are stored.
    task : LabelTask
        Top-level picklable solver function.
    executor : concurrent.futures.Executor
        Where the solver calls run (see :func:`engine.runtime.executors.make_executor`).
    progress : callable, optional
        Called as ``progress(done, total)`` after each stored label.
    should_stop : callable, optional
        Polled after each label; when it returns True, pending calls are cancelled.

    Returns
    -------
    BatchReport
    """
    hashes = store.add_designs(designs)
    unique = dict(zip(hashes, designs))
    done_before = store.labelled_hashes(key)
    missing = [(h, d) for h, d in unique.items() if h not in done_before]
    futures: dict[Future, str] = {
        executor.submit(call_solver, task, design): design_hash for design_hash, design in missing
    }
    ok = failed = 0
    cancelled = False
    try:
        for count, future in enumerate(as_completed(futures), start=1):
            status, reason, metrics, wall = future.result()
            if store.put_label(futures[future], key, metrics, status=status, reason=reason, wall_time=wall):
                ok += status == "ok"
                failed += status == "failed"
            if progress is not None:
                progress(count, len(futures))
            if should_stop is not None and should_stop():
                cancelled = True
                break
    finally:
        for future in futures:
            future.cancel()
    return BatchReport(
        requested=len(designs), unique=len(unique), already_labelled=len(unique) - len(missing),
        labelled_ok=ok, labelled_failed=failed, cancelled=cancelled,
    )
