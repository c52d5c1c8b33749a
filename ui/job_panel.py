"""A live view of one job: progress bar, status, cancel button; polls the store while it runs."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable

import streamlit as st

from engine.store import JobRecord, Store
from engine.runtime.job_pool import JobPool

__all__ = ["QUERY_KEY", "attached_job_id", "attach_job", "job_panel", "format_duration", "no_jobs_here"]

#: URL query parameter that holds the id of the job a page shows.
QUERY_KEY = "job"
_POLL_SECONDS = 0.5
#: The page that shows each job kind: its title in the navigation and its URL path.
PAGE_OF_KIND = {
    "demo": ("Job runner demo", "demo_job"), "label-fracture": ("Label a design", "label_design"),
    "label-batch": ("Label a batch", "label_batch"),
    "homogenize-spinodoid": ("Spinodoids", "spinodoid"), "train-grid": ("Train a surrogate", "train"),
    "run-campaign": ("Campaigns", "campaigns"), "identify-structures": ("Crystal order", "ordering"),
    "glass-softness": ("Glass softness", "softness"), "glass-softness-train": ("Glass softness", "softness"),
    "characterise-hologram": ("Holograms", "holograms"),
}


def job_link(job: JobRecord) -> str | None:
    """Relative URL of the page that shows ``job`` (a campaign's page names the campaign), or None."""
    if job.kind not in PAGE_OF_KIND:
        return None
    link = f"/{PAGE_OF_KIND[job.kind][1]}?{QUERY_KEY}={job.id}"
    if job.kind == "run-campaign" and isinstance(job.params.get("name"), str):
        link += "&campaign=" + urllib.parse.quote(job.params["name"])
    return link


def attached_job_id() -> str | None:
    """Id of the job named in the URL, if any."""
    value = st.query_params.get(QUERY_KEY)
    return value or None


def attach_job(job_id: str) -> None:
    """Name ``job_id`` in the URL so a reload or a shared link shows the same job."""
    st.query_params[QUERY_KEY] = job_id


def no_jobs_here(store: Store, job_id: str) -> None:
    """On a page that runs no jobs, opened with a job id in the URL: a warning naming the page that shows it."""
    try:
        job = store.get_job(job_id)
    except KeyError:
        st.warning(f"No job with id {job_id!r} in this store; this page shows no jobs (the Jobs page lists them).")
        return
    st.warning(f"Job {job_id} is of kind {job.kind}; this page shows no jobs. Open it on the "
               f"{PAGE_OF_KIND.get(job.kind, ('Jobs',))[0]} page (the Jobs page lists every job).")


def format_duration(job: JobRecord) -> str:
    """Run time of a job so far (or in total), e.g. ``"3.2 s"``."""
    if job.started_at is None:
        return "not started"
    end = job.finished_at if job.finished_at is not None else time.time()
    return f"{end - job.started_at:.1f} s"


def job_panel(
    store: Store,
    manager: JobPool,
    job_id: str,
    show_result: Callable[[JobRecord], None] | None = None,
    kinds: tuple[str, ...] = (),
) -> None:
    """Show a job; while it runs the panel refreshes itself every half second.

    Parameters
    ----------
    store : Store
        Store holding the job.
    manager : JobPool
        Used for cancellation.
    job_id : str
        The job to show.
    show_result : callable, optional
        Draws the result of a finished job (called with the job record).
    kinds : tuple of str
        Job kinds this page shows; a job of another kind gets a message naming its page.
    """
    try:
        job = store.get_job(job_id)
    except KeyError:
        st.warning(f"No job with id {job_id!r} in this store. Start a new one.")
        return
    if kinds and job.kind not in kinds:
        st.warning(f"Job {job_id} is of kind {job.kind}; this page shows {' and '.join(kinds)} jobs. Open it on the "
                   f"{PAGE_OF_KIND.get(job.kind, ('Jobs',))[0]} page (the Jobs page lists every job).")
        return
    running = not job.finished

    @st.fragment(run_every=_POLL_SECONDS if running else None)
    def live() -> None:
        current = store.get_job(job_id)
        if current.finished and running:
            st.rerun()  # the whole page redraws once, with the result and without polling
        st.progress(current.progress, text=f"{current.kind} job — {current.status} — {100 * current.progress:.0f} %")
        st.caption(f"Job `{current.id}` · {format_duration(current)} · {current.message}")
        if not current.finished:
            if st.button("Cancel job", key=f"cancel-{job_id}", disabled=current.cancel_requested):
                manager.cancel(job_id)
                st.toast("Cancellation requested")
        # the end box is drawn with the progress label it belongs to, so that a late fragment
        # update cannot leave one without the other
        elif current.status == "done":
            st.success(f"Job finished in {format_duration(current)}.")
        elif current.status == "failed":
            st.error(f"Job failed: {current.error}")
        else:
            st.warning("Job was cancelled.")

    live()
    if job.status == "done" and show_result is not None:
        show_result(job)
