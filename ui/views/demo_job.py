"""Job runner demo: a few seconds of real numerical work run as a background job.

Each step computes the spectrum of a random GOE matrix; Wigner's semicircle law predicts
λmax / (2√n) → 1, so the result is checkable at a glance.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from engine.runtime.demo import DEMO_DEFAULTS
from engine.store import JobRecord
from ui.common import CheckedNumbers, job_manager, open_store
from ui.job_panel import attach_job, attached_job_id, job_panel

st.title("Job runner demo")
st.markdown(
    "Starts a background job that draws random symmetric matrices (Gaussian orthogonal "
    "ensemble) and computes their largest eigenvalue. Wigner's semicircle law predicts "
    "λmax / (2√n) → 1. Reload the page or come back later: the job keeps running and the page "
    "finds it again from the link."
)
store = open_store()
manager = job_manager(store)

with st.form("demo-job", enter_to_submit=False):
    numbers = CheckedNumbers()
    cols = st.columns(3)
    steps = numbers.number("Matrices", DEMO_DEFAULTS["steps"], 1, 10_000, where=cols[0], help="matrices drawn")
    size = numbers.number("Matrix order n", DEMO_DEFAULTS["size"], 2, 5_000, where=cols[1], help="rows of each matrix")
    seed = numbers.number("Seed", DEMO_DEFAULTS["seed"], 0, 2**31 - 1, where=cols[2], help="of the random matrices")
    start = st.form_submit_button("Start demo job", type="primary")
    if start:
        numbers.summary("The demo job")

if start and numbers.ok:
    job_id = manager.submit("demo", {"steps": int(steps), "size": int(size), "seed": int(seed)})
    attach_job(job_id)


def show_result(job: JobRecord) -> None:
    """Mean ratio and the ratio of each matrix."""
    result = job.result
    st.metric("mean λmax / (2√n)", f"{result['mean_ratio']:.4f}", help="Wigner's prediction: 1 for large n")
    figure = go.Figure(go.Scatter(y=result["ratios"], mode="markers", name="matrix"))
    figure.add_hline(y=1.0, line_dash="dash", annotation_text="semicircle edge")
    figure.update_layout(xaxis_title="matrix", yaxis_title="λmax / (2√n)", height=320)
    st.plotly_chart(figure)


job_id = attached_job_id()
if job_id:
    job_panel(store, manager, job_id, show_result, kinds=("demo",))
