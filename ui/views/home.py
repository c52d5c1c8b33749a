"""Home page: what matloop does, the state of the store, recent jobs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from engine.runtime.device import describe_device
from ui.common import open_store, settings

st.title("matloop")
st.markdown(
    """
**Closed-loop materials design.** Finite-element solvers label designs — 2D soft/stiff
checkerboard composites with an edge crack (phase-field fracture → strength, toughness) and 3D
spinodoid metamaterials (periodic homogenisation → 6×6 stiffness). Torch surrogates learn the
labels and rank candidates inside genetic and self-learning search loops; winning designs
export to STL for 3D printing. Companion analyses characterise particle systems.

Everything here is also available headless from the `matloop` command line
(`matloop --help`) and from Python. Long work runs as **background jobs**: start one, leave
the page, come back — its progress is kept in the campaign store.
"""
)

#: Every page of the app with what it does, in the navigation's order (a test checks both match).
PAGES: tuple[tuple[str, str, str], ...] = (
    ("Design", "views/label_design.py", "Label a design: draw or randomise a plate, run the fracture solver, "
     "see the stress–strain curve and damage field, print it (3MF/STL)"),
    ("Design", "views/label_batch.py", "Label a batch: many random or uploaded designs in one background job"),
    ("Design", "views/library.py", "Design library: every stored design and label; filter, sort, compare, "
     "upload, export"),
    ("Design", "views/rank.py", "Rank designs: score many candidates with a trained model and label the best"),
    ("Design", "views/spinodoid.py", "Spinodoids: homogenised 6×6 stiffness of a spinodoid cell, STL"),
    ("Design", "views/train.py", "Train a surrogate: CNN or linear model on the stored labels"),
    ("Design", "views/campaigns.py", "Campaigns: closed-loop search (random, genetic, self-learning, Bayesian, "
     "inverse) with a budget of solver calls"),
    ("Characterise", "views/ordering.py", "Crystal order: classify particle environments (supervised and "
     "unsupervised)"),
    ("Characterise", "views/softness.py", "Glass softness: structure functions, softness and propensity"),
    ("Characterise", "views/holograms.py", "Holograms: find particles in a hologram and measure their position, "
     "radius and refractive index (Lorenz–Mie fits)"),
    ("Characterise", "views/tracks.py", "Particle tracks: MSD, diffusion coefficients, populations"),
    ("matloop", "views/jobs.py", "Jobs: every background job, live, with a link to its result"),
    ("Tools", "views/demo_job.py", "Job runner demo: a short job to see progress, reattach and cancel"),
)

st.subheader("What you can do here")
for section in dict.fromkeys(section for section, _, _ in PAGES):
    st.markdown(f"**{section}**")
    for _, page, text in (entry for entry in PAGES if entry[0] == section):
        title, _, what = text.partition(": ")
        st.page_link(page, label=f"{title} — {what}")

store = open_store()
config = settings()
status = store.status()
try:
    device = describe_device(config.device)
except ValueError as exc:
    device = f"invalid MATLOOP_DEVICE ({exc})"

st.subheader("Campaign store")
cols = st.columns(5)
cols[0].metric("Designs", status.designs)
cols[1].metric("Labels", status.labels_ok, help=f"{status.labels_failed} failed labels not counted")
cols[2].metric("Campaigns", status.campaigns)
cols[3].metric("Models", status.models)
cols[4].metric("Jobs running", status.jobs_running)
st.caption(
    f"Store `{status.path}` · schema v{status.schema_version} · {status.size_bytes / 1024:.0f} KiB · "
    f"executor `{config.executor}` · device {device}"
)

st.subheader("Recent jobs")
jobs = store.jobs(limit=10)
if not jobs:
    st.info("No jobs yet. Try the **Job runner demo** page.")
else:
    st.dataframe(
        pd.DataFrame(
            {
                "id": [job.id[:12] for job in jobs],
                "kind": [job.kind for job in jobs],
                "status": [job.status for job in jobs],
                "progress": [job.progress for job in jobs],
                "message": [job.error or job.message for job in jobs],
                "created": [pd.Timestamp(job.created_at, unit="s") for job in jobs],
            }
        ),
        hide_index=True,
        column_config={"progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=1)},
    )
