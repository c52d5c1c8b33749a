"""Jobs page: every recorded job with a link to the page that shows it, and cancellation of running ones.

The list refreshes itself every :data:`POLL_SECONDS` while a job is queued or running
(``st.fragment(run_every=...)``), and stops polling when none is.
"""

from __future__ import annotations

import datetime

import pandas as pd
import streamlit as st

from engine.runtime.job_pool import JobPool
from engine.store import Store
from ui.common import CheckedNumbers, job_manager, open_store
from ui.job_panel import format_duration, job_link


def _time(stamp: float | None) -> datetime.datetime | None:
    """A store time stamp (seconds since the epoch) as local time."""
    return None if stamp is None else datetime.datetime.fromtimestamp(stamp)


#: Seconds between refreshes of the list while a job is queued or running.
POLL_SECONDS = 2.0


def _active(store: Store, limit: int) -> bool:
    """Whether any of the ``limit`` newest jobs is queued or running."""
    return any(not job.finished for job in store.jobs(limit=limit))


def job_list(store: Store, manager: JobPool, limit: int) -> None:
    """The job table and the cancel control, redrawn every POLL_SECONDS while a job is active;
    when the last active job ends the page reruns once, which stops the polling."""
    jobs = store.jobs(limit=limit)
    if not jobs:
        st.info("No jobs recorded in this store yet.")
        return
    active = [job.id for job in jobs if not job.finished]
    refreshed = datetime.datetime.now().strftime("%H:%M:%S")
    st.caption(f"{len(active)} queued or running, {len(jobs) - len(active)} finished · as of {refreshed}"
               + (f", refreshed every {POLL_SECONDS:g} s while a job is active" if active else ""))
    st.dataframe(
        pd.DataFrame(
            {
                "id": [job.id for job in jobs],
                "kind": [job.kind for job in jobs],
                "result": [job_link(job) for job in jobs],
                "status": [job.status for job in jobs],
                "progress": [job.progress for job in jobs],
                "created": pd.to_datetime([_time(job.created_at) for job in jobs]),
                "finished": pd.to_datetime([_time(job.finished_at) for job in jobs]),  # NaT: empty, not "None"
                "duration": [format_duration(job) for job in jobs],
                "message": [job.error or job.message for job in jobs],
            }
        ),
        hide_index=True,
        column_config={
            "progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=1),
            "result": st.column_config.LinkColumn("result", display_text="open", help="the job on its page"),
            "created": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm:ss", help="local time"),
            "finished": st.column_config.DatetimeColumn("finished", format="YYYY-MM-DD HH:mm:ss", help="local time"),
            "message": st.column_config.TextColumn("message", width="large"),
        },
    )
    if active:
        choice = st.selectbox("Running job", active)
        if st.button("Cancel selected job"):
            manager.cancel(choice)
            st.toast(f"Cancellation requested for {choice[:12]}")
    elif st.session_state.get("jobs_were_active"):
        st.session_state["jobs_were_active"] = False
        st.rerun()  # the full run redefines the fragment without polling
    st.session_state["jobs_were_active"] = bool(active)


st.title("Jobs")
store = open_store()
manager = job_manager(store)
limit = CheckedNumbers().number("Show the most recent", 50, 5, 1000, step=5, help="jobs listed, newest first")
if limit is None:
    st.stop()  # the message says why; no list of another length is shown
st.fragment(job_list, run_every=POLL_SECONDS if _active(store, int(limit)) else None)(store, manager, int(limit))
