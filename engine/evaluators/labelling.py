"""Label a batch of designs through an executor into the store, skipping what is stored.

Each finished label is committed on its own, so a killed batch keeps everything that had
finished, and running the batch again labels only the designs still missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass

from designs.base import Design
from engine.evaluators.protocol import Evaluation, Evaluator
from engine.runtime.jobs import JobCancelled
from engine.store import LabelRecord, SolverKey, Store, StoredKey, same_labels

__all__ = ["BatchReport", "CancellableCall", "evaluation_from_label", "label_designs", "record_evaluation", "recorded_key"]


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


def record_evaluation(store: Store, design_hash: str, key: SolverKey, evaluation: Evaluation) -> bool:
    """Store ``evaluation`` as the label of a stored design under ``key``.

    Returns
    -------
    bool
        True if stored, False if the design already had a label under ``key`` (the first wins).
    """
    return store.put_label(design_hash, key, evaluation.metrics, status=evaluation.status,
                           reason=evaluation.reason, wall_time=evaluation.wall_time)


def recorded_key(store: Store, key: SolverKey, hashes: Collection[str], version: str | None = None) -> SolverKey | StoredKey:
    """The key under which the designs ``hashes`` were labelled, for a record that does not say.

    ``key`` when it labelled all of them; otherwise the one other key (of solver version
    ``version``, if given) that labelled every one of them: labels made before a solver version
    was bumped or a default setting changed, which this code can read but no longer make. ``key``
    again when no such key, or more than one, exists (the caller then finds the labels missing).
    """
    wanted = set(hashes)
    if not wanted or wanted <= store.labelled_hashes(key):
        return key
    complete = [found for found, count in store.label_keys(key.name, key.fidelity, wanted)
                if count == len(wanted) and not same_labels(found, key) and version in (None, found.version)]
    return complete[0] if len(complete) == 1 else key


def evaluation_from_label(label: LabelRecord) -> Evaluation:
    """The :class:`Evaluation` a stored label holds."""
    return Evaluation(label.status, label.reason, dict(label.metrics), label.wall_time or 0.0)


@dataclass(frozen=True)
class CancellableCall:
    """Picklable task ``evaluator(design)`` that stops inside the solver when a job is cancelled.

    The solver's progress callback (called at every load step and by the heartbeat inside steps
    and linear solves) reads the job's cancel flag from the store, at most every ``interval``
    seconds, and raises :class:`~engine.runtime.jobs.JobCancelled` once it is set; the call then
    returns None and nothing is stored. Executor workers are separate processes (or Dask
    workers), so the flag travels through the store file: a worker that cannot open the store
    (a remote Dask worker without the file) labels without the check and stops only between
    designs.

    Parameters
    ----------
    evaluator : Evaluator
        The labeller.
    store_path : str
        Path of the store that holds the job.
    job_id : str
        The job whose cancel flag is read.
    interval : float
        Seconds between two reads of the flag.
    """

    evaluator: Evaluator
    store_path: str
    job_id: str
    interval: float = 0.5

    def __call__(self, design: Design) -> Evaluation | None:
        try:
            store = Store(self.store_path, create=False)
        except ValueError:  # not reachable from this worker: no check inside the run
            return self.evaluator(design)
        last = [time.monotonic()]

        def check(fraction: float, message: str) -> None:
            now = time.monotonic()
            if now - last[0] >= self.interval:
                last[0] = now
                if store.cancel_requested(self.job_id):
                    raise JobCancelled()

        if store.cancel_requested(self.job_id):
            return None
        try:
            return self.evaluator.run(design, progress=check)[0]
        except JobCancelled:
            return None


def label_designs(
    store: Store,
    designs: Sequence[Design],
    evaluator: Evaluator,
    executor: Executor,
    *,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    task: Callable[[Design], Evaluation | None] | None = None,
    on_label: Callable[[str, Evaluation], None] | None = None,
) -> BatchReport:
    """Label the designs not yet labelled under ``evaluator.key()``.

    Parameters
    ----------
    store : Store
        Campaign store; designs are added to it first.
    designs : sequence of Design
        Designs to label; duplicates (same content hash) are labelled once.
    evaluator : Evaluator
        Picklable labeller; labels are stored under ``evaluator.key()``.
    executor : concurrent.futures.Executor
        Where the solver calls run (see :func:`engine.runtime.executors.make_executor`).
    progress : callable, optional
        Called as ``progress(done, total)`` after each stored label.
    should_stop : callable, optional
        Polled after each label; when it returns True, pending calls are cancelled.
    task : callable, optional
        Picklable callable submitted instead of ``evaluator`` (e.g. :class:`CancellableCall`);
        a call that returns None was cancelled: nothing is stored and the batch ends as cancelled.
    on_label : callable, optional
        Called as ``on_label(design_hash, evaluation)`` after each label this batch stored.

    Returns
    -------
    BatchReport
    """
    for design in designs:
        evaluator.check_design(design)
    key = evaluator.key()
    hashes = store.add_designs(designs)
    unique = dict(zip(hashes, designs))
    done_before = store.labelled_hashes(key)
    missing = [(h, d) for h, d in unique.items() if h not in done_before]
    futures: dict[Future, str] = {
        executor.submit(evaluator if task is None else task, design): design_hash for design_hash, design in missing
    }
    ok = failed = 0
    cancelled = False
    try:
        for count, future in enumerate(as_completed(futures), start=1):
            evaluation = future.result()
            if evaluation is None:  # the task saw the cancel inside its run
                cancelled = True
                break
            if record_evaluation(store, futures[future], key, evaluation):
                ok += evaluation.ok
                failed += not evaluation.ok
                if on_label is not None:
                    on_label(futures[future], evaluation)
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
