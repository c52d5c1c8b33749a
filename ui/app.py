"""matloop web app: ``streamlit run ui/app.py`` (``make app`` does this with the defaults).

The store and executor come from ``MATLOOP_STORE`` and ``MATLOOP_EXECUTOR``; pages are thin
and call the public functions of ``designs``, ``fem`` and ``engine``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

# Not "pages/": Streamlit lists a folder of that name by itself, beside st.navigation, on deep links.
_PAGES = Path(__file__).parent / "views"

navigation = st.navigation(
    {
        "matloop": [
            st.Page(_PAGES / "home.py", title="Home", icon=":material/home:", default=True),
            st.Page(_PAGES / "jobs.py", title="Jobs", icon=":material/list:"),
        ],
        "Design": [
            st.Page(_PAGES / "label_design.py", title="Label a design", icon=":material/grid_on:"),
            st.Page(_PAGES / "label_batch.py", title="Label a batch", icon=":material/dataset:"),
            st.Page(_PAGES / "library.py", title="Design library", icon=":material/table_view:"),
            st.Page(_PAGES / "spinodoid.py", title="Spinodoids", icon=":material/deployed_code:"),
            st.Page(_PAGES / "train.py", title="Train a surrogate", icon=":material/model_training:"),
            st.Page(_PAGES / "rank.py", title="Rank designs", icon=":material/leaderboard:"),
            st.Page(_PAGES / "campaigns.py", title="Campaigns", icon=":material/autorenew:"),
        ],
        "Characterise": [
            st.Page(_PAGES / "ordering.py", title="Crystal order", icon=":material/scatter_plot:"),
            st.Page(_PAGES / "softness.py", title="Glass softness", icon=":material/blur_on:"),
            st.Page(_PAGES / "holograms.py", title="Holograms", icon=":material/lens_blur:"),
            st.Page(_PAGES / "tracks.py", title="Particle tracks", icon=":material/timeline:"),
        ],
        "Tools": [
            st.Page(_PAGES / "demo_job.py", title="Job runner demo", icon=":material/speed:"),
        ],
    }
)
st.set_page_config(page_title=f"{navigation.title} · matloop", page_icon=":material/science:", layout="wide")
navigation.run()
