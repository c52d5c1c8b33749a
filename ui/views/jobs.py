"""Jobs page: every recorded job with a link to the page that shows it, and cancellation of running ones."""

from __future__ import annotations

import datetime

import pandas as pd
import streamlit as st

from ui.common import CheckedNumbers, job_manager, open_store
from ui.job_panel import format_duration, job_link

def _time(stamp: float | None) -> datetime.datetime | None:
    """A store time stamp (seconds since the epoch) as local time."""
    return None if stamp is None else datetime.datetime.fromtimestamp(stamp)


st.title("Jobs")
store = open_store()
manager = job_manager(store)
limit = CheckedNumbers().number("Show the most recent", 50, 5, 1000, step=5, help="jobs listed, newest first")
if limit is None:
    st.stop()  # the message says why; no list of another length is shown
jobs = store.jobs(limit=int(limit))
if not jobs:
    st.info("No jobs recorded in this store yet.")
    st.stop()

st.dataframe(
    pd.DataFrame(
        {
            "id": [job.id for job in jobs],
            "kind": [job.kind for job in jobs],
            "result": [job_link(job) for job in jobs],
            "status": [job.status for job in jobs],
            "progress": [job.progress for job in jobs],
            "created": [_time(job.created_at) for job in jobs],
            "finished": [_time(job.finished_at) for job in jobs],
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
active = [job.id for job in jobs if not job.finished]
if active:
    choice = st.selectbox("Running job", active)
    if st.button("Cancel selected job"):
        manager.cancel(choice)
        st.toast(f"Cancellation requested for {choice[:12]}")
