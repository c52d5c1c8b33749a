"""Long work as jobs recorded in the store: progress, cancellation, result or error.

A job function has the signature ``fn(ctx: JobContext, **params) -> JSON result``. It reports
progress through ``ctx.progress``, which raises :class:`JobCancelled` once a cancel was
requested, so cancellation needs no extra code in the function. :func:`run_job` runs a job to
its end wherever it is called: a worker process of the app (:mod:`engine.runtime.job_pool`),
the command line, or a test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.store import Store

__all__ = ["JobCancelled", "JobContext", "JobFunction", "run_job"]


class JobCancelled(Exception):
    """Raised inside a job function when its cancellation was requested; an optional text becomes the job's
    message (e.g. what a paused campaign keeps)."""


@dataclass
class JobContext:
    """Handle a running job uses to report progress.

    Parameters
    ----------
    store : Store
        Store that holds the job record.
    job_id : str
        Id of the job.
    min_interval : float
        Seconds between progress writes; calls in between only check for cancellation at
        most as often (keeps the store quiet for fast loops). The final call always writes.
    """

    store: Store
    job_id: str
    min_interval: float = 0.1
    _last_write: float = field(default=0.0, init=False)
    _last_message: str = field(default="", init=False)

    def progress(self, fraction: float, message: str = "") -> None:
        """Record progress in [0, 1]; raises :class:`JobCancelled` if cancellation was requested.

        Updates closer than ``min_interval`` seconds are dropped unless the message changes (a
        new stage is always shown: a dropped one stayed on the page for a whole long stage).
        """
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_write < self.min_interval and message == self._last_message:
            return
        self._last_write, self._last_message = now, message
        if self.store.cancel_requested(self.job_id):
            raise JobCancelled()
        self.store.update_job(self.job_id, fraction, message)

    def cancelled(self) -> bool:
        """True once cancellation was requested (for functions that stop by themselves)."""
        return self.store.cancel_requested(self.job_id)


JobFunction = Callable[..., Any]


def run_job(store: Store, job_id: str, function: JobFunction, params: Mapping[str, Any]) -> str:
    """Run a recorded job to its end and record how it ended.

    Parameters
    ----------
    store : Store
        Store holding the job (created with :meth:`Store.create_job`).
    job_id : str
        The job's id.
    function : JobFunction
        The work; called as ``function(ctx, **params)``.
    params : mapping
        Keyword arguments for ``function``.

    Returns
    -------
    str
        The job's recorded status afterwards: ``"done"``, ``"failed"`` or ``"cancelled"`` (or
        ``"running"`` when the job was no longer queued and runs elsewhere). A job whose end was
        recorded by someone else meanwhile keeps that end.
    """
    if store.cancel_requested(job_id):  # cancelled while it waited in the queue
        store.finish_job(job_id, "cancelled", message="cancelled before it started")
    elif store.start_job(job_id):  # False: no longer queued, someone else ended or started it
        context = JobContext(store, job_id)
        try:
            result = function(context, **params)
        except JobCancelled as stop:  # its text, where it has one, says what the cancellation left
            store.finish_job(job_id, "cancelled", message=str(stop) or "cancelled by the user")
        except Exception as exc:  # noqa: BLE001 - the job's failure is recorded, not raised
            store.finish_job(job_id, "failed", error=f"{type(exc).__name__}: {exc}", message="failed")
        else:
            store.finish_job(job_id, "done", result=result, message="finished")
    return store.get_job(job_id).status
