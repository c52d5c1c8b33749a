"""The app's background jobs, each in a worker process of its own.

A :class:`JobPool` records a job in the store and starts ``python -m engine.runtime.worker``
for it as soon as fewer than ``max_workers`` jobs run; the job reports progress and reads
cancellation through the store, so the app only polls records. One process per job isolates
what solvers set process-wide (torch intra-op threads, BLAS limits): two jobs started together
give the same numbers as each alone. A worker that dies without recording the end of its job
(killed, out of memory) gets the job marked failed, with the last lines it wrote to its log
(``<store dir>/job-logs/<id>.log``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.runtime.cpus import available_cpus
from engine.runtime.jobkinds import JOB_KINDS
from engine.store import Store

__all__ = ["JobPool"]

_POLL_SECONDS = 0.2
_LOG_TAIL_CHARACTERS = 2000


class JobPool:
    """Starts recorded jobs in worker processes, at most ``max_workers`` at a time.

    Parameters
    ----------
    store_path : path-like
        The store the jobs are recorded in (must exist).
    max_workers : int, optional
        Jobs running at once; default one per CPU core. Further jobs wait as ``queued``.

    Raises
    ------
    ValueError
        ``max_workers`` below 1, or the store cannot be opened.
    """

    def __init__(self, store_path: str | os.PathLike[str], max_workers: int | None = None) -> None:
        self.max_workers = available_cpus() if max_workers is None else int(max_workers)
        if self.max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self.store = Store(store_path, create=False)
        # Jobs left running or queued by an app that was stopped can never finish: fail them.
        self.store.mark_orphaned_jobs()
        self.log_directory = self.store.path.parent / "job-logs"
        self._queue: deque[str] = deque()
        self._running: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._dispatcher = threading.Thread(target=self._dispatch, name="matloop-job-pool", daemon=True)
        self._dispatcher.start()

    # ------------------------------------------------------------------ public
    def submit(self, kind: str, params: Mapping[str, Any]) -> str:
        """Record a job of ``kind`` and queue it; returns its id at once.

        Raises
        ------
        ValueError
            Unknown job kind (the message names the known ones) or a closed pool.
        """
        if kind not in JOB_KINDS:
            raise ValueError(f"unknown job kind {kind!r}; known kinds: {', '.join(sorted(JOB_KINDS))}")
        if self._closed:
            raise ValueError("the job pool is shut down")
        job_id = self.store.create_job(kind, params, owner_pid=os.getpid())
        with self._lock:
            self._queue.append(job_id)
        self._wake.set()
        return job_id

    def cancel(self, job_id: str) -> None:
        """Ask a job to stop: a queued job never starts, a running one stops at its next progress report."""
        self.store.request_cancel(job_id)
        self._wake.set()

    def running(self) -> list[str]:
        """Ids of the jobs started and not yet seen to end."""
        with self._lock:
            return list(self._running)

    def queued(self) -> list[str]:
        """Ids of the jobs waiting for a free worker, oldest first."""
        with self._lock:
            return list(self._queue)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no job is queued or running; returns False on timeout (seconds)."""
        end = None if timeout is None else time.monotonic() + timeout
        while self.queued() or self.running():
            if end is not None and time.monotonic() > end:
                return False
            self._wake.set()
            time.sleep(_POLL_SECONDS)
        return True

    def shutdown(self, cancel: bool = True) -> None:
        """Stop starting jobs; with ``cancel`` ask queued and running jobs to stop, and wait for them."""
        with self._lock:
            self._closed = True
            ids = list(self._queue) + list(self._running)
        if cancel:
            for job_id in ids:
                self.store.request_cancel(job_id)
        self._wake.set()
        self._dispatcher.join()

    # ------------------------------------------------------------------ dispatcher
    def _dispatch(self) -> None:
        while True:
            self._wake.wait(_POLL_SECONDS)
            self._wake.clear()
            with self._lock:
                self._reap()
                self._start_queued()
                if self._closed and not self._running and not self._queue:
                    return

    def _reap(self) -> None:
        for job_id, process in list(self._running.items()):
            code = process.poll()
            if code is None:
                continue
            del self._running[job_id]
            if code != 0 and not self.store.get_job(job_id).finished:
                self.store.finish_job(job_id, "failed", message="failed",
                                      error=f"the worker process exited with status {code}: {self._log_tail(job_id)}")

    def _start_queued(self) -> None:
        while self._queue and len(self._running) < self.max_workers:
            job_id = self._queue.popleft()
            if self.store.cancel_requested(job_id) or self._closed:
                self.store.finish_job(job_id, "cancelled", message="cancelled before it started")
                continue
            self.log_directory.mkdir(exist_ok=True)
            with open(self._log_path(job_id), "wb") as log:
                self._running[job_id] = subprocess.Popen(
                    [sys.executable, "-m", "engine.runtime.worker", str(self.store.path), job_id],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                )

    def _log_path(self, job_id: str) -> Path:
        return self.log_directory / f"{job_id}.log"

    def _log_tail(self, job_id: str) -> str:
        try:
            text = self._log_path(job_id).read_text(errors="replace").strip()
        except OSError:
            return "no log"
        return text[-_LOG_TAIL_CHARACTERS:] or "the log is empty"
