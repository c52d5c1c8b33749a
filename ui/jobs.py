"""Background job runner of the web app.

Jobs run in threads owned by a :class:`JobManager`, which the app keeps alive across script
reruns and browser sessions with ``st.cache_resource``: the Streamlit script only starts a job,
then polls its record in the store. A page that is refreshed or reopened finds the job again
through its id in the URL (``?job=<id>``), whether it is still running or long finished.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st

from engine.runtime.jobkinds import job_function
from engine.runtime.jobs import run_job
from engine.store import Store

__all__ = ["JobManager", "get_job_manager"]


class JobManager:
    """Starts jobs in worker threads and keeps track of them.

    Parameters
    ----------
    store_path : path-like
        SQLite file of the store the jobs are recorded in.
    """

    def __init__(self, store_path: str | Path) -> None:
        self.store = Store(store_path, create=False)
        # Jobs left "running" by an app that was stopped can never finish: mark them failed.
        self.store.mark_orphaned_jobs()
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def submit(self, kind: str, params: Mapping[str, Any]) -> str:
        """Record and start a job of ``kind``; returns its id at once."""
        function = job_function(kind)
        job_id = self.store.create_job(kind, params)
        thread = threading.Thread(
            target=run_job, args=(self.store, job_id, function, dict(params)),
            name=f"matloop-job-{job_id[:8]}", daemon=True,
        )
        with self._lock:
            self._threads = {k: t for k, t in self._threads.items() if t.is_alive()}
            self._threads[job_id] = thread
        thread.start()
        return job_id

    def cancel(self, job_id: str) -> None:
        """Ask a job to stop at its next progress report."""
        self.store.request_cancel(job_id)

    def running(self) -> list[str]:
        """Ids of the jobs whose threads are alive."""
        with self._lock:
            return [job_id for job_id, thread in self._threads.items() if thread.is_alive()]


@st.cache_resource(show_spinner=False)
def get_job_manager(store_path: str) -> JobManager:
    """The app-wide manager for the store at ``store_path`` (one per server process)."""
    return JobManager(store_path)
