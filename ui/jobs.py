"""Background jobs of the web app: one :class:`engine.runtime.job_pool.JobPool` per store.

The pool lives as long as the app process (``st.cache_resource``) and runs each job in a worker
process of its own; the Streamlit script only starts a job, then polls its record in the store.
A page that is refreshed or reopened finds the job again through its id in the URL
(``?job=<id>``), whether it is still running or long finished.
"""

from __future__ import annotations

import streamlit as st

from engine.runtime.job_pool import JobPool

__all__ = ["get_job_manager"]


@st.cache_resource(show_spinner=False)
def get_job_manager(store_path: str) -> JobPool:
    """The app-wide job pool for the store at ``store_path`` (one per server process)."""
    return JobPool(store_path)
